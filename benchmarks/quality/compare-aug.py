#!/usr/bin/env python3
"""compare-aug.py BUILD_DIR DATASET_DIR [--epochs E] [--seed S] [--imgsz PX] [--work DIR]

Side-by-side statistics of what the two trainers feed their models on one dataset of
the quality suite (benchmarks/quality/make-suite.py: DATASET_DIR holds packed/ and
yolo/): dyolo's training pipeline (`dyolo bench loader --dump`) and Ultralytics
YOLOv5 v7.0's own create_dataloader with hyp.scratch-low (mosaic, random affine,
HSV, flips), both at batch 16, for E epochs; and both validation pipelines
(rectangular batches of 32).  Prints a markdown table: pixel mean and spread per
channel, the share of near-grey pixels, sharpness (mean absolute difference of
adjacent pixels: resampling blur), targets per image and box width/height
(mean, spread), and, for validation, the mean absolute pixel difference of the two
trainers' inputs (same images, same letterbox) and the share of values that differ.

The two use different random numbers, so the training rows agree in distribution,
not pixel for pixel; a difference of a few grey levels or a few percent of box size
is the place to look for an augmentation bug.  Run it with the harness's venv
(benchmarks/quality/.venv/bin/python, made by setup-ultralytics.sh).
"""
import argparse
import os
import random
import subprocess
import sys

import numpy as np


def read_dump(prefix):
    """(batches as views into a memory map of PREFIX.u8, targets): no copy of the pixels."""
    heads, targets = [], []
    for line in open(prefix + ".txt"):
        f = line.split()
        if f[0] == "B":
            heads.append(tuple(int(x) for x in f[3:7]))
        else:
            targets.append([float(x) for x in f])
    raw = np.memmap(prefix + ".u8", dtype=np.uint8, mode="r")
    batches, off = [], 0
    for n, h, w, _ in heads:
        k = n * 3 * h * w
        batches.append(raw[off:off + k].reshape(n, 3, h, w))
        off += k
    if off != raw.size:
        sys.exit("compare-aug: %s.u8 holds %d bytes, its .txt describes %d" % (prefix, raw.size, off))
    return batches, np.array(targets, dtype=np.float64).reshape(-1, 6)


def ultra_dump(yolo_dir, imgsz, epochs, seed, prefix, val):
    os.environ.setdefault("YOLOV5_CONFIG_DIR", os.path.join(os.path.dirname(prefix), "yolov5-config"))
    import torch
    import yaml
    import yolov5
    from yolov5.utils.dataloaders import create_dataloader
    hyp = yaml.safe_load(open(os.path.join(os.path.dirname(yolov5.__file__), "data", "hyps", "hyp.scratch-low.yaml")))
    random.seed(seed), np.random.seed(seed), torch.manual_seed(seed)
    split = "val" if val else "train"
    kw = dict(hyp=hyp, cache=None, rank=-1, workers=0, prefix=split + ": ")
    if val:
        dl = create_dataloader(os.path.join(yolo_dir, "images", split), imgsz, 32, 32, False, rect=True, pad=0.5, **kw)[0]
    else:
        dl = create_dataloader(os.path.join(yolo_dir, "images", split), imgsz, 16, 32, False, augment=True, rect=False,
                               shuffle=True, **kw)[0]
    with open(prefix + ".u8", "wb") as fi, open(prefix + ".txt", "w") as ft:
        for e in range(1 if val else epochs):
            for i, (imgs, t, _, _) in enumerate(dl):
                a = imgs.numpy()
                fi.write(a.tobytes())
                ft.write("B %d %d %d %d %d %d\n" % (e, i, a.shape[0], a.shape[2], a.shape[3], t.shape[0]))
                for x in t.numpy():
                    ft.write("%d %d %.6f %.6f %.6f %.6f\n" % (int(x[0]), int(x[1]), x[2], x[3], x[4], x[5]))


def stats(batches, targets):
    # per batch, so that memory stays one batch in float (a dump is gigabytes)
    n, s1, s2, grey, nimg, hf, nhf = 0, np.zeros(3), np.zeros(3), 0, 0, 0.0, 0
    for b in batches:
        # sharpness: mean |difference| of horizontally and vertically adjacent values
        # (resampling and warping blur shows here, not in the mean or spread)
        bi = b.astype(np.int16)
        dx, dy = np.abs(np.diff(bi, axis=3)), np.abs(np.diff(bi, axis=2))
        hf += float(dx.sum() + dy.sum())
        nhf += dx.size + dy.size
        px = b.transpose(1, 0, 2, 3).reshape(3, -1).astype(np.float64)
        n += px.shape[1]
        s1 += px.sum(1)
        s2 += (px * px).sum(1)
        grey += int(((np.abs(px[0] - px[1]) < 3) & (np.abs(px[1] - px[2]) < 3)).sum())
        nimg += b.shape[0]
    mean = s1 / max(n, 1)
    w, h = targets[:, 4], targets[:, 5]
    return {"images": nimg, "mean": mean, "std": np.sqrt(np.maximum(s2 / max(n, 1) - mean * mean, 0)),
            "grey": grey / max(n, 1), "sharp": hf / max(nhf, 1), "tpi": len(targets) / max(nimg, 1), "w": (w.mean(), w.std()),
            "h": (h.mean(), h.std()), "small": float(((w * h) < 0.001).mean()) if len(w) else 0.0}


def val_diff(d, u):
    """Mean |dyolo - Ultralytics| over the validation images, each dyolo image matched
    to the closest Ultralytics image of the same shape (the two sort images of equal
    aspect ratio in different orders, so batches may hold different images)."""
    ys = [y[j] for y in u for j in range(y.shape[0])]
    tot, cnt, signed, big, diff = 0.0, 0, 0.0, 0, 0
    for x in d:
        for i in range(x.shape[0]):
            cand = [y for y in ys if y.shape == x[i].shape]
            j = int(np.argmin([np.abs(x[i].astype(np.int16) - y).mean() for y in cand]))
            dd = x[i].astype(np.int16) - cand[j]
            tot += np.abs(dd).sum()
            signed += dd.sum()
            big += int((np.abs(dd) > 8).sum())
            diff += int((dd != 0).sum())
            cnt += dd.size
    return tot / cnt, signed / cnt, big / cnt, diff / cnt


def row(name, a, b, fmt):
    print("| %s | %s | %s |" % (name, fmt(a), fmt(b)))


def table(title, d, u):
    print("\n### %s\n\n| statistic | dyolo | Ultralytics |\n|---|---|---|" % title)
    row("images", d["images"], u["images"], str)
    row("pixel mean R, G, B", d["mean"], u["mean"], lambda v: ", ".join("%.1f" % x for x in v))
    row("pixel std R, G, B", d["std"], u["std"], lambda v: ", ".join("%.1f" % x for x in v))
    row("near-grey pixels", d["grey"], u["grey"], lambda v: "%.3f" % v)
    row("sharpness (mean abs neighbour difference)", d["sharp"], u["sharp"], lambda v: "%.2f" % v)
    row("targets per image", d["tpi"], u["tpi"], lambda v: "%.2f" % v)
    row("box width (of the image)", d["w"], u["w"], lambda v: "%.3f +- %.3f" % v)
    row("box height (of the image)", d["h"], u["h"], lambda v: "%.3f +- %.3f" % v)
    row("boxes under 0.1% of the image", d["small"], u["small"], lambda v: "%.3f" % v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("dataset")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--work", default="/tmp/dyolo-compare-aug")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    dy = os.path.join(a.build, "dyolo")
    packed, yolo = os.path.join(a.dataset, "packed"), os.path.join(a.dataset, "yolo")
    for split, extra in (("train", ["--epochs", str(a.epochs), "--seed", str(a.seed), "--batch", "16"]),
                         ("val", ["--val", "--batch", "32"])):
        manifest = os.path.join(packed, split + ".manifest.json")
        if not os.path.exists(manifest):  # not packed by the harness yet: pack into WORK, not into the suite
            manifest = os.path.join(a.work, "packed", split + ".manifest.json")
            os.makedirs(os.path.dirname(manifest), exist_ok=True)
            subprocess.run([dy, "pack", "--format", "voc", "--input", a.dataset, "--split", split, "--out",
                            manifest[:-len(".manifest.json")]], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([dy, "bench", "loader", "--data", manifest, "--imgsz",
                        str(a.imgsz), "--dump", os.path.join(a.work, "dy_" + split)] + extra, check=True)
        ultra_dump(yolo, a.imgsz, a.epochs, a.seed, os.path.join(a.work, "ul_" + split), split == "val")
    print("# dyolo vs Ultralytics inputs: %s, %d px, %d training epochs, seed %d" % (a.dataset, a.imgsz, a.epochs,
                                                                                     a.seed))
    for split in ("train", "val"):
        d, u = read_dump(os.path.join(a.work, "dy_" + split)), read_dump(os.path.join(a.work, "ul_" + split))
        table("%s (%s)" % (split, "augmented, different random draws" if split == "train" else "same images"),
              stats(*d), stats(*u))
        if split == "val":
            same = [x.shape == y.shape for x, y in zip(d[0], u[0])]
            if all(same) and len(d[0]) == len(u[0]):
                print("\nValidation inputs, same batch shapes (images matched by content): mean |dyolo - Ultralytics| %.2f grey levels, mean "
                      "signed difference %.2f, %.4f of the values differ by more than 8, %.4f differ at all." % val_diff(d[0], u[0]))
            else:
                print("\nValidation batch shapes differ: %s vs %s" % ([x.shape for x in d[0]], [x.shape for x in u[0]]))


if __name__ == "__main__":
    main()
