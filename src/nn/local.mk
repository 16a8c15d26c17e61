# src/nn/local.mk -- the layer graph built on backend ops.
libdyolo_a_SOURCES += src/nn/graph.h src/nn/graph.c src/nn/graph_input.c
