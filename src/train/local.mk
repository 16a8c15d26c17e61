# src/train/local.mk -- training-loop support written so far: preemption signals.
libdyolo_a_SOURCES += src/train/signals.c src/train/signals.h
