# tests/nn/local.mk -- tests of the tensor backend, the layer graph, the YOLOv5 model and loss.
