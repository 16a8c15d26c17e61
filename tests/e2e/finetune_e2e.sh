# finetune_e2e.sh -- starting from pretrained weights (model.weights) and freezing
# layers (train.freeze) on 2 MPI ranks: every tensor of a same-model export is
# transferred and counted; another class count keeps only the Detect outputs fresh;
# frozen layers end bit-identical (weights and EMA) while the rest trains; a file
# without weights or of another architecture is a clear error.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PY=/usr/bin/python3
for k in 2 3; do
  "$DYOLO" synth --out syn$k --images 24 --classes $k --size 64 --seed $k >log 2>&1
  "$RUN_MPI" 2 "$DYOLO" pack --format yolo --input syn$k/data.yaml --split train --out sh$k/train >>log 2>&1
done
[ -s sh2/train.manifest.json ] && [ -s sh3/train.manifest.json ]; ok $? "synthetic datasets with 2 and 3 classes packed"
cat >cfg.json <<JSON
{"run": {"out_dir": "pre", "seed": 1},
 "data": {"train": "sh2/train.manifest.json", "imgsz": 64, "workers": 1},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 1, "batch_size": 8, "warmup_epochs": 0, "val_interval": 0},
 "ckpt": {"epoch_end": true},
 "runtime": {"threads": 1}, "log": {"progress_interval": 30}}
JSON
train() { "$RUN_MPI" 2 "$DYOLO" train --config cfg.json "$@"; }
train >pre.log 2>&1; ok $? "a short run to make pretrained weights"
"$DYOLO" ckpt export pre/checkpoints/latest --out w.h5 >exp.log 2>&1; ok $? "ckpt export"

train --set run.out_dir=ft --set model.weights=w.h5 --set train.freeze=5 >ft.log 2>&1; ok $? "fine-tune with model.weights and train.freeze=5"
check_contains ft.log 'transferred ([0-9]+)/\1 parameter tensors and ([0-9]+)/\2 BN statistics from w.h5' \
  "every tensor of the same model is transferred, and the log says how many"
check_contains ft.log 'train.freeze = 5: layers model.0-4 fixed' "the frozen layers are named"
$PY - <<'PYEOF'
import h5py, numpy as np, glob
w = h5py.File("w.h5", "r")
ck = h5py.File(sorted(glob.glob("ft/checkpoints/ckpt-*.h5"))[-1], "r")
p0 = w["arrays/params"][...]
rows = w["tables/params"][...]
names = [r["name"].decode() if isinstance(r["name"], bytes) else r["name"] for r in rows]
frozen_end = max(int(r["offset"]) + int(r["count"]) for r, n in zip(rows, names) if int(n.split(".")[1]) < 5)
for arr in ("model.params", "ema.params"):
    p1 = ck["arrays/" + arr][...]
    assert np.array_equal(p1[:frozen_end], p0[:frozen_end]), arr + ": a frozen weight changed"
    assert not np.array_equal(p1[frozen_end:], p0[frozen_end:]), arr + ": the trainable part did not change"
PYEOF
ok $? "frozen layers are bit-identical after training (weights and EMA); the others trained"

train --set run.out_dir=nc3 --set data.train=sh3/train.manifest.json --set model.weights=w.h5 >nc3.log 2>&1
ok $? "fine-tune onto 3 classes from 2-class weights"
n=$(sed -n 's/.*transferred \([0-9]*\)\/\([0-9]*\) parameter tensors.*/\2-\1/p' nc3.log | head -1)
[ -n "$n" ] && [ $(( n )) -eq 6 ]; ok $? "only the 6 Detect output tensors (3 levels x weight, bias) keep their init (missing: ${n:-none})"

train --set run.out_dir=bad --set model.weights=sh2/train-00000.h5 >bad.log 2>&1; [ $? -eq 1 ]
ok $? "a shard given as weights fails"
check_contains bad.log 'model.weights.*(no weights in it|schema|not a dyolo)' "and says the file holds no weights"
"$PY" - <<PYEOF
import json
s = json.load(open("$TOP_SRCDIR/configs/models/yolov5n.json"))
s["depth_multiple"], s["width_multiple"] = 0.33, 0.5
json.dump(s, open("s.json", "w"))
PYEOF
train --set run.out_dir=arch --set model.spec=s.json --set model.weights=w.h5 >arch.log 2>&1
check_contains arch.log 'transferred 3/177 parameter tensors' "weights of another width: only the 3 Detect biases fit"
check_contains arch.log 'fewer than half of the model.s tensors came from w.h5' "and a warning says so (as YOLOv5 goes on)"
"$DYOLO" config --config "$TOP_SRCDIR/configs/finetune.json" --set model.weights=w.h5 --print >fc.log 2>&1
ok $? "configs/finetune.json is a valid config"
check_contains fc.log '"lr0":[[:space:]]*0.0032' "with YOLOv5's fine-tune learning rate"
train --set run.out_dir=all --set train.freeze=1000 >all.log 2>&1; [ $? -ne 0 ]
ok $? "freezing every layer is refused"
check_contains all.log 'nothing left to train' "with the reason"
tap_done
