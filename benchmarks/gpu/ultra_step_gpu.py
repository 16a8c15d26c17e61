#!/usr/bin/env python3
"""ultra_step_gpu.py -- Ultralytics' own YOLOv5 v7.0 training step, timed the way
`dyolo bench step --device cuda` times dyolo's, so both land in one table
(benchmarks/gpu/run-gpu-check.sh).

What runs is the yolov5==7.0.14 package's code, per batch as its train.py does it:
images uploaded as uint8 from pinned host memory and scaled (`imgs.to(device,
non_blocking=True).float() / 255`), forward and ComputeLoss (hyp.scratch-low) under
autocast, GradScaler-scaled backward, `scaler.unscale_`, `clip_grad_norm_(10)`,
`scaler.step` of smart_optimizer's SGD (nesterov, 3 groups), `scaler.update`,
`zero_grad`, ModelEMA.update.  Two differences from train.py, both shared with dyolo's
side: an optimizer step every batch (train.py accumulates to 64 images) and AMP forced
on or off by --amp (train.py's check_amp needs yolov5n.pt from the network).  Like
train.py it calls init_seeds(deterministic=True) (torch.use_deterministic_algorithms);
--deterministic 0 turns that off, and if an op refuses deterministic mode the run
falls back to 0 and says so in its row (det=0).

Random images, 4 random boxes per image, --warmup untimed steps, then --iters steps
between two torch.cuda.synchronize().  Peak memory: torch.cuda.max_memory_allocated
over the timed steps (reset after warm-up; the caching allocator's reserve is
printed beside it).  For every batch in --batch (comma list) it prints one line in
dyolo's bench-row format:

  bench-row tool=ultralytics model=yolov5n imgsz=640 batch=16 prec=amp ms_step=..
            img_s=.. peak_mib=.. det=1 device=NVIDIA_H100_80GB_HBM3

(TFLOP/s and MFU are computed by run-gpu-check.sh from dyolo's FLOP count for the same
model, so both sides are divided by the same work.)  On the CPU (--device cpu, a small
--imgsz) it runs the same code for a dry run; AMP there is CPU autocast (bfloat16).

Set-up: yolov5 and thop on the path and benchmarks/quality/ultra_stubs first on
PYTHONPATH (the package imports ultralytics.utils.checks, roboflow and huggingface_hub
at start-up); YOLOV5_CONFIG_DIR holding Arial.ttf.  --fallback DIR is appended to
sys.path: pure-python packages (requests, setuptools' pkg_resources, a torchvision
import stub) used only when the machine has none of its own.
"""
import argparse
import os
import sys
import time


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="yolov5n", help="yolov5n / yolov5s, or a dyolo spec path naming one")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--batch", default="16", help="comma list, e.g. 16,32,64")
    ap.add_argument("--amp", type=int, default=1, choices=(0, 1))
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--nc", type=int, default=80)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    ap.add_argument("--deterministic", type=int, default=1, choices=(0, 1))
    ap.add_argument("--fallback", default="", help="folder appended to sys.path")
    return ap.parse_args()


def autocast(torch, device, amp):
    if device.type == "cuda":
        if hasattr(torch, "amp") and hasattr(torch.amp, "autocast"):
            return torch.amp.autocast("cuda", enabled=bool(amp))
        return torch.cuda.amp.autocast(bool(amp))
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(amp))


def grad_scaler(torch, device, amp):
    on = bool(amp) and device.type == "cuda"  # train.py: GradScaler(enabled=amp), CUDA only
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        try:
            return torch.amp.GradScaler("cuda", enabled=on)
        except TypeError:
            pass
    return torch.cuda.amp.GradScaler(enabled=on)


class Side:
    """Model, loss, optimizer, EMA and a synthetic batch for one batch size."""

    def __init__(self, a, size, batch, device):
        import torch
        import yaml
        import yolov5
        from yolov5.models.yolo import Model
        from yolov5.utils.loss import ComputeLoss
        from yolov5.utils.torch_utils import ModelEMA, smart_optimizer
        pkg = os.path.dirname(yolov5.__file__)
        with open(os.path.join(pkg, "data", "hyps", "hyp.scratch-low.yaml")) as f:
            hyp = yaml.safe_load(f)
        self.model = Model(os.path.join(pkg, "models", "yolov5%s.yaml" % size), ch=3, nc=a.nc).to(device).train()
        self.model.nc, self.model.hyp = a.nc, hyp
        self.loss = ComputeLoss(self.model)
        self.opt = smart_optimizer(self.model, "SGD", hyp["lr0"], hyp["momentum"], hyp["weight_decay"])
        self.ema = ModelEMA(self.model)
        self.scaler = grad_scaler(torch, device, a.amp)
        self.device, self.amp, self.batch = device, a.amp, batch
        g = torch.Generator().manual_seed(1)
        self.imgs = torch.randint(0, 256, (batch, 3, a.imgsz, a.imgsz), dtype=torch.uint8, generator=g)
        if device.type == "cuda":
            self.imgs = self.imgs.pin_memory()
        n = 4 * batch
        t = torch.zeros(n, 6)
        t[:, 0] = torch.arange(n) // 4
        t[:, 1] = torch.randint(0, a.nc, (n,), generator=g).float()
        t[:, 4:6] = 0.05 + 0.45 * torch.rand(n, 2, generator=g)
        t[:, 2:4] = t[:, 4:6] / 2 + (1 - t[:, 4:6]) * torch.rand(n, 2, generator=g)
        self.targets = t

    def step(self, torch):
        """One batch of train.py's loop (optimizer every batch)."""
        imgs = self.imgs.to(self.device, non_blocking=True).float() / 255
        with autocast(torch, self.device, self.amp):
            pred = self.model(imgs)
            loss, _ = self.loss(pred, self.targets.to(self.device))
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.opt)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm=10.0)
        self.scaler.step(self.opt)
        self.scaler.update()
        self.opt.zero_grad()
        self.ema.update(self.model)


def sync(torch, device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_one(a, torch, size, batch, device, det):
    side = Side(a, size, batch, device)
    for _ in range(a.warmup):
        side.step(torch)
    sync(torch, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    for _ in range(a.iters):
        side.step(torch)
    sync(torch, device)
    step = (time.perf_counter() - t0) / a.iters
    peak = reserved = None
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 1048576
        reserved = torch.cuda.max_memory_reserved(device) / 1048576
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print("ultralytics %s batch %d %s: %.3f ms/step, %.2f img/s, peak allocated %s MiB, reserved %s MiB"
          % ("yolov5" + size, batch, "AMP" if a.amp else "f32", 1e3 * step, batch / step,
             "n/a" if peak is None else "%.1f" % peak, "n/a" if reserved is None else "%.1f" % reserved))
    print("bench-row tool=ultralytics model=yolov5%s imgsz=%d batch=%d prec=%s step=fwd+loss+bwd+opt iters=%d "
          "ms_step=%.3f img_s=%.2f peak_mib=%s det=%d device=%s"
          % (size, a.imgsz, batch, "amp" if a.amp else "f32", a.iters, 1e3 * step, batch / step,
             "n/a" if peak is None else "%.1f" % peak, det, name.replace(" ", "_").replace("=", "_")), flush=True)
    del side
    if device.type == "cuda":
        torch.cuda.empty_cache()


def main():
    a = parse()
    if a.fallback:
        sys.path.append(a.fallback)  # after the machine's own packages
    import torch
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    from yolov5.utils.general import init_seeds
    import yolov5
    size = "s" if "yolov5s" in os.path.basename(a.spec) else "n"
    device = torch.device(a.device)
    det = a.deterministic
    init_seeds(1, deterministic=bool(det))  # train.py: init_seeds(opt.seed + 1 + RANK, deterministic=True)
    print("torch %s (CUDA %s, cuDNN %s), yolov5 from %s, device %s, deterministic %d, cudnn.allow_tf32 %s"
          % (torch.__version__, torch.version.cuda, torch.backends.cudnn.version() if torch.backends.cudnn.is_available()
             else "none", os.path.dirname(yolov5.__file__), device, det, torch.backends.cudnn.allow_tf32), flush=True)
    for b in [int(x) for x in a.batch.split(",") if x]:
        try:
            run_one(a, torch, size, b, device, det)
        except RuntimeError as e:
            if not det or "deterministic" not in str(e):
                raise
            print("ultralytics: deterministic mode refused an op (%s); again with it off (det=0)"
                  % str(e).splitlines()[0], flush=True)
            det = 0
            torch.use_deterministic_algorithms(False)
            torch.backends.cudnn.deterministic = False
            run_one(a, torch, size, b, device, det)


if __name__ == "__main__":
    main()
