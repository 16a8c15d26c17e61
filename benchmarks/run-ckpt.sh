#!/bin/sh
# run-ckpt.sh -- regenerate benchmarks/ckpt.md: `dyolo bench ckpt` with 1, 2 and 4
# ranks (checkpoint write/read MB/s for yolov5n and yolov5s training states, next to
# dd's sequential bandwidth, and sync vs async overhead to a training loop).
# usage: benchmarks/run-ckpt.sh [BUILD_DIR] [BENCH_DIR]   (from the source tree)
# BENCH_DIR should be on the disk you train on (default /tmp/dyolo-bench-ckpt).
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
dir=${2:-/tmp/dyolo-bench-ckpt}
out=$here/ckpt.md
mkdir -p "$dir"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=${MPIRUN:-mpirun}
{
  echo "# Checkpoint I/O benchmark (dyolo bench ckpt)"
  echo
  echo "Regenerate with \`benchmarks/run-ckpt.sh $1 $2\`. Each row: one"
  echo "\`$mpirun --oversubscribe -np N dyolo bench ckpt --dd --dir $dir\` (median of 3)."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "- filesystem of $dir: $(df -hT "$dir" | awk 'NR==2 {print $2 ", " $3 " total, " $5 " free"}')"
  echo "- dyolo: $("$build/dyolo" version | head -1 | tr -s " ")"
  echo
  echo "MB = params + EMA + momentum (f32) + model and EMA BN buffers (2% of params each)."
  echo "Reads are cold (pages dropped with posix_fadvise) and include checksum verification"
  echo "and the all-gather that gives every rank the full state. \"step s\" is the"
  echo "simulated training step (memory-bound work, --step-ms 100 calibrated); sync stall"
  echo "is the time a step is blocked by a synchronous checkpoint; async stall is the"
  echo "snapshot copy + thread start + final wait, async slowdown the extra time of the"
  echo "steps that ran beside the background write. Overheads are per checkpoint as a"
  echo "percentage of the training time between checkpoints (1000 steps, the default"
  echo "ckpt.interval_steps)."
  echo
  for np in 1 2 4; do
    hdr=; [ $np = 1 ] && hdr=--header
    "$mpirun" --oversubscribe -np $np "$build/dyolo" bench ckpt --dd $hdr --dir "$dir" > "$dir/np$np.txt"
    grep '^dd ' "$dir/np$np.txt" | sed "s/^/    np=$np: /" >&2
    grep '^|' "$dir/np$np.txt"
  done
  echo
  echo "dd runs (before each row set):"
  echo
  for np in 1 2 4; do grep '^dd ' "$dir/np$np.txt" | sed "s/^/    before np=$np: /"; done
} > "$out.new"
mv "$out.new" "$out"
echo "wrote $out"
