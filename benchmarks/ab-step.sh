#!/bin/sh
# ab-step.sh -- A/B of the CPU training step between two builds (e.g. before and
# after a change): `dyolo bench step` of each build alternately, ROUNDS times, for
# yolov5n and yolov5s at 320 px, batch 8; prints every round's images/s and the
# median and best per build.  Alternating rounds on the same machine is the only fair
# comparison here: a shared VM's speed drifts 20-40% within minutes.
# Usage: benchmarks/ab-step.sh BUILD_A BUILD_B [ROUNDS] [THREADS]
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
a=${1:?usage: ab-step.sh BUILD_A BUILD_B [ROUNDS] [THREADS]}
b=${2:?usage: ab-step.sh BUILD_A BUILD_B [ROUNDS] [THREADS]}
rounds=${3:-5}
threads=${4:-2}
ips() { "$1/dyolo" bench step --config "$top/configs/models/$2.json" --imgsz 320 --batch 8 --threads "$threads" \
          --iters 4 2>/dev/null | sed -n 's/^dyolo images\/s //p'; }
stats() { sort -n | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "median %.2f  best %.2f", m, v[NR]}'; }
echo "A = $a ($(git -C "$a/.." rev-parse --short HEAD 2>/dev/null || echo ?))"
echo "B = $b ($(git -C "$b/.." rev-parse --short HEAD 2>/dev/null || echo ?))"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
for m in yolov5n yolov5s; do
  ra=""; rb=""
  for r in $(seq "$rounds"); do
    x=$(ips "$a" $m); y=$(ips "$b" $m)
    echo "$m round $r: A $x  B $y img/s"
    ra="$ra $x"; rb="$rb $y"
  done
  echo "$m A: $(echo $ra | tr ' ' '\n' | stats)   B: $(echo $rb | tr ' ' '\n' | stats)  (images/s, 320 px, batch 8, $threads threads)"
done
