#!/usr/bin/env python3
"""opencv_loader_ref.py -- the OpenCV reference for `dyolo bench loader`: the same
work Ultralytics' YOLOv5 LoadImagesAndLabels does per training sample, single
threaded (cv2.setNumThreads(1)), on the same JPEG files:
  load_image: cv2.imdecode + resize (long side -> imgsz, INTER_LINEAR)
  load_mosaic: 4 images on a 2s x 2s canvas filled with 114
  random_perspective: cv2.warpAffine to s x s, borderValue 114 (scale 0.5, translate 0.1)
  augment_hsv: BGR->HSV, LUTs on H/S/V, HSV->BGR (gains 0.015/0.7/0.4)
  fliplr (p 0.5), then HWC->CHW, BGR->RGB, contiguous (as __getitem__ returns it)
Stages reported like the C benchmark: decode+resize, augment (mosaic) on decoded
images, whole pipeline (wall clock, and per CPU second of the process).  Bytes are read into memory first (favouring OpenCV).

usage: opencv_loader_ref.py --images DIR [--imgsz 640] [--samples 128] [--markdown]
needs: pip install opencv-python-headless numpy"""
import argparse
import math
import os
import random
import time

import cv2
import numpy as np


def load_image(buf, s):
    im = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR)
    h0, w0 = im.shape[:2]
    r = s / max(h0, w0)
    if r != 1:
        im = cv2.resize(im, (math.ceil(w0 * r), math.ceil(h0 * r)), interpolation=cv2.INTER_LINEAR)
    return im


def mosaic(imgs, s, rnd):
    yc, xc = (int(rnd.uniform(s // 2, 3 * s // 2)) for _ in range(2))
    img4 = np.full((s * 2, s * 2, 3), 114, dtype=np.uint8)
    for i, img in enumerate(imgs):
        h, w = img.shape[:2]
        if i == 0:
            x1a, y1a, x2a, y2a = max(xc - w, 0), max(yc - h, 0), xc, yc
            x1b, y1b, x2b, y2b = w - (x2a - x1a), h - (y2a - y1a), w, h
        elif i == 1:
            x1a, y1a, x2a, y2a = xc, max(yc - h, 0), min(xc + w, s * 2), yc
            x1b, y1b, x2b, y2b = 0, h - (y2a - y1a), min(w, x2a - x1a), h
        elif i == 2:
            x1a, y1a, x2a, y2a = max(xc - w, 0), yc, xc, min(s * 2, yc + h)
            x1b, y1b, x2b, y2b = w - (x2a - x1a), 0, w, min(y2a - y1a, h)
        else:
            x1a, y1a, x2a, y2a = xc, yc, min(xc + w, s * 2), min(s * 2, yc + h)
            x1b, y1b, x2b, y2b = 0, 0, min(w, x2a - x1a), min(y2a - y1a, h)
        img4[y1a:y2a, x1a:x2a] = img[y1b:y2b, x1b:x2b]
    return img4


def random_affine(img, s, border, rnd, translate=0.1, scale=0.5):
    height, width = img.shape[0] + border * 2, img.shape[1] + border * 2
    C = np.eye(3)
    C[0, 2], C[1, 2] = -img.shape[1] / 2, -img.shape[0] / 2
    R = np.eye(3)
    R[:2] = cv2.getRotationMatrix2D(angle=0, center=(0, 0), scale=rnd.uniform(1 - scale, 1 + scale))
    T = np.eye(3)
    T[0, 2] = rnd.uniform(0.5 - translate, 0.5 + translate) * width
    T[1, 2] = rnd.uniform(0.5 - translate, 0.5 + translate) * height
    M = T @ R @ C
    return cv2.warpAffine(img, M[:2], dsize=(width, height), borderValue=(114, 114, 114))


def augment_hsv(im, rnd, hgain=0.015, sgain=0.7, vgain=0.4):
    r = np.array([rnd.uniform(-1, 1) * hgain + 1, rnd.uniform(-1, 1) * sgain + 1, rnd.uniform(-1, 1) * vgain + 1])
    hue, sat, val = cv2.split(cv2.cvtColor(im, cv2.COLOR_BGR2HSV))
    x = np.arange(0, 256, dtype=r.dtype)
    lut_hue = ((x * r[0]) % 180).astype(np.uint8)
    lut_sat = np.clip(x * r[1], 0, 255).astype(np.uint8)
    lut_val = np.clip(x * r[2], 0, 255).astype(np.uint8)
    im_hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
    cv2.cvtColor(im_hsv, cv2.COLOR_HSV2BGR, dst=im)


def augment(imgs, s, rnd):
    img = random_affine(mosaic(imgs, s, rnd), s, -s // 2, rnd)
    augment_hsv(img, rnd)
    if rnd.random() < 0.5:
        img = np.fliplr(img)
    return np.ascontiguousarray(img.transpose((2, 0, 1))[::-1])


def row(md, stage, n, secs, nbytes):
    sps = n / secs
    if md:
        print("| %-22s | jpeg | %7d | %9.1f | %9.1f | %12.1f |" % (stage, 1, sps, nbytes / secs / 1e6, sps))
    else:
        print("%s: %.1f samples/s, %.1f MB/s" % (stage, sps, nbytes / secs / 1e6))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per stage")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    files = sorted(f for f in os.listdir(a.images) if f.lower().endswith((".jpg", ".jpeg")))
    bufs = [open(os.path.join(a.images, f), "rb").read() for f in files][: a.samples]
    n, s, rnd = len(bufs), a.imgsz, random.Random(1)
    if a.markdown:
        print("| stage                  | enc  | threads | samples/s |      MB/s | per thread/s |")
        print("|------------------------|------|---------|-----------|-----------|--------------|")
    cpu = []

    def best(fn):
        t = []
        for _ in range(a.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            t.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return min(t)

    loaded = [load_image(b, s) for b in bufs]
    row(a.markdown, "opencv decode+resize", n, best(lambda: [load_image(b, s) for b in bufs]),
        sum(im.nbytes for im in loaded))
    partners = [[i] + [rnd.randrange(n) for _ in range(3)] for i in range(n)]
    row(a.markdown, "opencv augment (mosaic)", n, best(lambda: [augment([loaded[k] for k in p], s, rnd) for p in partners]),
        n * 3 * s * s)
    del cpu[:]
    row(a.markdown, "opencv whole pipeline", n,
        best(lambda: [augment([load_image(bufs[k], s) for k in p], s, rnd) for p in partners]), n * 3 * s * s)
    # per CPU second of this process: the per-core rate that other jobs' load does not dilute
    row(a.markdown, "opencv whole, per CPU s", n, min(cpu), n * 3 * s * s)


main()
