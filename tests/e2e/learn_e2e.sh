# learn_e2e.sh -- the demo's recipe as a test: 2 ranks train yolov5n on synthetic
# data for a couple of minutes, then `dyolo val` must report mAP50 >= 0.5 on the
# synthetic validation split and `dyolo detect`'s confident boxes must sit on the
# labelled objects.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$DYOLO" synth --out syn --images 500 --classes 3 --size 160 --seed 0 >log 2>&1; ok $? "synth"
mkdir -p shards
"$RUN_MPI" 2 "$DYOLO" pack --format yolo --input syn/data.yaml --split train --out shards/train >>log 2>&1
"$RUN_MPI" 2 "$DYOLO" pack --format yolo --input syn/data.yaml --split val --out shards/val >>log 2>&1
ok $? "pack"
# A few minutes on an idle 2-core machine, over 300 s (run-mpi's default limit) on a
# slower host or beside other work: a hang still ends, at 900 s.
DYOLO_TEST_TIMEOUT=${DYOLO_TEST_TIMEOUT:-900} "$RUN_MPI" 2 "$DYOLO" train --config "$TOP_SRCDIR/configs/demo.json" --set run.out_dir=run \
  --set model.spec="$TOP_SRCDIR/configs/models/yolov5n.json" --set runtime.threads=1 \
  --set data.train=shards/train.manifest.json --set data.val=shards/val.manifest.json >train.log 2>&1
ok $? "2-rank training with the demo config"
grep 'val epoch' train.log | sed 's/^/# /'
"$RUN_MPI" 2 "$DYOLO" val --weights run/checkpoints/best --data shards/val.manifest.json --out val >val.log 2>&1
ok $? "dyolo val on 2 ranks"
sed -n 's/^yolo protocol: /# /p' val.log
/usr/bin/python3 -c 'import json,sys; m=json.load(open("val/val.json"))["mAP50"]; print("# mAP50", m); sys.exit(m < 0.5)'
ok $? "mAP50 >= 0.5 on the synthetic validation split"
"$DYOLO" detect --weights run/checkpoints/best --source syn/images/val --out det --conf 0.5 >det.log 2>&1
ok $? "dyolo detect"
/usr/bin/python3 - <<'PYEOF'
import json, os
hit = tot = 0
for rec in json.load(open("det/detections.json")):
    w, h = rec["width"], rec["height"]
    stem = os.path.splitext(os.path.basename(rec["image"]))[0]
    gts = []
    for line in open(f"syn/labels/val/{stem}.txt"):
        c, cx, cy, bw, bh = map(float, line.split())
        gts.append((int(c), (cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
    for d in rec["detections"]:
        x1, y1, x2, y2 = d["box"]
        def iou(g):
            iw = max(0, min(x2, g[3]) - max(x1, g[1])); ih = max(0, min(y2, g[4]) - max(y1, g[2]))
            i = iw * ih
            return i / ((x2 - x1) * (y2 - y1) + (g[3] - g[1]) * (g[4] - g[2]) - i)
        tot += 1
        hit += any(g[0] == d["class"] and iou(g) > 0.5 for g in gts)
print(f"# {hit} of {tot} detections at conf >= 0.5 lie on a labelled object of their class")
assert tot >= 50 and hit >= 0.8 * tot
PYEOF
ok $? "detect's confident boxes are on the objects (>= 80% with IoU > 0.5, right class)"
tap_done
