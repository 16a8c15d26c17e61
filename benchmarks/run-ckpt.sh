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
  echo "- load average before: $(cat /proc/loadavg)"
  echo "- mount options of $dir: $(findmnt -no OPTIONS -T "$dir" 2>/dev/null)"
  echo
  echo "MB = params + EMA + momentum (f32) + model and EMA BN buffers (2% of params each)."
  echo "write = create + data + close + fsync on every rank + rename + \`latest\` + one"
  echo "directory fsync (the whole commit)."
  echo
  echo "Baselines (dd on the same directory, rank 0, right before each write, median"
  echo "over the repetitions; the file is deleted and the deletion committed untimed):"
  echo "- **fair**: \`dd bs=4M conv=fsync\` of the same byte count as the checkpoint (same"
  echo "  size, same durability); also shown with \`oflag=direct conv=fsync\`;"
  echo "- **old**: \`dd bs=4M count=64 oflag=direct\`, 256 MB, no fsync, once per row set (the"
  echo "  comparison used before; not like for like: 3-11x more bytes and no durability)."
  echo
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
  # The optional O_DIRECT data path (src/io/ckpt_rawio.c), 1 and 2 ranks.
  for np in 1 2; do
    DYOLO_CKPT_DIRECT=1 "$mpirun" --oversubscribe -np $np "$build/dyolo" bench ckpt --dd --dir "$dir" |
      grep '^|' | sed 's/^| yolov5\([ns]\) |/| yolov5\1 DIRECT=1 |/'
  done
  echo
  echo "Rows marked DIRECT=1: \`DYOLO_CKPT_DIRECT=1\`, large arrays written with O_DIRECT"
  echo "pwrite at the dataset's address instead of H5Dwrite (off by default)."
  echo
  echo "- load average after the bench rows: $(cat /proc/loadavg)"
  # Real training: dyolo train on 2 ranks, checkpoints every $every steps, none / sync /
  # async, interleaved three times (median per mode).  summary.json gives images/s and
  # the time the training thread was held up by checkpoints.
  tdir=$dir/train
  rm -rf "$tdir"; mkdir -p "$tdir"
  every=4
  "$build/dyolo" synth --out "$tdir/syn" --images 400 --classes 3 --size 160 --seed 4 > "$tdir/log" 2>&1
  "$mpirun" --oversubscribe -np 2 "$build/dyolo" pack --format yolo --input "$tdir/syn/data.yaml" --split train \
    --out "$tdir/train" >> "$tdir/log" 2>&1
  for round in 1 2 3; do
    for mode in none sync async; do
      iv=$every; as=false
      [ $mode = none ] && iv=0
      [ $mode = async ] && as=true
      "$mpirun" --oversubscribe -np 2 "$build/dyolo" train --set run.out_dir="$tdir/$mode$round" \
        --set data.train="$tdir/train.manifest.json" --set data.val= --set data.imgsz=160 --set data.workers=1 \
        --set model.spec="$here/../configs/models/yolov5n.json" --set train.epochs=1 --set train.batch_size=8 \
        --set runtime.threads=1 --set ckpt.interval_steps=$iv --set ckpt.interval_minutes=0 \
        --set ckpt.epoch_end=false --set ckpt.async=$as >> "$tdir/log" 2>&1 || echo "train $mode failed" >&2
    done
  done
  echo
  echo "## Overhead in a real \`dyolo train\` run"
  echo
  echo "yolov5n, 160 px, synthetic images (the train split of \`dyolo synth --images 400\`),"
  echo "global batch 8 on 2 ranks x 1 thread, one epoch, checkpoint every $every steps (~21 MB"
  echo "each) plus the final one; medians of 3 interleaved runs per mode (load average"
  echo "$(cut -d' ' -f1-3 /proc/loadavg))."
  echo
  echo "step ms = time of one optimizer step: forward + loss + backward + exposed comm +"
  echo "optimizer + data wait per micro-step (summary.json ms_per_micro_step) x micro-steps per"
  echo "optimizer step (gradient accumulation ramps up during warm-up).  stall = time the"
  echo "training thread was blocked by checkpoints (summary.json checkpoints.stall_s); per"
  echo "periodic checkpoint after subtracting the final checkpoint's (the run without"
  echo "periodic ones).  overhead = stall per checkpoint / (interval x step ms of the run"
  echo "without).  A background write can also slow the steps beside it: compare the step"
  echo "ms columns.  images/s is the whole run's rate (noisy on a loaded machine)."
  echo
  /usr/bin/python3 - "$tdir" "$every" <<'PYEOF'
import json, statistics as st, sys
d, every = sys.argv[1], int(sys.argv[2])
runs = {m: [json.load(open(f"{d}/{m}{r}/summary.json")) for r in (1, 2, 3)] for m in ("none", "sync", "async")}
med = lambda m, f: st.median(f(s) for s in runs[m])
def step_ms(s):
    micro = s["ddp"]["syncs"] + s["ddp"]["nosync_micro_steps"]
    return sum(s["ms_per_micro_step"].values()) * micro / s["steps"]
base_step, base_stall = med("none", step_ms), med("none", lambda s: s["checkpoints"]["stall_s"])
print(f"{runs['none'][0]['steps']} optimizer steps per run.\n")
print(f"| checkpoints | images/s | step ms | periodic ckpts | stall s (total) | stall per ckpt s | "
      f"overhead at every {every} steps | overhead at 1000 steps (default) |")
print("|---|---|---|---|---|---|---|---|")
for m in ("none", "sync", "async"):
    n = runs[m][0]["checkpoints"]["count"] - runs["none"][0]["checkpoints"]["count"]
    stall = med(m, lambda s: s["checkpoints"]["stall_s"])
    row = f"| {m if n else 'none (final only)'} | {med(m, lambda s: s['images_per_s']):.1f} | {med(m, step_ms):.0f} | {n} | {stall:.3f} |"
    if not n:
        print(row + " - | - | - |")
        continue
    per = (stall - base_stall) / n
    print(row + f" {per:.3f} | {100 * per / (every * base_step / 1e3):.1f}% | {100 * per / (1000 * base_step / 1e3):.3f}% |")
PYEOF

  echo
  echo "dd runs of the old baseline (before each row set):"
  echo
  for np in 1 2 4; do grep '^dd ' "$dir/np$np.txt" | sed "s/^/    before np=$np: /"; done
} > "$out.new"
mv "$out.new" "$out"
echo "wrote $out"
