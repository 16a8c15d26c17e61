#!/usr/bin/env bash
# run-dyolo.sh BUILD_DIR VOC_DIR RANKS SEED OUT_DIR [--set KEY=VALUE]... -- dyolo's side
# of the quality harness for one dataset, rank count and seed: pack VOC_DIR's
# ImageSets/Main/{train,val} (cached in VOC_DIR/packed/), train with the recipe of
# benchmarks/run-bccd.sh (configs/bccd.json: yolov5n from scratch, 320 px, global
# batch 16, EPOCHS epochs, default 100; validation every epoch, yolo protocol, EMA
# weights), the machine's cores split over the ranks as threads.  Writes
# OUT_DIR/run/ (the run directory: results.csv, plots) and OUT_DIR/train.log, and
# prints "wall_s N".  Extra --set options go to `dyolo train` (experiments).
set -euo pipefail
B=$(cd "${1:?usage: run-dyolo.sh BUILD_DIR VOC_DIR RANKS SEED OUT_DIR [--set K=V]...}" && pwd)
VOC=$(cd "${2:?}" && pwd); NP=${3:?}; SEED=${4:?}; OUT=${5:?}; shift 5
SRC=$(cd "$(dirname "$0")/../.." && pwd)
EPOCHS=${EPOCHS:-100}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$OUT" "$VOC/packed"
for s in train val; do
  [ -f "$VOC/packed/$s.manifest.json" ] ||
    "$B/dyolo" pack --format voc --input "$VOC" --split $s --out "$VOC/packed/$s" >>"$OUT/pack.log" 2>&1
done
threads=$(( $(nproc) / NP > 0 ? $(nproc) / NP : 1 ))
start=$(date +%s)
mpirun --oversubscribe -np "$NP" "$B/dyolo" train --config "$SRC/configs/bccd.json" \
  --set model.spec="$SRC/configs/models/yolov5n.json" --set data.train="$VOC/packed/train.manifest.json" \
  --set data.val="$VOC/packed/val.manifest.json" --set run.out_dir="$OUT/run" --set run.seed="$SEED" \
  --set train.epochs="$EPOCHS" --set runtime.threads=$threads "$@" >"$OUT/train.log" 2>&1
echo "wall_s $(( $(date +%s) - start ))" | tee "$OUT/wall"
