# resume_device.sh -- a checkpoint is the same whichever device wrote it: a run
# interrupted on one device and resumed on another ends bit-identical to an
# uninterrupted run, in f32 and with AMP.  On this machine the two devices are the
# CPU and the testing device cpu-staged (the CPU's arithmetic through every device
# path: parameters, optimizer and EMA state, BN buffers and the loss scaler travel
# through host copies into and out of the checkpoint), in both directions, on 2
# ranks.  With a usable GPU: a run interrupted on cuda resumes on the CPU and a CPU
# checkpoint resumes on cuda, both finishing (cuDNN's sums differ from the CPU's, so
# not bit for bit), and AMP on cuda (half storage) resumes exactly with
# runtime.deterministic; without one, that part prints SKIP: no usable GPU (reason).
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PY=/usr/bin/python3

"$DYOLO" synth --out syn --images 24 --classes 2 --size 64 --seed 5 >log 2>&1; ok $? "synth 24 images"
mkdir -p shards
"$DYOLO" pack --format yolo --input syn/data.yaml --split train --out shards/train >>log 2>&1; ok $? "pack train"
cat >cfg.json <<JSON
{"run": {"out_dir": "A", "seed": 2},
 "data": {"train": "shards/train.manifest.json", "val": "", "imgsz": 64, "workers": 1},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 2, "batch_size": 4, "warmup_epochs": 1},
 "runtime": {"threads": 1}, "log": {"progress_interval": 30}}
JSON
train() { "$RUN_MPI" 2 "$DYOLO" train --config cfg.json "$@"; }
final() { ls "$1"/checkpoints/ckpt-*.h5 2>/dev/null | tail -1; }

# interrupted DIR FROM TO [ARGS]: signal after step 3 on FROM, resume on TO
interrupted() {
  _d=$1 _from=$2 _to=$3; shift 3
  DYOLO_TEST_SIGNAL_AT_STEP=3 train --set run.out_dir="$_d" --device "$_from" "$@" >"$_d.1.log" 2>&1
  _rc=$?
  [ $_rc -eq 75 ]; ok $? "$_d: interrupted on $_from, checkpointed, exit 75 (got $_rc)"
  train --set run.out_dir="$_d" --device "$_to" --resume auto "$@" >"$_d.2.log" 2>&1
  ok $? "$_d: resumed on $_to and finished"
  check_contains "$_d.2.log" 'resumed from .*ckpt-' "$_d: the resumed run names its checkpoint"
}

for amp in false true; do
  A=U-$amp
  train --set run.out_dir=$A --device cpu --set train.amp=$amp >$A.log 2>&1; ok $? "uninterrupted run on the CPU (amp $amp)"
  ref=$(final $A)
  for pair in "cpu cpu-staged" "cpu-staged cpu"; do
    set -- $pair
    d=R-$1-$2-$amp
    interrupted $d "$1" "$2" --set train.amp=$amp
    out=$(final $d)
    [ -n "$ref" ] && [ -n "$out" ] && $PY "$TOP_SRCDIR/tests/e2e/compare_ckpt.py" "$ref" "$out" >$d.cmp 2>&1
    ok $? "amp $amp: interrupted on $1, resumed on $2: bit-identical to the uninterrupted run (weights, EMA, momentum, scaler)"
  done
done

if "$DYOLO" version 2>&1 | grep -q '^GPUs *: no usable GPU'; then
  why=$("$DYOLO" version 2>&1 | sed -n 's/^GPUs *: no usable GPU: *//p' | head -1)
  tap_n=$((tap_n + 1))
  echo "ok $tap_n - resume across cuda and cpu # SKIP: no usable GPU ($why)"
else
  # one GPU here: one rank
  train() { "$RUN_MPI" 1 "$DYOLO" train --config cfg.json --set train.batch_size=8 "$@"; }
  interrupted G-cuda-cpu cuda cpu
  interrupted G-cpu-cuda cpu cuda
  train --set run.out_dir=GA --device cuda --set train.amp=true --set runtime.deterministic=true >GA.log 2>&1
  ok $? "cuda AMP (deterministic): uninterrupted run"
  interrupted GB cuda cuda --set train.amp=true --set runtime.deterministic=true
  $PY "$TOP_SRCDIR/tests/e2e/compare_ckpt.py" "$(final GA)" "$(final GB)" >GB.cmp 2>&1
  ok $? "cuda AMP (deterministic): resumed run bit-identical to the uninterrupted one"
fi
[ "$tap_failed" -eq 0 ] || for f in *.log *.cmp; do sed "s|^|# $f: |" "$f" | tail -6; done
tap_done
