#!/usr/bin/env python3
"""torch_step.py -- PyTorch CPU reference for `dyolo bench step`: the same YOLOv5
architecture, built from the same JSON spec as a plain nn.Module (no ultralytics),
eager mode, same batch, input size and threads; times forward + a YOLOv5-like loss
+ backward on random data and prints "torch images/s X".  The loss here is a cheap
stand-in (mean of squares of the head outputs): the loss is <1% of dyolo's step, so
the comparison is dominated by the network, which is identical."""
import argparse, json, math, time
import torch
import torch.nn as nn


def make_div(x, d=8):
    return math.ceil(x / d) * d


class Conv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, p=None):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True):
        super().__init__()
        self.cv1, self.cv2 = Conv(c1, c2, 1), Conv(c2, c2, 3)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=True):
        super().__init__()
        c_ = c2 // 2
        self.cv1, self.cv2, self.cv3 = Conv(c1, c_, 1), Conv(c1, c_, 1), Conv(2 * c_, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1, self.cv2 = Conv(c1, c_, 1), Conv(c_ * 4, c2, 1)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Concat(nn.Module):
    def forward(self, xs):
        return torch.cat(xs, 1)


class Detect(nn.Module):
    def __init__(self, nc, na, ch):
        super().__init__()
        self.m = nn.ModuleList(nn.Conv2d(c, na * (5 + nc), 1) for c in ch)

    def forward(self, xs):
        return [m(x) for m, x in zip(self.m, xs)]


class Model(nn.Module):
    def __init__(self, spec):
        super().__init__()
        gd, gw, nc = spec["depth_multiple"], spec["width_multiple"], spec["nc"]
        na = len(spec["anchors"][0]) // 2
        ch, layers, self.froms = [3], [], []
        for i, (f, n, m, args) in enumerate(spec["backbone"] + spec["head"]):
            n = max(round(n * gd), 1) if n > 1 else n
            c1 = ch[f] if isinstance(f, int) else None
            if m == "Conv":
                c2 = make_div(args[0] * gw)
                mod = Conv(c1, c2, *args[1:])
            elif m == "C3":
                c2 = make_div(args[0] * gw)
                mod = C3(c1, c2, n, *(args[1:] or [True]))
            elif m == "SPPF":
                c2 = make_div(args[0] * gw)
                mod = SPPF(c1, c2, args[1])
            elif m == "nn.Upsample":
                c2, mod = c1, nn.Upsample(None, 2, "nearest")
            elif m == "Concat":
                c2, mod = sum(ch[x] for x in f), Concat()
            elif m == "Detect":
                c2, mod = None, Detect(nc, na, [ch[x] for x in f])
            layers.append(mod)
            self.froms.append(f)
            if i == 0:
                ch = []  # from here on ch[j] is the output channels of layer j
            ch.append(c2)
        self.model = nn.ModuleList(layers)

    def forward(self, x):
        ys = []
        for f, m in zip(self.froms, self.model):
            if f != -1:
                x = ys[f] if isinstance(f, int) else [x if j == -1 else ys[j] for j in f]
            x = m(x)
            ys.append(x)
        return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="configs/models/yolov5n.json")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Model(json.load(open(a.spec))).train()
    print("torch params", sum(p.numel() for p in model.parameters()))
    x = torch.rand(a.batch, 3, a.imgsz, a.imgsz)
    times = []
    for it in range(a.iters + 1):
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=True)
        out = model(x)
        loss = sum((o.float() ** 2).mean() for o in out)
        loss.backward()
        if it:
            times.append(time.perf_counter() - t0)
    step = sum(times) / len(times)
    print("torch step %.1f ms, %.1f ms/img" % (1e3 * step, 1e3 * step / a.batch))
    print("torch images/s %.2f" % (a.batch / step))


if __name__ == "__main__":
    main()
