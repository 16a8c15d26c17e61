#!/usr/bin/env python3
"""ultra_step.py -- Ultralytics' own training step as the reference for `dyolo bench
step` (benchmarks/run-step.sh): YOLOv5 v7.0's model code (the yolov5==7.0.14 package:
models.yolo.Model from yolov5n.yaml / yolov5s.yaml), its ComputeLoss with the default
hyp.scratch-low, and backward, on random images with 4 random boxes per image, eager
mode, CPU, the given batch, input size and threads.  Prints "torch images/s X" (the
line dyolo's --torch option and run-step.sh read) and the torch version and build.

Run it with the quality harness's venv (benchmarks/quality/setup-ultralytics.sh), with
benchmarks/quality/ultra_stubs on PYTHONPATH (run-step.sh does both).
"""
import argparse
import os
import time

import torch
import yaml


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="configs/models/yolov5n.json", help="dyolo spec; its name picks yolov5n/s.yaml")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--nc", type=int, default=80)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    from yolov5.models.yolo import Model
    from yolov5.utils.loss import ComputeLoss
    import yolov5
    size = "s" if "yolov5s" in os.path.basename(a.spec) else "n"
    pkg = os.path.dirname(yolov5.__file__)
    model = Model(os.path.join(pkg, "models", "yolov5%s.yaml" % size), ch=3, nc=a.nc).train()
    with open(os.path.join(pkg, "data", "hyps", "hyp.scratch-low.yaml")) as f:
        model.hyp = yaml.safe_load(f)
    model.nc = a.nc
    loss_fn = ComputeLoss(model)
    print("torch %s, %s; params %d; yolov5n/s from %s" % (torch.__version__, torch.backends.mkldnn.is_available() and "oneDNN" or "no oneDNN",
                                                        sum(p.numel() for p in model.parameters()), pkg))
    x = torch.rand(a.batch, 3, a.imgsz, a.imgsz)
    g = torch.Generator().manual_seed(1)
    n = 4 * a.batch
    t = torch.zeros(n, 6)
    t[:, 0] = torch.arange(n) // 4
    t[:, 1] = torch.randint(0, a.nc, (n,), generator=g).float()
    t[:, 2:4] = 0.2 + 0.6 * torch.rand(n, 2, generator=g)
    t[:, 4:6] = 0.05 + 0.3 * torch.rand(n, 2, generator=g)
    times = []
    for it in range(a.iters + 1):
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=True)
        pred = model(x)
        loss, _ = loss_fn(pred, t)
        loss.backward()
        if it:
            times.append(time.perf_counter() - t0)
    step = sum(times) / len(times)
    print("torch step %.1f ms, %.1f ms/img" % (1e3 * step, 1e3 * step / a.batch))
    print("torch images/s %.2f" % (a.batch / step))


if __name__ == "__main__":
    main()
