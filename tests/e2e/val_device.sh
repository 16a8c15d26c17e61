# val_device.sh -- `dyolo val` and `dyolo detect` run the network on the device
# `--device` picks, and give the CPU's results on the device code paths:
#  - a tiny model trained 2 epochs on the CPU and on the testing device cpu-staged
#    (the CPU's arithmetic through every device path: uploads, Detect-output
#    downloads, staging) gives the same predictions;
#  - val with --device cpu and --device cpu-staged on 1 and 2 ranks: each log names
#    the backend it ran on (so a val that ignored --device fails here), and the
#    reports (val.json: mAP, per-class table) and the predictions (COCO results
#    JSON, non-empty) are byte-identical across all four runs;
#  - detect on cpu and cpu-staged (and cpu-staged under 2 ranks): same annotated
#    images and the same detections (detections.json up to its output folder);
#  - --device cuda: without a usable GPU, val and detect stop at start-up with exit 1
#    and an error naming runtime.device=cuda and "no usable GPU", and the GPU half
#    prints SKIP: no usable GPU (reason); with one, val and detect run on cuda:0 and
#    the mAP and detection count agree with the CPU's within the GPU's rounding.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

"$DYOLO" val --help >vh.txt; "$DYOLO" detect --help >dh.txt
grep -q -- '--device cpu|cuda|auto' vh.txt && grep -q cpu-staged vh.txt; ok $? "val --help names --device and cpu-staged"
grep -q -- '--device cpu|cuda|auto' dh.txt && grep -q cpu-staged dh.txt; ok $? "detect --help names --device and cpu-staged"

"$DYOLO" synth --out syn --images 16 --classes 2 --size 64 --seed 7 >log 2>&1; ok $? "synth 16 images"
mkdir -p shards
"$DYOLO" pack --format yolo --input syn/data.yaml --split train --out shards/train >>log 2>&1; ok $? "pack train"
"$DYOLO" pack --format yolo --input syn/data.yaml --split val --out shards/val >>log 2>&1; ok $? "pack val"
cat >cfg.json <<JSON
{"run": {"out_dir": "A", "seed": 1},
 "data": {"train": "shards/train.manifest.json", "val": "", "imgsz": 64, "workers": 1},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 2, "batch_size": 4, "warmup_epochs": 1},
 "runtime": {"threads": 1}, "log": {"progress_interval": 30}}
JSON
"$RUN_MPI" 2 "$DYOLO" train --config cfg.json --device cpu >A.log 2>&1; ok $? "train 2 epochs on the CPU (2 ranks)"
"$RUN_MPI" 2 "$DYOLO" train --config cfg.json --set run.out_dir=B --device cpu-staged >B.log 2>&1
ok $? "train 2 epochs on cpu-staged (2 ranks)"
check_contains B.log 'compute on cpu-staged \(' "training logs the cpu-staged backend"
W=A/checkpoints/latest

# compute_on LOG DEVICE: the log's one line naming the backend names DEVICE, as the
# runtime's choice and as the backend the model was built on
compute_on() {
  [ "$(grep -c 'compute on ' "$1")" -eq 1 ] && grep -q "compute on $2 (.*the network on backend ${2%:*}\( \|$\)" "$1"
}

val() { # val NP DEVICE OUT [ARGS...]
  _np=$1 _dev=$2 _out=$3; shift 3
  "$RUN_MPI" "$_np" "$DYOLO" val --weights "$W" --data shards/val.manifest.json --out "$_out" --batch 2 \
    --threads 1 --device "$_dev" --coco-json "$_out/coco" "$@" >"$_out.log" 2>&1
}
# maps LOG: the headline "mAP50 X  mAP50-95 Y" (without the speed)
maps() { sed -n 's/.*\(mAP50 [0-9][0-9.]*  mAP50-95 [0-9][0-9.]*\).*/\1/p' "$1"; }
for dev in cpu cpu-staged; do
  for np in 1 2; do
    val $np $dev V-$dev-$np; ok $? "val --device $dev on $np rank(s)"
    compute_on V-$dev-$np.log $dev; ok $? "val --device $dev on $np rank(s): the log says compute on $dev"
  done
done
n=$(grep -o '"image_id"' V-cpu-1/coco_dt.json 2>/dev/null | wc -l)
[ "$n" -gt 0 ]; ok $? "the CPU's predictions are not empty ($n boxes)"
for v in V-cpu-2 V-cpu-staged-1 V-cpu-staged-2; do
  cmp -s V-cpu-1/val.json $v/val.json; ok $? "$v: val.json (mAP, per-class table) identical to the CPU on 1 rank"
  cmp -s V-cpu-1/coco_dt.json $v/coco_dt.json; ok $? "$v: predictions identical to the CPU on 1 rank"
  maps $v.log >m1.txt; maps V-cpu-1.log | cmp -s - m1.txt && [ -s m1.txt ]; ok $? "$v: printed mAP identical"
done
maps V-cpu-1.log | sed 's/^/# /'

# The weights trained on cpu-staged predict what the CPU-trained ones do.
W=B/checkpoints/latest
val 1 cpu V-B; ok $? "val of the cpu-staged-trained weights"
W=A/checkpoints/latest
cmp -s V-cpu-1/coco_dt.json V-B/coco_dt.json; ok $? "training on cpu-staged gave the CPU's weights (same predictions)"

det() { # det NP DEVICE OUT
  "$RUN_MPI" "$1" "$DYOLO" detect --weights "$W" --source syn/images/val --out "$3" --conf 0.005 --max-det 20 \
    --threads 1 --device "$2" >"$3.log" 2>&1
}
# detections.json names each image's output file, which is under the --out folder
same_dets() { sed "s|$1/||" "$1/detections.json" >d1.json; sed "s|$2/||" "$2/detections.json" | cmp -s d1.json -; }
det 1 cpu D-cpu; ok $? "detect --device cpu"
compute_on D-cpu.log cpu; ok $? "detect --device cpu: the log says compute on cpu"
nd=$(grep -c '"score"' D-cpu/detections.json 2>/dev/null)
[ "${nd:-0}" -gt 0 ]; ok $? "detect finds boxes (${nd:-0})"
for np in 1 2; do
  det $np cpu-staged D-staged-$np; ok $? "detect --device cpu-staged ($np rank(s))"
  compute_on D-staged-$np.log cpu-staged; ok $? "detect --device cpu-staged ($np rank(s)): the log says so"
  same_dets D-cpu D-staged-$np; ok $? "detect cpu-staged ($np rank(s)): detections.json identical to the CPU's"
  bad=0
  for f in D-cpu/*.jpg; do cmp -s "$f" "D-staged-$np/${f#D-cpu/}" || bad=1; done
  ok $bad "detect cpu-staged ($np rank(s)): annotated images identical to the CPU's"
done

# --device cuda
if "$DYOLO" version 2>&1 | grep -q '^GPUs *: no usable GPU'; then
  why=$("$DYOLO" version 2>&1 | sed -n 's/^GPUs *: no usable GPU: *//p' | head -1)
  W=A/checkpoints/latest
  "$RUN_MPI" 1 "$DYOLO" val --weights "$W" --data shards/val.manifest.json --out VC --device cuda >VC.out 2>VC.err
  rc=$?
  [ $rc -eq 1 ]; ok $? "val --device cuda without a GPU: exit 1 (got $rc)"
  check_contains VC.err 'runtime\.device=cuda.*no usable GPU' "val --device cuda: the error names the setting and the reason"
  check_not_contains VC.out 'mAP50 ' "val --device cuda: no validation ran"
  "$DYOLO" detect --weights "$W" --source syn/images/val --out DC --device cuda >DC.out 2>DC.err
  rc=$?
  [ $rc -eq 1 ]; ok $? "detect --device cuda without a GPU: exit 1 (got $rc)"
  check_contains DC.err 'runtime\.device=cuda.*no usable GPU' "detect --device cuda: the error names the setting and the reason"
  tap_n=$((tap_n + 1))
  echo "ok $tap_n - val/detect on cuda vs cpu # SKIP: no usable GPU ($why)"
else
  W=A/checkpoints/latest
  val 1 cuda V-cuda; ok $? "val --device cuda"
  compute_on V-cuda.log cuda:0; ok $? "val --device cuda: the log says compute on cuda:0"
  # cuDNN sums in other orders: the metrics agree to the GPU's rounding, not bit for bit
  sed -n 's/.*mAP50 \([0-9.]*\)  mAP50-95 \([0-9.]*\).*/\1 \2/p' V-cpu-1.log >m1.txt
  sed -n 's/.*mAP50 \([0-9.]*\)  mAP50-95 \([0-9.]*\).*/\1 \2/p' V-cuda.log >m2.txt
  paste -d' ' m1.txt m2.txt |
    awk 'NF == 4 {d = $1 - $3; e = $2 - $4; f = (d < 0 ? -d : d) <= 0.002 && (e < 0 ? -e : e) <= 0.002} END {exit !f}'
  ok $? "val on cuda: mAP50 and mAP50-95 within 0.002 of the CPU's"
  det 1 cuda D-cuda; ok $? "detect --device cuda"
  compute_on D-cuda.log cuda:0; ok $? "detect --device cuda: the log says compute on cuda:0"
  nc=$(grep -c '"score"' D-cuda/detections.json 2>/dev/null)
  [ "${nc:-0}" -ge $((nd - 2)) ] && [ "${nc:-0}" -le $((nd + 2)) ]
  ok $? "detect on cuda: ${nc:-0} boxes, the CPU ${nd:-0} (within 2)"
fi
[ "$tap_failed" -eq 0 ] || for f in A.log B.log V-cpu-staged-2.log D-staged-2.log; do sed "s|^|# $f: |" $f | tail -8; done
tap_done
