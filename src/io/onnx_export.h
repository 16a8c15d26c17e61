/* onnx_export.h -- writes a yolo_model as an ONNX model for deployment (onnxruntime,
 * TensorRT, OpenVINO), shaped as YOLOv5's own `export.py --include onnx` writes it:
 * input "images" float32 [batch, 3, H, W] in 0..1 (NCHW), output "output0" float32
 * [batch, anchors, 5 + nc] holding the decoded boxes (cx, cy, w, h in input pixels),
 * objectness and class scores -- the same numbers as yolo_model_forward(m, x, 0) +
 * yolo_model_decode.  BN is folded into the convolutions, SiLU is Sigmoid + Mul, and
 * the Detect decode is part of the graph.  Encoded with protobuf-c against the subset
 * of the ONNX schema in src/io/onnx.proto.
 *
 * defines: onnx_export_opts, onnx_export_fault, onnx_export_defaults, onnx_export */
#ifndef DY_IO_ONNX_EXPORT_H
#define DY_IO_ONNX_EXPORT_H

#include "model/model.h"

#define ONNX_EXPORT_OPSET_MIN 11
#define ONNX_EXPORT_OPSET_MAX 21

/* Deliberate mistakes, for tests that show the ONNX comparison catches them. */
typedef enum {
    ONNX_FAULT_NONE = 0,
    ONNX_FAULT_NO_BN_FOLD, /* raw conv weights, BN dropped */
    ONNX_FAULT_BN_EPS,     /* folds with PyTorch's default eps 1e-5 instead of 1e-3 */
    ONNX_FAULT_GRID,       /* grid without YOLOv5's -0.5 offset */
} onnx_export_fault;

typedef struct {
    int h, w;          /* input size: multiples of the model's largest stride */
    int batch;         /* fixed batch size, or 0: dynamic (dimension "batch") */
    int opset;         /* ONNX_EXPORT_OPSET_MIN..MAX */
    int half;          /* float16 weights and compute inside, float32 input/output */
    int nc;            /* class names for the "names" metadata (may be 0/NULL) */
    char *const *names;
    const char *source; /* written into doc_string (the weights file), may be NULL */
    onnx_export_fault fault;
} onnx_export_opts;

/* 640 x 640, batch 1, opset 12, float32, no names. */
void onnx_export_defaults(onnx_export_opts *o);

/* Writes path (via path.tmp + rename).  Reads the model's parameters and BN buffers
 * (any backend); the node shapes are recomputed for h x w and restored afterwards,
 * so a planned model can keep running at its planned size. */
dy_status onnx_export(yolo_model *m, const onnx_export_opts *o, const char *path);

#endif
