#!/usr/bin/env python3
"""make-hsv-fixture.py OUT -- reference bytes of YOLOv5's HSV augmentation for
tests/data/test_data_unit.c (check_hsv_opencv): YOLOv5 v7.0's augment_hsv formula
(float64 gain LUTs, truncated; hue wraps at 180) between OpenCV's 8-bit
BGR<->HSV conversions, for 256 colours (random, greys, extremes) under 6 gain
sets.  The colours form one row of 256 pixels, a multiple of every SIMD block
OpenCV uses, so every pixel takes its vector path (the one YOLOv5's images take:
all but the last pixels of a row).  Each gain is a float32 value, as dyolo draws
them.  Output lines: gh gs gv r g b R G B (gains as %.9g, bytes in, bytes out).

Run with the quality harness's venv (benchmarks/quality/setup-ultralytics.sh:
numpy and opencv-python as Ultralytics installs them); it prints cv2's version,
which the fixture's first line records.
"""
import sys

import cv2
import numpy as np

GAINS = [(1.0, 1.0, 1.0), (1.013, 1.61, 0.71), (0.986, 0.31, 1.39), (1.0149, 1.0, 0.6),
         (-0.4, 2.7, 0.05), (2.6, 0.0, 3.0)]


def augment_hsv(bgr, r):
    """YOLOv5 v7.0 utils/augmentations.py augment_hsv with the gains r (no draw)."""
    hue, sat, val = cv2.split(cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV))
    x = np.arange(0, 256, dtype=r.dtype)
    lut_hue = ((x * r[0]) % 180).astype(np.uint8)
    lut_sat = np.clip(x * r[1], 0, 255).astype(np.uint8)
    lut_val = np.clip(x * r[2], 0, 255).astype(np.uint8)
    im_hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
    return cv2.cvtColor(im_hsv, cv2.COLOR_HSV2BGR)


def main():
    rng = np.random.default_rng(20261207)
    rgb = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    rgb[:32] = np.repeat(np.linspace(0, 255, 32).astype(np.uint8)[:, None], 3, 1)  # greys
    rgb[32:40] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255],
                  [255, 255, 255], [0, 0, 0]]
    with open(sys.argv[1], "w") as f:
        f.write("# make-hsv-fixture.py, OpenCV %s, numpy %s\n" % (cv2.__version__, np.__version__))
        for g in GAINS:
            r = np.array(g, dtype=np.float32).astype(np.float64)
            out = augment_hsv(np.ascontiguousarray(rgb[None, :, ::-1]), r)[0, :, ::-1]
            for a, b in zip(rgb, out):
                f.write("%.9g %.9g %.9g %d %d %d %d %d %d\n" % (*[np.float32(x) for x in g], *a, *b))
    print("OpenCV", cv2.__version__)


if __name__ == "__main__":
    main()
