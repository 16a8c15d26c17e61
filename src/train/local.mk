# src/train/local.mk -- optimizer, LR schedule, EMA, loss scaler.
libdyolo_a_SOURCES +=
