#!/usr/bin/env python3
"""onnx_check.py -- checks one ONNX model exported by `dyolo export --format onnx`
(tests/io/onnx_export.sh runs it): onnx.checker (with shape inference), the YOLOv5
interface (input "images" float32 [B,3,H,W], output "output0" [B,anchors,5+nc],
metadata "stride" and "names"), then onnxruntime on the images dyolo saw against
dyolo's own eval-mode decoded output (tests/io/onnx_ref dump).

The error is measured as YOLOv5's tests do, max |diff| / max |ref|, separately for the
boxes (columns 0-3, pixels) and the scores (4.., 0..1), so a score error cannot hide
behind the larger box scale.

usage: onnx_check.py MODEL.onnx REF_PREFIX BATCH H W TOL [NAMES]
exit: 0 equal within TOL, 3 outside TOL (what the fault tests expect), 1 anything else.
"""
import ast
import sys

import numpy as np
import onnx
import onnxruntime as ort


def fail(msg, code=1):
    print(f"onnx_check: {msg}")
    sys.exit(code)


def main():
    if len(sys.argv) not in (7, 8):
        fail(__doc__.split("usage: ")[1].split("\n")[0])
    path, prefix = sys.argv[1], sys.argv[2]
    b, h, w = (int(v) for v in sys.argv[3:6])
    tol = float(sys.argv[6])
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    graph = model.graph
    if [i.name for i in graph.input] != ["images"] or [o.name for o in graph.output] != ["output0"]:
        fail(f"inputs {[i.name for i in graph.input]}, outputs {[o.name for o in graph.output]}")
    for v in (graph.input[0], graph.output[0]):
        if v.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            fail(f"{v.name} is not float32")
    meta = {p.key: p.value for p in model.metadata_props}
    names = ast.literal_eval(meta["names"])
    if len(sys.argv) == 8 and list(names.values()) != sys.argv[7].split(","):
        fail(f"metadata names {names} != {sys.argv[7]}")
    ops = sorted({n.op_type for n in graph.node})
    if "BatchNormalization" in ops:
        fail("BatchNormalization left in the graph (BN must be folded)")

    img = np.fromfile(prefix + ".u8", dtype=np.uint8).reshape(b, 3, h, w)
    ref = np.fromfile(prefix + ".f32", dtype=np.float32).reshape(b, -1, 5 + len(names))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    # Plain kernels: the graph optimisations would re-fuse what is under test.
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    (out,) = sess.run(["output0"], {"images": img.astype(np.float32) / 255.0})
    if out.shape != ref.shape:
        fail(f"output shape {out.shape} != dyolo's {ref.shape}")
    worst = 0.0
    for what, cols in (("boxes", slice(0, 4)), ("scores", slice(4, None))):
        r, o = ref[..., cols].astype(np.float64), out[..., cols].astype(np.float64)
        err = np.abs(o - r).max() / max(np.abs(r).max(), 1e-12)
        worst = max(worst, err)
        print(f"# {what}: max|diff|/max|ref| = {err:.3g} (max|ref| {np.abs(r).max():.4g})")
    print(f"# opset {model.opset_import[0].version}, ir {model.ir_version}, ops {' '.join(ops)}, "
          f"stride {meta['stride']}, output {list(out.shape)}")
    if worst > tol:
        fail(f"{path}: onnxruntime differs from dyolo by {worst:.3g} of scale (tolerance {tol:g})", 3)
    print(f"onnx_check: {path}: OK at batch {b}, {h}x{w} ({worst:.3g} <= {tol:g})")


if __name__ == "__main__":
    main()
