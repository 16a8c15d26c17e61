# finetune_bccd.sh -- the whole pretrained-weights path on real data (issue #19): a
# YOLOv5 v7.0 checkpoint made by Ultralytics' own code (tests/io/fixtures, nc 3) is
# imported, trained on BCCD by dyolo (3 epochs), exported, and that model fine-tuned
# for 10 epochs on 2 ranks with the backbone frozen: every tensor is transferred and
# counted, the 10 frozen layers end bit-identical, and validation on BCCD's test split
# improves on the weights it started from.
. "$TOP_SRCDIR/tests/tap.sh"
BCCD="$TOP_SRCDIR/../shared/datasets/bccd/BCCD"
if [ ! -d "$BCCD" ]; then echo "1..0 # SKIP $BCCD not present"; exit 0; fi
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PY=/usr/bin/python3
"$RUN_MPI" 2 "$DYOLO" pack --format voc --input "$BCCD" --split trainval --out train >pack.log 2>&1 &&
  "$RUN_MPI" 2 "$DYOLO" pack --format voc --input "$BCCD" --split test --out test >>pack.log 2>&1
ok $? "pack BCCD trainval and test"
"$DYOLO" import "$TOP_SRCDIR/tests/io/fixtures/yolov5n-best.pt" --out u.h5 >imp.log 2>&1
ok $? "import a YOLOv5 v7.0 best.pt written by Ultralytics' code"
cat >cfg.json <<JSON
{"run": {"out_dir": "pre", "seed": 1},
 "data": {"train": "train.manifest.json", "val": "", "imgsz": 224, "workers": 1},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 3, "batch_size": 16, "warmup_epochs": 1},
 "runtime": {"threads": 1}, "log": {"progress_interval": 60}}
JSON
train() { "$RUN_MPI" 2 "$DYOLO" train --config cfg.json "$@"; }
train --set model.weights=u.h5 >pre.log 2>&1; ok $? "3 epochs on BCCD from the imported weights"
check_contains pre.log 'transferred ([0-9]+)/\1 parameter tensors and ([0-9]+)/\2 BN statistics from u.h5' \
  "every tensor of the imported checkpoint is transferred"
"$DYOLO" ckpt export pre/checkpoints/latest --out w.h5 >exp.log 2>&1; ok $? "export the BCCD-trained weights"
val() { "$RUN_MPI" 2 "$DYOLO" val --weights "$1" --data test.manifest.json --imgsz 224 --out "$2" >"$2.log" 2>&1; }
val w.h5 v0; ok $? "validate the starting weights"
train --set run.out_dir=ft --set model.weights=w.h5 --set train.freeze=10 --set train.epochs=10 \
  --set train.lr0=0.0032 --set train.warmup_epochs=1 >ft.log 2>&1
ok $? "fine-tune 10 epochs, backbone (10 layers) frozen"
check_contains ft.log 'transferred ([0-9]+)/\1 parameter tensors' "the log says how many tensors were transferred"
"$DYOLO" ckpt export ft/checkpoints/latest --out f.h5 >exp2.log 2>&1 && val f.h5 v1; ok $? "validate the fine-tuned weights"
$PY - <<'PYEOF'
import h5py, json, numpy as np
a, b = h5py.File("w.h5", "r"), h5py.File("f.h5", "r")
rows = a["tables/params"][...]
name = lambda r: r["name"].decode() if isinstance(r["name"], bytes) else r["name"]
end = max(int(r["offset"]) + int(r["count"]) for r in rows if int(name(r).split(".")[1]) < 10)
p0, p1 = a["arrays/params"][...], b["arrays/params"][...]
assert np.array_equal(p0[:end], p1[:end]), "a frozen backbone weight changed"
assert not np.array_equal(p0[end:], p1[end:]), "the head did not train"
m0, m1 = (json.load(open(f"{d}/val.json")) for d in ("v0", "v1"))
print(f"# backbone frozen: {end} of {len(p0)} parameters; mAP50 {m0['mAP50']:.4f} -> {m1['mAP50']:.4f}, "
      f"mAP50-95 {m0['mAP50_95']:.4f} -> {m1['mAP50_95']:.4f}")
assert m1["mAP50"] > m0["mAP50"], (m0["mAP50"], m1["mAP50"])
PYEOF
ok $? "frozen backbone bit-identical, the head trained, and BCCD mAP50 improved"
tap_done
