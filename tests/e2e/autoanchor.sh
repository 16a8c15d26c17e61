# autoanchor.sh -- model.autoanchor end to end on 2 ranks: with anchors that fit none
# of the boxes (a spec whose anchors are 300 px on 64 px images), a fresh run evolves
# new ones, trains with them and saves them in its checkpoints' model spec; a run
# interrupted and resumed keeps the checkpoint's anchors (bit-identical to the
# uninterrupted run, which it could not be with the file's) and does not re-fit;
# `dyolo ckpt export` and `dyolo val` take them from the checkpoint.  With the
# default anchors (a good fit) or model.autoanchor=false the spec's anchors are kept.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PY=/usr/bin/python3

"$DYOLO" synth --out syn --images 30 --classes 2 --size 64 --seed 5 >log 2>&1; ok $? "synth 30 images"
mkdir -p shards
for s in train val; do
  "$DYOLO" pack --format yolo --input syn/data.yaml --split $s --out shards/$s >>log 2>&1; ok $? "pack $s"
done
sed 's/"anchors": \[\[[^]]*\], \[[^]]*\], \[[^]]*\]\]/"anchors": [[300, 300, 310, 310, 320, 320], [330, 330, 340, 340, 350, 350], [360, 360, 370, 370, 380, 380]]/' \
  "$TOP_SRCDIR/configs/models/yolov5n.json" >bad.json
grep -q '"anchors": \[\[300, 300' bad.json; ok $? "a spec with 300 px anchors"
cat >cfg.json <<JSON
{"run": {"out_dir": "A", "seed": 2},
 "data": {"train": "shards/train.manifest.json", "val": "", "imgsz": 64, "workers": 1},
 "model": {"spec": "bad.json"},
 "train": {"epochs": 2, "batch_size": 4, "warmup_epochs": 1},
 "runtime": {"threads": 1}, "log": {"progress_interval": 30}}
JSON
train() { "$RUN_MPI" 2 "$DYOLO" train --config cfg.json "$@"; }
final() { ls "$1"/checkpoints/ckpt-*.h5 2>/dev/null | tail -1; }
# anchors FILE: the anchors of a checkpoint's (or weights file's) saved model spec
anchors() { $PY -c 'import h5py, json, sys; print(json.loads(h5py.File(sys.argv[1], "r")["text/model_spec"][()])["anchors"])' "$1"; }

train --set run.out_dir=U >U.log 2>&1; ok $? "fresh run with misfit anchors"
check_contains U.log 'AutoAnchor: .*0.000 Best Possible Recall.*poor fit' "the poor fit is reported (BPR 0)"
check_contains U.log 'AutoAnchor: new anchors .*BPR 0.000 -> ' "new anchors are evolved and logged"
ref=$(final U)
a=$(anchors "$ref" 2>&1)
case $a in *300*) false ;; '['*) true ;; *) false ;; esac
ok $? "the checkpoint's model spec holds the new anchors, not the file's ($a)"

DYOLO_TEST_SIGNAL_AT_STEP=3 train --set run.out_dir=R >R.1.log 2>&1
[ $? -eq 75 ]; ok $? "a second run interrupted after step 3 (exit 75)"
train --set run.out_dir=R --resume auto >R.2.log 2>&1; ok $? "resumed and finished"
check_contains R.2.log "resumed from .*ckpt-" "the resumed run names its checkpoint"
check_contains R.2.log "anchors .* differ from bad.json.s: continuing with the checkpoint.s" "the resume says it keeps the checkpoint's anchors"
! grep -q 'AutoAnchor:' R.2.log; ok $? "a resumed run does not re-fit the anchors"
out=$(final R)
[ -n "$ref" ] && [ -n "$out" ] && $PY "$TOP_SRCDIR/tests/e2e/compare_ckpt.py" "$ref" "$out" >R.cmp 2>&1
ok $? "interrupted + resumed is bit-identical to the uninterrupted run (trained with the checkpoint's anchors)"
[ "$(anchors "$out")" = "$a" ]; ok $? "the resumed run's checkpoints keep the evolved anchors"

"$DYOLO" ckpt export "$ref" --out w.h5 >exp.log 2>&1 && [ "$(anchors w.h5)" = "$a" ]
ok $? "ckpt export carries the evolved anchors"
"$DYOLO" val --weights "$ref" --data shards/val.manifest.json --threads 1 --out V >val.log 2>&1
ok $? "dyolo val evaluates the checkpoint (with its anchors)"

train --set run.out_dir=G --set model.spec="$TOP_SRCDIR/configs/models/yolov5n.json" --set train.epochs=1 >G.log 2>&1
ok $? "a run with the default anchors"
check_contains G.log 'AutoAnchor: .*Current anchors are a good fit' "a good fit is reported and kept"
case $(anchors "$(final G)") in '[[10, 13, 16, 30, 33, 23]'*) true ;; *) false ;; esac
ok $? "a good fit leaves the spec's anchors in the checkpoint"
train --set run.out_dir=N --set model.autoanchor=false --set train.epochs=1 >N.log 2>&1; ok $? "model.autoanchor=false"
! grep -q 'AutoAnchor:' N.log; ok $? "model.autoanchor=false: no AutoAnchor"
case $(anchors "$(final N)") in '[[300, 300'*) true ;; *) false ;; esac
ok $? "model.autoanchor=false: the spec's anchors are trained with and saved"
tap_done
