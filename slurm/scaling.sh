#!/usr/bin/env bash
# scaling.sh -- run the same short benchmark training at 1, 2, 4, ... nodes under Slurm
# (strong scaling: same config, same steps, same global batch) and collect one table.
# It submits slurm/scaling.sbatch once per node count, then a small collector job that
# runs after all of them (afterany) and writes OUTDIR/scaling.md and OUTDIR/scaling.csv.
#
# usage: slurm/scaling.sh [-n "1 2 4 8"] [-o OUTDIR] [-- SBATCH-OPTIONS...]
#   GPU cluster:  DYOLO_GPUS_PER_NODE=4 DYOLO_CONFIG=configs/train/coco.json \
#                 slurm/scaling.sh -n "1 2 4 8" -- --partition=gpu --account=proj
#   CPU / test:   DYOLO_LAUNCHER=mpirun DYOLO_RANKS_PER_NODE=2 slurm/scaling.sh -n "1 2"
# The benchmark command is $DYOLO_BENCH_CMD (default: dyolo train --config $DYOLO_CONFIG);
# every knob of train.sbatch (DYOLO_LAUNCHER, DYOLO_MPIRUN_ARGS, ...) applies.
# Prints the job ids, one per line, the collector's last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nodes="1 2 4"
out="$PWD/scaling-$(date -u +%Y%m%dT%H%M%SZ)"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) nodes=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scaling.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
export DYOLO_SLURM_DIR=$here
gpu_opts=()
if [ -n "${DYOLO_GPUS_PER_NODE:-}" ]; then
  gpu_opts=(--gpus-per-node="$DYOLO_GPUS_PER_NODE" --ntasks-per-node="$DYOLO_GPUS_PER_NODE")
fi
ids=()
for n in $nodes; do
  id=$(sbatch --parsable --nodes="$n" --job-name="dyolo-scale-n$n" --output="$out/n$n.out" \
        "${gpu_opts[@]}" "$@" "$here/scaling.sbatch" "$out")
  ids+=("$id"); echo "$id"
done
dep=$(IFS=:; echo "${ids[*]}")
sbatch --parsable --dependency="afterany:$dep" --nodes=1 --ntasks=1 --job-name=dyolo-scale-collect \
  --output="$out/collect.out" "$@" --wrap="bash '$here/scaling-collect.sh' '$out'"
echo "scaling.sh: results will be in $out/scaling.md" >&2
