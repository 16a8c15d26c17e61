# bccd_val.sh -- a model trained briefly on the real BCCD images (VOC, 3 classes)
# is validated by `dyolo val`; pycocotools re-evaluating dyolo's exported COCO files
# must agree with dyolo's coco-protocol numbers within 1e-4, and 1 and 3 ranks must
# report identical metrics.
. "$TOP_SRCDIR/tests/tap.sh"
BCCD="$TOP_SRCDIR/../shared/datasets/bccd/BCCD"
PYC="$TOP_SRCDIR/.venv/bin/python"
if [ ! -d "$BCCD" ]; then echo "1..0 # SKIP $BCCD not present"; exit 0; fi
if ! "$PYC" -c 'import pycocotools' 2>/dev/null; then echo "1..0 # SKIP pycocotools not in .venv"; exit 0; fi
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$RUN_MPI" 2 "$DYOLO" pack --format voc --input "$BCCD" --split trainval --out train >pack.log 2>&1; ok $? "pack BCCD trainval"
"$RUN_MPI" 2 "$DYOLO" pack --format voc --input "$BCCD" --split test --out test >>pack.log 2>&1; ok $? "pack BCCD test"
"$RUN_MPI" 2 "$DYOLO" train --config "$TOP_SRCDIR/configs/demo.json" --set run.out_dir=run \
  --set model.spec="$TOP_SRCDIR/configs/models/yolov5n.json" --set data.train=train.manifest.json \
  --set data.val= --set train.epochs=3 --set runtime.threads=1 >train.log 2>&1
ok $? "3 epochs on BCCD, 2 ranks"
w=$(ls run/checkpoints/ckpt-*.h5 | tail -1)
"$RUN_MPI" 3 "$DYOLO" val --weights "$w" --data test.manifest.json --protocol coco --out v3 --coco-json v3/coco \
  >v3.log 2>&1; ok $? "val on 3 ranks with COCO exports"
"$RUN_MPI" 1 "$DYOLO" val --weights "$w" --data test.manifest.json --protocol coco --out v1 >v1.log 2>&1
ok $? "val on 1 rank"
cmp -s v1/val.json v3/val.json; ok $? "identical reports for 1 and 3 ranks"
"$PYC" - <<'PYEOF'
import contextlib, io, json
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    g = COCO("v3/coco_gt.json"); d = g.loadRes("v3/coco_dt.json")
    e = COCOeval(g, d, "bbox"); e.evaluate(); e.accumulate(); e.summarize()
ours = json.load(open("v3/val.json"))["coco"]
keys = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
diff = max(abs(ours[k] - float(v)) for k, v in zip(keys, e.stats))
print(f"# {len(d.anns)} detections on {len(g.imgs)} images; AP {ours['AP']:.4f} AP50 {ours['AP50']:.4f}; max diff {diff:.2e}")
assert len(d.anns) > 0 and diff < 1e-4, diff
PYEOF
ok $? "all 12 COCO metrics equal pycocotools' within 1e-4 on BCCD detections"
tap_done
