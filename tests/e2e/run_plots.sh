# run_plots.sh -- the plots a YOLOv5 user looks for in a run directory, from a tiny
# 2-rank run: every file exists and is a PNG/JPEG of plausible size, results.csv has
# YOLOv5's header and one row per epoch with metrics.jsonl's numbers, and a run
# killed mid-epoch and resumed ends with the same results.csv as an uninterrupted
# one.  (Where the drawn boxes land is checked pixel by pixel in tests/eval/test_plots.)
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PY=/usr/bin/python3
"$DYOLO" synth --out syn --images 24 --classes 3 --size 64 --seed 7 >log 2>&1; ok $? "synth 24 images"
mkdir -p shards
"$DYOLO" pack --format yolo --input syn/data.yaml --split train --out shards/train >>log 2>&1; ok $? "pack train"
"$DYOLO" pack --format yolo --input syn/data.yaml --split val --out shards/val >>log 2>&1; ok $? "pack val"
cat >cfg.json <<JSON
{"run": {"out_dir": "A", "seed": 1},
 "data": {"train": "shards/train.manifest.json", "val": "shards/val.manifest.json", "imgsz": 64,
          "workers": 1, "val_batch": 4},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 2, "batch_size": 4, "warmup_epochs": 1, "val_interval": 1},
 "runtime": {"threads": 1}, "log": {"progress_interval": 30}}
JSON
train() { "$RUN_MPI" 2 "$DYOLO" train --config cfg.json "$@"; }
train >A.log 2>&1; ok $? "2-rank run of 2 epochs"
check_not_contains A.log 'plots:' "no plot warning in the log"

# Every file: the right magic, a decodable size, not a stub.
$PY - A <<'PYEOF'
import os, struct, sys
d = sys.argv[1]
def png(p):
    b = open(p, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", p + ": not a PNG"
    assert b[12:16] == b"IHDR" and b[-8:-4] == b"IEND", p + ": no IHDR/IEND"
    return struct.unpack(">II", b[16:24]), len(b)
def jpeg(p):
    b = open(p, "rb").read()
    assert b[:2] == b"\xff\xd8" and b[-2:] == b"\xff\xd9", p + ": not a whole JPEG"
    i = 2
    while i < len(b):
        assert b[i] == 0xFF, p + ": bad marker"
        m, n = b[i + 1], struct.unpack(">H", b[i + 2:i + 4])[0]
        if m in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", b[i + 5:i + 9])
            return (w, h), len(b)
        i += 2 + n
    raise AssertionError(p + ": no frame header")
want = {"results.png": (png, 1500, 480), "confusion_matrix.png": (png, 200, 200), "labels.jpg": (jpeg, 800, 800),
        "val_batch0_labels.jpg": (jpeg, 64, 64), "val_batch0_pred.jpg": (jpeg, 64, 64)}
for k in range(3):
    want[f"train_batch{k}.jpg"] = (jpeg, 128, 128)  # 2 images per rank: a 2 x 2 grid of 64 px tiles
bad = 0
for name, (fn, w, h) in sorted(want.items()):
    p = os.path.join(d, name)
    try:
        (gw, gh), size = fn(p)
        exact = name.startswith("train_batch") or name in ("results.png", "labels.jpg")
        good = (gw, gh) == (w, h) if exact else gw >= w and gh >= h
        good = good and size > 1000
        print(f"# {name}: {gw} x {gh}, {size} bytes")
        if not good:
            print(f"# {name}: want {'' if exact else 'at least '}{w} x {h} and > 1000 bytes")
            bad += 1
    except (OSError, AssertionError, struct.error) as e:
        print("#", e)
        bad += 1
assert not os.path.exists(os.path.join(d, "train_batch3.jpg")), "only three train batches"
sys.exit(bad)
PYEOF
ok $? "results.png, confusion_matrix.png, labels.jpg, train_batch0..2.jpg, val_batch0_{labels,pred}.jpg are valid"

csv_check() { # csv_check DIR: results.csv against the epoch records of metrics.jsonl
$PY - "$1" <<'PYEOF'
import csv, json, math, sys
d = sys.argv[1]
head = ["epoch", "train/box_loss", "train/obj_loss", "train/cls_loss", "metrics/precision", "metrics/recall",
        "metrics/mAP_0.5", "metrics/mAP_0.5:0.95", "val/box_loss", "val/obj_loss", "val/cls_loss",
        "x/lr0", "x/lr1", "x/lr2"]
rows = list(csv.reader(open(d + "/results.csv")))
assert [c.strip() for c in rows[0]] == head, rows[0]
recs = [r for r in map(json.loads, open(d + "/metrics.jsonl")) if r.get("event") == "epoch_end"]
assert len(rows) - 1 == len(recs) == 2, (len(rows) - 1, len(recs))
keys = [None, "train_box", "train_obj", "train_cls", "P", "R", "mAP50", "mAP50_95", "val_box", "val_obj",
        "val_cls", "x_lr0", "x_lr1", "x_lr2"]
for row, rec in zip(rows[1:], recs):
    assert len(row) == len(head), row
    assert int(row[0]) == rec["epoch"], (row[0], rec["epoch"])
    for c, k in enumerate(keys):
        if k is None:
            continue
        got, want = float(row[c]), rec[k]
        assert math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-12), (head[c], got, want)
    # YOLOv5's val losses of a 3-class model: positive and finite
    assert all(0 < rec[k] < 1 for k in ("val_box", "val_obj", "val_cls")), rec
# the losses are the epoch's mean step losses of the log
for rec in recs:
    steps = [r for r in map(json.loads, open(d + "/metrics.jsonl")) if "box" in r and r["epoch"] == rec["epoch"]]
    m = sum(r["box"] for r in steps) / len(steps)
    assert math.isclose(m, rec["train_box"], rel_tol=1e-12), (m, rec["train_box"])
print("# results.csv:", rows[1][:4], "...")
PYEOF
}
csv_check A; ok $? "results.csv: YOLOv5's header, one row per epoch, metrics.jsonl's numbers, val losses"

# Killed mid-way through epoch 2 and resumed: the same results.csv.
steps=$($PY -c 'import json; print([r for r in map(json.loads, open("A/metrics.jsonl")) if r.get("event") == "epoch_end"][0]["step"])')
DYOLO_TEST_SIGNAL_AT_STEP=$((steps + 1)) train --set run.out_dir=B >B1.log 2>&1; rc=$?
[ $rc -eq 75 ]; ok $? "a signal at step $((steps + 1)) (epoch 2 of 2, $steps steps per epoch) stops the run (exit $rc)"
n=$(($(wc -l <B/results.csv) - 1)); [ "$n" -eq 1 ]; ok $? "the interrupted run's results.csv has its one finished epoch ($n)"
train --set run.out_dir=B --resume auto >B2.log 2>&1; ok $? "resume finishes"
cmp A/results.csv B/results.csv; ok $? "the resumed run's results.csv equals the uninterrupted run's"
csv_check B; ok $? "the resumed results.csv matches its metrics.jsonl"
tap_done
