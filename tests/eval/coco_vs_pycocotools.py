"""coco_vs_pycocotools.py -- build evaluation cases, evaluate each with pycocotools
and with dyolo's coco_tool on the same files, and compare (TAP output).

Cases: perfect detections, shuffled scores, duplicates, crowd ground truth, empty
images, classes without ground truth, score ties, >100 detections per image, and
random mixes over all area ranges."""
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

TOL = 1e-4


def box(rng, lo=4, hi=300):
    w, h = rng.uniform(lo, hi), rng.uniform(lo, hi)
    return [rng.uniform(0, 640 - w), rng.uniform(0, 480 - h), w, h]


def jitter(rng, b, s):
    return [b[0] + rng.gauss(0, s * b[2]), b[1] + rng.gauss(0, s * b[3]),
            b[2] * (1 + rng.gauss(0, s)), b[3] * (1 + rng.gauss(0, s))]


def make_case(name, rng):
    nimg, ncat = 12, 4
    images = [{"id": i + 1, "width": 640, "height": 480} for i in range(nimg)]
    cats = [{"id": c, "name": f"c{c}"} for c in (1, 3, 7, 9)]  # non-contiguous ids
    anns, dets = [], []
    for img in images:
        if name == "empty_images" and img["id"] % 3 == 0:
            continue
        for _ in range(rng.randint(0, 8)):
            c = rng.choice(cats)["id"]
            if name == "class_without_gt" and c == 9:
                c = 7
            b = box(rng, 2, 200) if name == "areas" else box(rng)
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": c, "bbox": b,
                         "area": b[2] * b[3],
                         "iscrowd": int(name == "crowd" and rng.random() < 0.3)})
    for a in anns:
        if name == "perfect":
            dets.append({"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0})
            continue
        for _ in range(2 if name == "duplicates" else 1):
            if rng.random() < 0.8:
                s = round(rng.random(), 1) if name == "ties" else rng.random()
                dets.append({"image_id": a["image_id"], "category_id": a["category_id"],
                             "bbox": jitter(rng, a["bbox"], 0.15), "score": s})
    nfp = 150 if name == "many_dets" else 20
    for _ in range(nfp):  # false positives, some in images without ground truth
        img = rng.choice(images)["id"] if name != "many_dets" else 1
        c = rng.choice(cats)["id"]
        s = round(rng.random(), 1) if name == "ties" else rng.random() * 0.9
        dets.append({"image_id": img, "category_id": c, "bbox": box(rng), "score": s})
    if name == "shuffled":
        rng.shuffle(dets)
    return {"images": images, "annotations": anns, "categories": cats}, dets


def pycoco(gt_path, dt_path):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    p = ev.eval["precision"][:, :, :, 0, 2]
    per_class = [float(np.mean(p[:, :, k][p[:, :, k] > -1])) if (p[:, :, k] > -1).any() else -1.0
                 for k in range(p.shape[2])]
    return [float(x) for x in ev.stats], per_class


def main():
    tool = sys.argv[1]
    names = ["perfect", "shuffled", "duplicates", "crowd", "empty_images", "class_without_gt",
             "ties", "many_dets", "areas", "random1", "random2"]
    n = 0
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed, name in enumerate(names):
            rng = random.Random(1000 + seed)
            gt, dets = make_case(name, rng)
            gp, dp = os.path.join(tmp, name + "_gt.json"), os.path.join(tmp, name + "_dt.json")
            json.dump(gt, open(gp, "w"))
            json.dump(dets, open(dp, "w"))
            want, want_cls = pycoco(gp, dp)
            out = subprocess.run([tool, gp, dp], capture_output=True, text=True)
            n += 1
            if out.returncode != 0:
                print(f"not ok {n} - {name}: coco_tool failed: {out.stderr.strip()}")
                failed += 1
                continue
            got = json.loads(out.stdout)
            diff = max(abs(a - b) for a, b in zip(got["stats"] + got["class_ap"], want + want_cls))
            ok = diff <= TOL and len(got["stats"]) == 12
            failed += not ok
            print(f"{'ok' if ok else 'not ok'} {n} - {name}: 12 COCO stats + per-class AP match "
                  f"pycocotools (max diff {diff:.2e}, {len(gt['annotations'])} gt, {len(dets)} dets)")
            if not ok:
                print(f"#   dyolo:       {got['stats']}\n#   pycocotools: {want}")
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
