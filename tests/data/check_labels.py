#!/usr/bin/env python3
"""check_labels.py -- compare `test_shard_dump --labels` output with the labels of the
source dataset, normalized the way `dyolo pack` documents it (datasets/README.md):
boxes to [0,1] by the image size, clipped, zero-area and duplicate boxes dropped.

usage: check_labels.py yolo DATA_YAML_DIR SPLIT DUMP
       check_labels.py voc ROOT SPLIT|- DUMP
       check_labels.py coco JSON DUMP
Prints mismatches and exits 1 if there are any.  Standard library only."""
import json
import os
import sys
import xml.etree.ElementTree as ET


def norm(boxes):
    """boxes: (name, cls, x0, y0, x1, y1, flags) normalized -> pack's rows."""
    out, seen = [], set()
    for name, c, x0, y0, x1, y1, fl in boxes:
        x0, y0, x1, y1 = (min(1.0, max(0.0, v)) for v in (x0, y0, x1, y1))
        if x1 - x0 <= 1e-6 or y1 - y0 <= 1e-6:
            continue
        row = (name, c, round((x0 + x1) / 2, 4), round((y0 + y1) / 2, 4), round(x1 - x0, 4), round(y1 - y0, 4), fl)
        if row in seen:
            continue
        seen.add(row)
        out.append(row)
    return out


def yolo(root, split):
    rows = []
    img_dir = os.path.join(root, "images", split)
    for f in sorted(os.listdir(img_dir)):
        stem = os.path.splitext(f)[0]
        name = "images/%s/%s" % (split, f)
        lab = os.path.join(root, "labels", split, stem + ".txt")
        boxes = []
        if os.path.exists(lab):
            for line in open(lab):
                v = line.split()
                if len(v) == 5:
                    c, cx, cy, w, h = int(v[0]), *map(float, v[1:])
                    boxes.append((name, c, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, 0))
                elif len(v) > 5:
                    xs, ys = list(map(float, v[1::2])), list(map(float, v[2::2]))
                    boxes.append((name, int(v[0]), min(xs), min(ys), max(xs), max(ys), 0))
        rows.append((name, norm(boxes)))
    return rows


def voc(root, split):
    ann = os.path.join(root, "Annotations")
    stems = sorted(os.path.splitext(f)[0] for f in os.listdir(ann) if f.endswith(".xml"))
    names = sorted({o.find("name").text for s in stems for o in ET.parse(os.path.join(ann, s + ".xml")).findall("object")})
    if split != "-":
        stems = [l.split()[0] for l in open(os.path.join(root, "ImageSets", "Main", split + ".txt")) if l.strip()]
    rows = []
    for s in stems:
        t = ET.parse(os.path.join(ann, s + ".xml"))
        w, h = float(t.find("size/width").text), float(t.find("size/height").text)
        name = "JPEGImages/" + t.find("filename").text
        boxes = []
        for o in t.findall("object"):
            b = o.find("bndbox")
            x0, y0, x1, y1 = (float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax"))
            d = o.find("difficult")
            fl = 2 if d is not None and int(d.text) else 0
            boxes.append((name, names.index(o.find("name").text), (x0 - 1) / w, (y0 - 1) / h, (x1 - 1) / w, (y1 - 1) / h, fl))
        rows.append((name, norm(boxes)))
    return rows


def coco(path):
    d = json.load(open(path))
    ids = sorted(c["id"] for c in d["categories"])
    imgs = {i["id"]: i for i in d["images"]}
    per = {i: [] for i in imgs}
    for a in d["annotations"]:
        if a["category_id"] not in ids or a["image_id"] not in imgs:
            continue
        im = imgs[a["image_id"]]
        x, y, w, h = a["bbox"]
        W, H = float(im["width"]), float(im["height"])
        per[a["image_id"]].append((im["file_name"], ids.index(a["category_id"]), x / W, y / H, (x + w) / W,
                                   (y + h) / H, 1 if a.get("iscrowd") else 0))
    return [(imgs[i]["file_name"], norm(per[i])) for i in sorted(imgs)]


def main():
    kind = sys.argv[1]
    if kind == "yolo":
        want, dump = yolo(sys.argv[2], sys.argv[3]), sys.argv[4]
    elif kind == "voc":
        want, dump = voc(sys.argv[2], sys.argv[3]), sys.argv[4]
    else:
        want, dump = coco(sys.argv[2]), sys.argv[3]
    got = {}
    order = []
    for line in open(dump):
        v = line.split()
        if v[0] not in got:
            got[v[0]] = []
            order.append(v[0])
        if v[1] != "-":
            got[v[0]].append((v[0], int(v[1]), *map(float, v[2:6]), int(v[6])))
    bad = 0
    if order != [n for n, _ in want]:
        print("# sample order differs: got %s... want %s..." % (order[:3], [n for n, _ in want][:3]))
        bad += 1
    for name, rows in want:
        g = sorted(got.get(name, []))
        w = sorted(rows)
        if len(g) != len(w) or any(a[1] != b[1] or a[6] != b[6] or max(abs(a[k] - b[k]) for k in range(2, 6)) > 2e-4
                                   for a, b in zip(g, w)):
            bad += 1
            if bad < 6:
                print("# %s: got %s want %s" % (name, g[:3], w[:3]))
    print("# %d samples, %d boxes compared, %d mismatches" % (len(want), sum(len(r) for _, r in want), bad))
    sys.exit(1 if bad else 0)


main()
