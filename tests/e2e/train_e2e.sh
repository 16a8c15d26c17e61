# train_e2e.sh -- dyolo train end to end on 2 MPI ranks: synthetic data, training,
# checkpoints, exact resume after a signal (exit 75), refused unsafe resume,
# validation identical on 1 and 2 ranks (and equal to pycocotools), detect, and
# the bad-input errors of train/val/detect.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PY=/usr/bin/python3
"$DYOLO" synth --out syn --images 60 --classes 3 --size 128 --seed 3 >log 2>&1; ok $? "synth"
mkdir -p shards
"$RUN_MPI" 2 "$DYOLO" pack --format yolo --input syn/data.yaml --split train --out shards/train >>log 2>&1; ok $? "pack train (2 ranks)"
"$RUN_MPI" 2 "$DYOLO" pack --format yolo --input syn/data.yaml --split val --out shards/val >>log 2>&1; ok $? "pack val (2 ranks)"
cat >cfg.json <<JSON
{"run": {"out_dir": "A", "seed": 1},
 "data": {"train": "shards/train.manifest.json", "val": "shards/val.manifest.json", "imgsz": 128,
          "workers": 1, "val_batch": 8},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 3, "batch_size": 8, "warmup_epochs": 1, "val_interval": 3},
 "runtime": {"threads": 1}, "log": {"progress_interval": 30}}
JSON
train() { "$RUN_MPI" "$1" "$DYOLO" train --config cfg.json "${@:2}"; }

train 2 >A.log 2>&1; ok $? "uninterrupted run A finishes"
check_contains A/summary.json '"outcome":[[:space:]]*"finished"' "summary.json says finished"
[ -s A/metrics.jsonl ] && [ -s A/config.json ] && [ -s A/val.json ] && [ -s A/pr_curve.png ]
ok $? "run dir has metrics.jsonl, config.json, val.json, pr_curve.png"
last=$(ls A/checkpoints/ckpt-*.h5 | tail -1)
"$DYOLO" ckpt verify "$last" >v.log 2>&1; ok $? "final checkpoint verifies"
# Exact resume: a signal after step 3 checkpoints and exits 75; --resume auto finishes.
DYOLO_TEST_SIGNAL_AT_STEP=3 train 2 --set run.out_dir=B >B1.log 2>&1; rc=$?
[ $rc -eq 75 ]; ok $? "SIGUSR1 on one rank: both checkpoint and exit 75 (got $rc)"
train 2 --set run.out_dir=B --resume auto >B2.log 2>&1; ok $? "resume auto finishes"
check_contains B2.log 'resumed from .*ckpt-' "resume names its checkpoint"
$PY "$TOP_SRCDIR/tests/e2e/compare_ckpt.py" "$last" "B/checkpoints/$(basename "$last")"
ok $? "resumed run ends bit-identical to the uninterrupted one"
$PY - <<'PYEOF'
import json
def losses(p):
    return [(r["step"], r["box"], r["obj"], r["cls"]) for r in map(json.loads, open(p)) if "box" in r]
a, b = losses("A/metrics.jsonl"), losses("B/metrics.jsonl")
assert a == b, (len(a), len(b))
PYEOF
ok $? "the resumed run's loss log equals the uninterrupted one"

# The same with AMP (f16 storage, dynamic loss scale in the checkpoint).
train 2 --set run.out_dir=AA --set train.amp=true >AA.log 2>&1; ok $? "uninterrupted AMP run"
DYOLO_TEST_SIGNAL_AT_STEP=3 train 2 --set run.out_dir=BA --set train.amp=true >BA1.log 2>&1; rc=$?
[ $rc -eq 75 ]; ok $? "AMP run: signal -> exit 75 (got $rc)"
train 2 --set run.out_dir=BA --set train.amp=true --resume auto >BA2.log 2>&1; ok $? "AMP run resumes and finishes"
lastA=$(ls AA/checkpoints/ckpt-*.h5 | tail -1)
$PY "$TOP_SRCDIR/tests/e2e/compare_ckpt.py" "$lastA" "BA/checkpoints/$(basename "$lastA")"
ok $? "AMP: resumed run ends bit-identical (weights, EMA, momentum, loss scale)"

# World size change: resume B's mid-run checkpoint on 1 rank with the same global batch.
mkdir -p C/checkpoints && cp B/checkpoints/ckpt-000000000003.h5 C/checkpoints/ 2>/dev/null
train 1 --set run.out_dir=C --resume auto >C.log 2>&1; ok $? "resume on 1 rank (saved on 2) finishes"
check_contains C.log 'world size 2 -> 1: global batch 8 kept, 8 per rank' "world-size change reported"

train 2 --set run.out_dir=B --set data.imgsz=160 --resume auto >D.log 2>&1; rc=$?
[ $rc -eq 1 ]; ok $? "unsafe config change on resume refused (exit $rc)"
check_contains D.log 'refusing to resume: .*data.imgsz: 128 -> 160' "refusal lists the difference"

train 2 --set run.out_dir=E --set train.batch_size=7 >E.log 2>&1; [ $? -ne 0 ]; ok $? "batch not divisible by ranks is refused"
check_contains E.log 'error: .*7' "the error names the batch"
train 2 --set run.out_dir=E --set data.train=nope.json >E.log 2>&1; [ $? -ne 0 ]; ok $? "missing shards refused"
check_contains E.log 'error: .*nope.json' "the error names the missing file"

# A new best fitness is checkpointed (and named by `best`) even when the policy is
# not due: here only the last epoch would be, so epoch 1 (always a new best) proves it.
train 2 --set run.out_dir=F --set ckpt.epoch_end=false --set train.val_interval=1 >F.log 2>&1
ok $? "run with ckpt.epoch_end=false, validation every epoch"
$PY - <<'PYEOF'
import json, os
recs = [r for r in map(json.loads, open("F/metrics.jsonl")) if r.get("event") == "epoch_end" and "fitness" in r]
assert len(recs) == 3, recs
top, bests = -1, []
for r in recs:
    if r["fitness"] > top:
        top = r["fitness"]
        bests.append(r)
for r in bests:
    f = "F/checkpoints/ckpt-%012d.h5" % r["step"]
    print(f"# epoch {r['epoch']} fitness {r['fitness']:.4f}: {os.path.basename(f)}")
    assert os.path.exists(f), f + " missing"
name = open("F/checkpoints/best").read().strip()
assert name == "ckpt-%012d.h5" % bests[-1]["step"], (name, bests[-1])
PYEOF
ok $? "every new best epoch has its checkpoint, and best names the top one"

# Learning: 2 ranks on a fixed small batch (no augmentation) lower the supervised
# losses (box + cls) steadily, with and without AMP (f16 storage, loss scaling).
"$DYOLO" synth --out syn8 --images 10 --classes 3 --size 96 --seed 5 >/dev/null 2>&1
"$DYOLO" pack --format yolo --input syn8/data.yaml --split train --out shards/s8 >/dev/null 2>&1
for amp in false true; do
  train 2 --set run.out_dir=L$amp --set data.train=shards/s8.manifest.json --set data.val= \
    --set train.epochs=40 --set train.nbs=8 --set train.lr0=0.02 --set train.lrf=1 --set train.warmup_bias_lr=0 \
    --set data.imgsz=96 --set data.mosaic=0 --set data.hsv_h=0 --set data.hsv_s=0 --set data.hsv_v=0 \
    --set data.fliplr=0 --set data.translate=0 --set data.scale=0 --set dist.sync_bn=true --set train.amp=$amp \
    >L$amp.log 2>&1
  ok $? "40-step run on 2 ranks, amp=$amp"
  $PY - L$amp/metrics.jsonl <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"box"' in l]
t = [r["box"] + r["cls"] for r in rows]
w = [sum(t[i:i + 10]) / 10 for i in range(0, 40, 10)]
print("# box+cls over 10-step windows:", [round(x, 4) for x in w])
# A window may stall (within 1 %; on a Zen host without AVX-512 AMP's second window
# was 0.1613 after 0.1609), none may rise by more than that, and the last is 3 %
# below the first.
assert len(rows) == 40 and all(b < a * 1.01 for a, b in zip(w, w[1:])) and w[-1] < 0.97 * w[0], w
PYEOF
  ok $? "amp=$amp: no 10-step mean of box+cls loss above the previous (1 % slack), the last 3 % below the first"
done

# World-size equivalence: same global batch, SyncBN and the global loss normalizer:
# 1, 2 and 4 ranks reach the same weights up to reduction order.  Two steps (the
# 10-image set at batch 8): measured 1e-8 to 3.4e-8 relative L2 over seeds 1-5,
# against 2.3e-4 with a per-rank loss normalizer and 5.3e-4 without SyncBN.  The
# 60-image epoch used before (8 steps) was chaotic: reduction-order differences grew
# to 2.5e-7..5.4e-4 depending on seed and inputs, overlapping those real errors.
WSET="--set data.train=shards/s8.manifest.json --set train.epochs=1 --set train.ema=false --set train.nbs=8"
for np in 1 2 4; do
  train $np --set run.out_dir=W$np --set dist.sync_bn=true $WSET >W$np.log 2>&1 || sed 's/^/# /' W$np.log | tail -5
done
$PY - <<'PYEOF'
import glob, h5py, numpy as np
def params(d):
    return h5py.File(sorted(glob.glob(d + "/checkpoints/ckpt-*.h5"))[-1], "r")["arrays"]["model.params"][()]
a = params("W1")
for n in ("W2", "W4"):
    b = params(n)
    rel = np.linalg.norm(a - b) / np.linalg.norm(a)
    print(f"# {n}: relative L2 difference to 1 rank {rel:.2e}")
    assert rel < 1e-5, rel
PYEOF
ok $? "1, 2 and 4 ranks train to the same weights (relative L2 < 1e-5)"

# dist.bn_stats=mean (BN running statistics averaged over ranks, not rank 0's): with
# SyncBN every rank's statistics are the same, so their mean is W2's bit for bit (a
# sum instead of a mean would double them); without it the buffers differ from rank
# 0's while the weights, which training's batch statistics alone determine, do not.
train 2 --set run.out_dir=M2 --set dist.sync_bn=true --set dist.bn_stats=mean $WSET >M2.log 2>&1 ||
  sed 's/^/# /' M2.log | tail -5
for m in rank0 mean; do
  train 2 --set run.out_dir=P$m --set dist.bn_stats=$m $WSET >P$m.log 2>&1 || sed 's/^/# /' P$m.log | tail -5
done
$PY - <<'PYEOF'
import glob, h5py, numpy as np
def arrays(d):
    a = h5py.File(sorted(glob.glob(d + "/checkpoints/ckpt-*.h5"))[-1], "r")["arrays"]
    return a["model.params"][()], a["model.buffers"][()]
(pw, bw), (pm, bm) = arrays("W2"), arrays("M2")
assert np.array_equal(pw, pm) and np.array_equal(bw, bm), "SyncBN: mean of equal statistics changed them"
(p0, b0), (p1, b1) = arrays("Prank0"), arrays("Pmean")
d = np.abs(b0 - b1).max()
print(f"# without SyncBN: max |rank 0's - mean| over {b0.size} buffer values {d:.3g}")
assert np.array_equal(p0, p1) and d > 1e-6, d
PYEOF
ok $? "dist.bn_stats=mean: equal to rank 0's under SyncBN, differs without, same weights"

# Validation: identical on 1 and 2 ranks, and pycocotools agrees on the exported files.
"$RUN_MPI" 1 "$DYOLO" val --weights "$last" --data shards/val.manifest.json --out V1 --batch 4 >V1.log 2>&1; ok $? "val on 1 rank"
"$RUN_MPI" 2 "$DYOLO" val --weights "$last" --data shards/val.manifest.json --out V2 --batch 4 --coco-json V2/coco >V2.log 2>&1
ok $? "val on 2 ranks"
cmp -s V1/val.json V2/val.json; ok $? "val reports identical for 1 and 2 ranks"
# YOLOv5's rectangular validation (--rect; data.rect in training): the synthetic
# images' heights vary (0.75-1 of the width), so batches get different shapes.  The
# model is re-planned for each shape (it once read rect batches as square: mAP50
# 0.008 instead of 0.974 on a trained model) and a step's shape comes from the whole
# global step, so 1 rank x 8 and 2 ranks x 4 give the same report (issue #18).
"$RUN_MPI" 1 "$DYOLO" val --weights "$last" --data shards/val.manifest.json --out R1 --batch 8 --imgsz 320 --rect >R1.log 2>&1 &&
  "$RUN_MPI" 2 "$DYOLO" val --weights "$last" --data shards/val.manifest.json --out R2 --batch 4 --imgsz 320 --rect >R2.log 2>&1
ok $? "rectangular validation on 1 and 2 ranks"
cmp -s R1/val.json R2/val.json; ok $? "rectangular validation: identical reports for 1 and 2 ranks"
# The confusion matrix of `dyolo val` (issue #18): the same on 1 and 2 ranks, and
# each true-class column counts every instance of that class (matched, confused with
# another class, or missed in the background row).
cmp -s V1/confusion_matrix.csv V2/confusion_matrix.csv && [ -s V2/confusion_matrix.png ]
ok $? "val writes confusion_matrix.png/.csv, identical for 1 and 2 ranks"
$PY - <<'PYEOF'
import csv, json
m = [[float(x) for x in r] for r in csv.reader(open("V2/confusion_matrix.csv"))]
cls = json.load(open("V2/val.json"))["classes"]
assert len(m) == len(cls) + 1 and all(len(r) == len(cls) + 1 for r in m), (len(m), len(cls))
for k, c in enumerate(cls):
    assert sum(r[k] for r in m) == c["instances"], (k, [r[k] for r in m], c)
print("# columns:", [sum(r[k] for r in m) for k in range(len(cls))], "instances:", [c["instances"] for c in cls])
PYEOF
ok $? "each class's column of the confusion matrix sums to its instances"
if "$TOP_SRCDIR/.venv/bin/python" -c 'import pycocotools' 2>/dev/null; then
  "$TOP_SRCDIR/.venv/bin/python" - <<'PYEOF'
import contextlib, io, json
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    g = COCO("V2/coco_gt.json"); d = g.loadRes("V2/coco_dt.json")
    e = COCOeval(g, d, "bbox"); e.evaluate(); e.accumulate(); e.summarize()
ours = json.load(open("V2/val.json"))["coco"]
assert abs(ours["AP"] - e.stats[0]) < 1e-4 and abs(ours["AP50"] - e.stats[1]) < 1e-4, (ours, e.stats[:2])
PYEOF
  ok $? "val's COCO AP equals pycocotools on its exported files"
else
  echo "ok $((tap_n + 1)) # SKIP pycocotools not installed"; tap_n=$((tap_n + 1))
fi
"$DYOLO" ckpt export "$last" --out w.h5 >x.log 2>&1; ok $? "ckpt export"
"$RUN_MPI" 1 "$DYOLO" val --weights w.h5 --data shards/val.manifest.json --out V3 --batch 4 >V3.log 2>&1; ok $? "val accepts exported weights"
cmp -s V1/val.json V3/val.json; ok $? "exported weights (EMA) validate like the checkpoint"

"$DYOLO" detect --weights w.h5 --source syn/images/val --out det --conf 0.01 >det.log 2>&1; ok $? "detect on a folder"
n=$(ls syn/images/val | wc -l)
[ "$(ls det/*.jpg | wc -l)" -eq "$n" ] && [ -s det/detections.json ]; ok $? "one annotated image per input and detections.json"
mkdir empty; "$DYOLO" detect --weights w.h5 --source empty >e.log 2>&1; [ $? -eq 1 ]; ok $? "detect on an empty folder fails"
check_contains e.log 'no images .* in folder "empty"' "empty folder named"
mkdir bad; echo garbage >bad/x.jpg
"$DYOLO" detect --weights w.h5 --source bad --out bad_out >e.log 2>&1; [ $? -eq 1 ]; ok $? "unreadable image fails"
check_contains e.log 'bad/x.jpg' "unreadable image named"
"$DYOLO" synth --out syn5 --images 10 --classes 5 --size 96 >/dev/null 2>&1
"$DYOLO" pack --format yolo --input syn5/data.yaml --split train --out shards/five >/dev/null 2>&1
"$RUN_MPI" 1 "$DYOLO" val --weights w.h5 --data shards/five.manifest.json --out V4 >e.log 2>&1; [ $? -eq 1 ]; ok $? "val with data of another class count fails"
check_contains e.log 'are for 3 classes but .* has 5' "class mismatch explained"
tap_done
