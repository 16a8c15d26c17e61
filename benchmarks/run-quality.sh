#!/usr/bin/env bash
# run-quality.sh BUILD_DIR [OPTIONS] -- dyolo vs Ultralytics YOLOv5 v7.0, side by side on
# the same machine, on the quality suite (benchmarks/quality/make-suite.py: datasets
# derived from ../shared/datasets/bccd that cover what BCCD does not), with one recipe:
# yolov5n from scratch, 320 px, global batch 16, EPOCHS epochs, validation of the EMA
# weights every epoch with YOLOv5's protocol (conf 0.001, IoU 0.6, rectangular val
# batches of 32, YOLOv5's AP).  Writes benchmarks/quality.md (tables, curves, with
# benchmarks/quality/notes.md inserted after its header) and
# benchmarks/quality/quality-<dataset>.png.
#
# Ultralytics' side runs once per dataset, seed and kind of machine: its results.csv
# and wall time are recorded in benchmarks/quality/ultralytics/<machine>/<dataset>/s<seed>/
# and reused by later runs (so a dyolo change is checked by training dyolo only);
# --ultralytics run retrains it, --ultralytics skip uses only what is recorded.
# Every dyolo run is recorded the same way in benchmarks/quality/dyolo/<machine>/
# <dataset>/<tag>-np<ranks>/s<seed>/ (each README names the boot and the commit),
# and the report includes recorded runs that WORK does not hold.
#
# Options (defaults in brackets):
#   --datasets "A B"   [wbc platelets crops gray wbc-mixed]
#   --seeds "S..."     [0 1 2]
#   --ranks "N..."     [1 2]  dyolo's MPI ranks (the machine's cores split as threads)
#   --epochs N         [100]
#   --ultralytics MODE [auto] auto: run what is not recorded; run; skip
#   --work DIR         [/tmp/dyolo-quality] suite and run directories (kept)
#   --set KEY=VALUE    extra dyolo config for every dyolo run (an experiment)
#   --tag NAME         [dyolo] side name prefix in the report (dyolo-np1, ...)
#   --report-only      train nothing: the report from what WORK/results holds
# Time on a 2-core machine: dyolo about 5-9 min per 100-epoch run, Ultralytics about
# 12-20 min; the default suite is 5 x 3 x 2 dyolo runs (about 3.5 h) plus 15
# Ultralytics runs the first time on a machine kind.
set -euo pipefail
B=$(cd "${1:?usage: run-quality.sh BUILD_DIR [--datasets ...] [--seeds ...] [--ranks ...] [--epochs N] [--ultralytics auto|run|skip]}" && pwd); shift
SRC=$(cd "$(dirname "$0")/.." && pwd)
Q=$SRC/benchmarks/quality
DATASETS="wbc platelets crops gray wbc-mixed"; SEEDS="0 1 2"; RANKS="1 2"; EPOCHS=100; ULTRA=auto
WORK=/tmp/dyolo-quality; TAG=dyolo; SETS=(); REPORT_ONLY=
while [ $# -gt 0 ]; do
  case $1 in
    --datasets) DATASETS=$2; shift 2 ;; --seeds) SEEDS=$2; shift 2 ;; --ranks) RANKS=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;; --ultralytics) ULTRA=$2; shift 2 ;; --work) WORK=$2; shift 2 ;;
    --set) SETS+=(--set "$2"); shift 2 ;; --tag) TAG=$2; shift 2 ;; --report-only) REPORT_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-quality: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $ULTRA in auto|run|skip) ;; *) echo "run-quality: --ultralytics auto|run|skip" >&2; exit 2 ;; esac
BCCD=${BCCD:-$SRC/../shared/datasets/bccd/BCCD}
[ -d "$BCCD/Annotations" ] || { echo "run-quality: BCCD not found at $BCCD (set BCCD=...)" >&2; exit 1; }
machine=$( (sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1; nproc) | tr -cs 'A-Za-z0-9' '-' | sed 's/^-//; s/-$//')
UREC=$Q/ultralytics/$machine DREC=$Q/dyolo/$machine
# Hosts behind one machine tag differ between boots (the CPU model is masked): each
# record names its boot and whether the CPU has AVX-512, so walls compare only
# within one boot.
host="boot $(uptime -s 2>/dev/null || echo unknown) UTC, AVX-512 $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)"
record() { # record RUN_DIR DEST COMMAND: results.csv, wall and a README into the tree
  mkdir -p "$2" && cp "$1/run/results.csv" "$1/wall" "$2/"
  printf "machine: %s\nhost: %s\ndate: %s\nload average at the end: %s\ndyolo: %s\ncommand: %s\n" "$machine" "$host" \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null)" "$3" >"$2/README"
}
"$Q/setup-ultralytics.sh" "${ULTRA_VENV:-$Q/.venv}" >/dev/null
PY=${ULTRA_VENV:-$Q/.venv}/bin/python
mkdir -p "$WORK"
[ -f "$WORK/suite/wbc-mixed/yolo/data.yaml" ] || "$PY" "$Q/make-suite.py" "$BCCD" "$WORK/suite"
log() { echo "run-quality: $(date -u +%H:%M:%S) $*"; }
for ds in $DATASETS; do
  [ -z "$REPORT_ONLY" ] || break
  for s in $SEEDS; do
    u=$UREC/$ds/s$s
    if [ "$ULTRA" = run ] || { [ "$ULTRA" = auto ] && [ ! -f "$u/results.csv" ]; }; then
      log "Ultralytics $ds seed $s ($EPOCHS epochs)"
      EPOCHS=$EPOCHS "$Q/run-ultralytics.sh" "$WORK/suite/$ds/yolo/data.yaml" "$s" "$WORK/ultra/$ds/s$s" >/dev/null
      record "$WORK/ultra/$ds/s$s" "$u" "EPOCHS=$EPOCHS benchmarks/quality/run-ultralytics.sh suite/$ds/yolo/data.yaml $s OUT"
    fi
    for np in $RANKS; do
      log "dyolo $ds seed $s, $np rank(s) ($EPOCHS epochs)"
      EPOCHS=$EPOCHS "$Q/run-dyolo.sh" "$B" "$WORK/suite/$ds" "$np" "$s" "$WORK/results/$ds/$TAG-np$np/s$s" \
        --set data.rect=true --set data.val_batch=$(( 32 / np )) "${SETS[@]}" >/dev/null
      record "$WORK/results/$ds/$TAG-np$np/s$s" "$DREC/$ds/$TAG-np$np/s$s" \
        "EPOCHS=$EPOCHS benchmarks/quality/run-dyolo.sh BUILD suite/$ds $np $s OUT --set data.rect=true --set data.val_batch=$(( 32 / np ))${SETS[*]:+ ${SETS[*]}}"
    done
  done
done
log "report"
# dyolo runs recorded in the tree but absent from WORK (made on another boot, or
# before a fresh clone) join the report; WORK's own runs take precedence.
for d in "$DREC"/*/*/s*; do
  [ -f "$d/results.csv" ] || continue
  w=$WORK/results/${d#"$DREC"/}
  [ -f "$w/run/results.csv" ] || [ -f "$w/results.csv" ] || { mkdir -p "$w" && cp "$d"/* "$w/"; }
done
{
  echo "# Quality: dyolo vs Ultralytics YOLOv5 v7.0, same machine"
  echo
  echo "Generated by \`benchmarks/run-quality.sh BUILD --datasets \"$DATASETS\" --seeds \"$SEEDS\" --ranks \"$RANKS\" --epochs $EPOCHS${SETS[*]:+ ${SETS[*]}}\`"
  echo "on $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $machine; dyolo $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null)."
  echo "Ultralytics runs recorded in benchmarks/quality/ultralytics/$machine/ (see each README for its date)."
  echo
} >"$WORK/head.md"
"$PY" "$Q/summarize.py" "$WORK/results" "$UREC" "$WORK/body.md" >/dev/null
# benchmarks/quality/notes.md (hand-written: what the runs say, their conditions)
# goes between the generated header and tables, so a rerun keeps it.
notes=(); [ ! -f "$Q/notes.md" ] || notes=("$Q/notes.md")
cat "$WORK/head.md" "${notes[@]}" "$WORK/body.md" >"$SRC/benchmarks/quality.md"
cp "$WORK"/quality-*.png "$Q/" 2>/dev/null || true
sed -i 's|](quality-|](quality/quality-|' "$SRC/benchmarks/quality.md"
cat "$SRC/benchmarks/quality.md"
