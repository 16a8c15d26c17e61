#!/usr/bin/env bash
# run-ultralytics.sh DATA_YAML SEED OUT_DIR -- Ultralytics' side of the quality harness
# for one dataset and seed: YOLOv5 v7.0's own train.py (the yolov5==7.0.14 package,
# venv from setup-ultralytics.sh) with the recipe of the issue and of run-dyolo.sh:
#   --weights '' --cfg yolov5n.yaml --img 320 --batch 16 --epochs EPOCHS --device cpu
# and everything else at its defaults (hyp.scratch-low, autoanchor, 8 dataloader
# workers at most, validation every epoch; OMP threads as YOLOv5 sets them itself).
# Writes OUT_DIR/run/results.csv (per-epoch metrics, YOLOv5's format), OUT_DIR/train.log
# and OUT_DIR/wall ("wall_s N").  EPOCHS (default 100) and ULTRA_VENV from the
# environment.
set -euo pipefail
DATA=$(readlink -f "${1:?usage: run-ultralytics.sh DATA_YAML SEED OUT_DIR}"); SEED=${2:?}; OUT=${3:?}
HERE=$(cd "$(dirname "$0")" && pwd)
V=${ULTRA_VENV:-$HERE/.venv}
EPOCHS=${EPOCHS:-100}
[ -x "$V/bin/python" ] || "$HERE/setup-ultralytics.sh" "$V"
P=$V/bin/python
TRAIN=$("$P" -c 'import sysconfig, os; print(os.path.join(sysconfig.get_paths()["purelib"], "yolov5", "train.py"))')
# A rerun into the same OUT_DIR starts clean: YOLOv5 appends to an existing
# run/results.csv (it writes the header only to a new file), so a second run would
# leave 200 rows that read as one run of both.
rm -rf "$OUT/run"
mkdir -p "$OUT"
start=$(date +%s)
# ultra_stubs/: three import-time integrations of the PyPI package (README there).
( cd "$OUT" && PYTHONPATH="$HERE/ultra_stubs" YOLOV5_CONFIG_DIR="$V/yolov5-config" "$P" "$TRAIN" \
    --data "$DATA" --weights '' --cfg yolov5n.yaml --img 320 --batch 16 --epochs "$EPOCHS" --device cpu \
    --seed "$SEED" --project "$OUT" --name run --exist-ok ) >"$OUT/train.log" 2>&1
echo "wall_s $(( $(date +%s) - start ))" | tee "$OUT/wall"
