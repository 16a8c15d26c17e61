#!/usr/bin/env python3
"""make-suite.py BCCD_DIR OUT_DIR -- build the quality suite's datasets from BCCD.
make-suite.py --relabel SUITE_DIR -- rewrite an existing suite's YOLO labels from its XML.

Each dataset is a Pascal VOC tree (Annotations/, JPEGImages/, ImageSets/Main/) that
both trainers read: dyolo packs it (`dyolo pack --format voc`), the Ultralytics side
gets YOLO label files converted from the same XML (OUT/NAME/yolo/).  Every 5th image by
name goes to validation (ImageSets/Main/val.txt), the rest to train.txt, as in
benchmarks/run-bccd.sh.  Deterministic: a fixed random seed per dataset.

  wbc        BCCD's WBC class alone: one large object per image (200 images)
  platelets  Platelets alone: small objects, 1-3 per image (the 200 images with some)
  crops      random crops of BCCD images, 183x275 .. 650x480, mixed aspect ratios,
             all three classes; a box is kept (clipped) when at least 60% of it is in
             the crop (200 images)
  gray       grayscale BCCD, all three classes, saved as 1-channel JPEGs (200 images)
  wbc-mixed  WBC alone on random crops around the cell (183x275 .. 650x480), 3 of
             them grayscale: the shape of the held-out set of issue #18 (200 images)

Needs Pillow.  Boxes are written in VOC's 1-based pixel convention, as BCCD's are, and
the YOLO labels are converted from the XML's integers as dyolo's VOC import and
Ultralytics' VOC.yaml convert them (yolo_lines).
"""
import os
import random
import sys
import xml.etree.ElementTree as ET

from PIL import Image

CLASSES = ["Platelets", "RBC", "WBC"]


def read_voc(path):
    r = ET.parse(path).getroot()
    out = []
    for o in r.iter("object"):
        b = o.find("bndbox")
        box = [float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")]
        out.append((o.find("name").text.strip(), box))
    return out


def write_voc(path, fname, w, h, depth, objs):
    a = ET.Element("annotation")
    ET.SubElement(a, "filename").text = fname
    s = ET.SubElement(a, "size")
    for k, v in (("width", w), ("height", h), ("depth", depth)):
        ET.SubElement(s, k).text = str(v)
    for name, (x0, y0, x1, y1) in objs:
        o = ET.SubElement(a, "object")
        ET.SubElement(o, "name").text = name
        ET.SubElement(o, "difficult").text = "0"
        b = ET.SubElement(o, "bndbox")
        for k, v in (("xmin", x0), ("ymin", y0), ("xmax", x1), ("ymax", y1)):
            ET.SubElement(b, k).text = str(int(round(v)))
    ET.ElementTree(a).write(path)


def yolo_lines(names, objs, w, h):
    """The YOLO label file of VOC boxes (integer 1-based corners, as the XML holds
    them): exactly what `dyolo pack --format voc` makes of the same XML, which is
    Ultralytics' own VOC conversion (data/VOC.yaml: corners minus 1, width xmax - xmin),
    so that both trainers get the same boxes."""
    out = ""
    for n, (x0, y0, x1, y1) in objs:
        out += "%d %.6f %.6f %.6f %.6f\n" % (names.index(n), ((x0 - 1) + (x1 - 1)) / 2 / w, ((y0 - 1) + (y1 - 1)) / 2 / h,
                                             (x1 - x0) / w, (y1 - y0) / h)
    return out


def relabel(suite):
    """Rewrite every dataset's yolo/labels from its VOC XML (suites made before the
    conversion was fixed had boxes 1 px wider and 0.5 px off) and drop Ultralytics'
    label caches, which key on file sizes and would keep the old boxes."""
    for name in sorted(os.listdir(suite)):
        d = os.path.join(suite, name)
        if not os.path.isfile(os.path.join(d, "yolo", "data.yaml")):
            continue
        stems = {s: open(os.path.join(d, "ImageSets/Main", s + ".txt")).read().split() for s in ("train", "val")}
        objs = {t: read_voc(os.path.join(d, "Annotations", t + ".xml")) for v in stems.values() for t in v}
        names = sorted({n for o in objs.values() for n, _ in o}, key=CLASSES.index)  # as make() orders them
        n = 0
        for s in ("train", "val"):
            for stem in stems[s]:
                r = ET.parse(os.path.join(d, "Annotations", stem + ".xml")).getroot()
                w, h = int(r.find("size/width").text), int(r.find("size/height").text)
                with open(os.path.join(d, "yolo/labels", s, stem + ".txt"), "w") as f:
                    f.write(yolo_lines(names, [(c, [int(b) for b in box]) for c, box in objs[stem]], w, h))
                n += 1
            cache = os.path.join(d, "yolo/labels", s + ".cache")
            if os.path.exists(cache):
                os.remove(cache)
        print("%-10s %d label files rewritten" % (name, n))


def clip(box, cx0, cy0, cw, ch, keep=0.6):
    x0, y0, x1, y1 = box
    nx0, ny0 = max(x0, cx0 + 1), max(y0, cy0 + 1)
    nx1, ny1 = min(x1, cx0 + cw), min(y1, cy0 + ch)
    if nx1 - nx0 < 4 or ny1 - ny0 < 4:
        return None
    if (nx1 - nx0) * (ny1 - ny0) < keep * (x1 - x0) * (y1 - y0):
        return None
    return [nx0 - cx0, ny0 - cy0, nx1 - cx0, ny1 - cy0]


def rand_size(rng, W, H):
    while True:
        w, h = rng.randint(183, 650), rng.randint(183, 480)
        if w <= W and h <= H and 0.38 <= w / h <= 3.5:
            return w, h


def make(bccd, out, name, items):
    """items: list of (stem, PIL image, objs) -> OUT/name (VOC + yolo labels)."""
    d = os.path.join(out, name)
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main", "yolo/images/train", "yolo/images/val",
                "yolo/labels/train", "yolo/labels/val"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    items.sort(key=lambda t: t[0])
    split = {"train": [], "val": []}
    for i, (stem, img, objs) in enumerate(items):
        s = "val" if (i + 1) % 5 == 0 else "train"
        split[s].append(stem)
        img.save(os.path.join(d, "JPEGImages", stem + ".jpg"), quality=95)
        w, h = img.size
        write_voc(os.path.join(d, "Annotations", stem + ".xml"), stem + ".jpg", w, h,
                  1 if img.mode == "L" else 3, objs)
        os.link(os.path.join(d, "JPEGImages", stem + ".jpg"), os.path.join(d, "yolo/images", s, stem + ".jpg"))
        names = sorted({n for _, _, o in items for n, _ in o}, key=CLASSES.index)
        with open(os.path.join(d, "yolo/labels", s, stem + ".txt"), "w") as f:
            f.write(yolo_lines(names, [(n, [int(round(v)) for v in b]) for n, b in objs], w, h))
    for s, stems in split.items():
        with open(os.path.join(d, "ImageSets/Main", s + ".txt"), "w") as f:
            f.write("".join(x + "\n" for x in stems))
    names = sorted({n for _, _, o in items for n, _ in o}, key=CLASSES.index)
    with open(os.path.join(d, "yolo/data.yaml"), "w") as f:
        f.write("path: %s\ntrain: images/train\nval: images/val\nnc: %d\nnames: [%s]\n"
                % (os.path.join(d, "yolo"), len(names), ", ".join("'%s'" % n for n in names)))
    print("%-10s %d train, %d val, classes %s" % (name, len(split["train"]), len(split["val"]), names))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--relabel":
        return relabel(sys.argv[2])
    if len(sys.argv) != 3:
        sys.exit("usage: make-suite.py BCCD_DIR OUT_DIR | make-suite.py --relabel SUITE_DIR")
    bccd, out = sys.argv[1], sys.argv[2]
    ann, jpg = os.path.join(bccd, "Annotations"), os.path.join(bccd, "JPEGImages")
    stems = sorted(f[:-4] for f in os.listdir(ann) if f.endswith(".xml"))
    data = {}
    for s in stems:
        if os.path.exists(os.path.join(jpg, s + ".jpg")):
            data[s] = read_voc(os.path.join(ann, s + ".xml"))
    load = lambda s: Image.open(os.path.join(jpg, s + ".jpg")).convert("RGB")

    wbc = [s for s in sorted(data) if any(n == "WBC" for n, _ in data[s])][:200]
    make(bccd, out, "wbc", [(s, load(s), [o for o in data[s] if o[0] == "WBC"]) for s in wbc])

    plt = [s for s in sorted(data) if any(n == "Platelets" for n, _ in data[s])][:200]
    make(bccd, out, "platelets", [(s, load(s), [o for o in data[s] if o[0] == "Platelets"]) for s in plt])

    rng = random.Random(3)
    items = []
    for k, s in enumerate(rng.sample(sorted(data), 200)):
        img = load(s)
        W, H = img.size
        w, h = rand_size(rng, W, H)
        x, y = rng.randint(0, W - w), rng.randint(0, H - h)
        objs = [(n, b) for n, b in ((n, clip(b, x, y, w, h)) for n, b in data[s]) if b]
        items.append(("c%03d_%s" % (k, s), img.crop((x, y, x + w, y + h)), objs))
    make(bccd, out, "crops", items)

    rng = random.Random(4)
    gray = rng.sample(sorted(data), 200)
    make(bccd, out, "gray", [(s, load(s).convert("L"), data[s]) for s in gray])

    rng = random.Random(5)
    items = []
    for k, s in enumerate(wbc):
        img = load(s)
        W, H = img.size
        cell = [b for n, b in data[s] if n == "WBC"][0]
        w, h = rand_size(rng, W, H)
        # A crop that holds the whole first WBC where it fits, anywhere else around it.
        lo_x, hi_x = max(0, int(cell[2]) - w), min(W - w, int(cell[0]) - 1)
        lo_y, hi_y = max(0, int(cell[3]) - h), min(H - h, int(cell[1]) - 1)
        x = rng.randint(min(lo_x, hi_x), max(lo_x, hi_x)) if lo_x <= hi_x else rng.randint(0, W - w)
        y = rng.randint(min(lo_y, hi_y), max(lo_y, hi_y)) if lo_y <= hi_y else rng.randint(0, H - h)
        objs = [(n, b) for n, b in ((n, clip(b, x, y, w, h)) for n, b in data[s] if n == "WBC") if b]
        im = img.crop((x, y, x + w, y + h))
        if k % 67 == 5:
            im = im.convert("L")
        items.append(("m%03d_%s" % (k, s), im, objs))
    make(bccd, out, "wbc-mixed", items)


if __name__ == "__main__":
    main()
