#!/usr/bin/env bash
# run-slurm.sh -- what fault tolerance costs under Slurm, measured on the local test
# cluster (slurm/cluster/cluster.sh) with the stand-in trainer: cluster start/stop,
# job start latency, and for preemption and node failure the time from the event to
# the step's exit and to the resumed run: first step. Writes benchmarks/slurm.md.
# usage: benchmarks/run-slurm.sh BUILD_DIR [REPEATS]   (as root; needs slurm-wlm, munge)
# The requeued job is released 2 s after it is requeued (see slurm/README.md), so the
# "event -> resumed" times include that 2 s; Slurm alone would wait ~2 minutes.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: run-slurm.sh BUILD_DIR [REPEATS]}" && pwd)
reps=${2:-3}
standin=$build/tests/slurm/test_standin_trainer
[ -x "$standin" ] || { echo "run-slurm.sh: build $standin first (make check builds it)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 DYOLO_SLURM_DIR=$top/slurm
export DYOLO_MPIRUN_ARGS="--mca btl tcp,self --mca btl_tcp_if_include lo --oversubscribe"
W=$(mktemp -d /tmp/dyolo-bench-slurm.XXXXXX); chmod 0755 "$W"
trap '"$top/slurm/cluster/cluster.sh" stop "$W/c" >/dev/null 2>&1; rm -rf "$W"' EXIT
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
wait_line() { # FILE ERE TIMEOUT [JOBID to release]
  local t_end=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -lt "$t_end" ]; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    if [ -n "${4:-}" ] && scontrol show job "$4" 2>/dev/null | grep -q 'Reason=BeginTime'; then
      sleep 2; scontrol update jobid="$4" StartTime=now >/dev/null 2>&1
    fi
    sleep 0.05
  done
  echo "run-slurm.sh: timed out waiting for '$2' in $1" >&2
  sinfo -N >&2; squeue >&2; tail -5 "$1" >&2; return 1
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
submit() { # NAME OPTIONS...
  local name=$1; shift
  DYOLO_RUN_DIR=$W/$name DYOLO_TRAIN_CMD="$standin --steps 100000 --step-ms 20 --ckpt-every 10" \
    sbatch --parsable --job-name="$name" --output="$W/$name.out" "$@" "$top/slurm/train-cpu.sbatch"
}

declare -A r
for i in $(seq 1 "$reps"); do
  t=$(now); "$top/slurm/cluster/cluster.sh" start "$W/c" >"$W/env" || exit 1; r[start]+="$(since "$t") "
  . "$W/env"
  # Preemption: 2 nodes x 2 ranks.
  t=$(now); jid=$(submit p$i --nodes=2 --ntasks-per-node=2)
  wait_line "$W/p$i/logs/attempt-0.log" '^standin: rank 3/4' 60 || exit 1; r[launch]+="$(since "$t") "
  sleep 2
  t=$(now); scancel --signal=USR1 --batch "$jid"
  wait_line "$W/p$i.out" 'step exited with status 75' 60 || exit 1; r[sig_exit]+="$(since "$t") "
  wait_line "$W/p$i/logs/attempt-1.log" '^standin: resumed' 120 "$jid" || exit 1; r[sig_resume]+="$(since "$t") "
  scancel "$jid"
  # Node failure needs all 3 nodes: wait until the cancelled job has left them.
  for k in $(seq 1 100); do [ "$(sinfo -h -N -t idle -o %N | wc -l)" -eq 3 ] && break; sleep 0.2; done
  # Node failure: elastic 2-3 nodes x 2 ranks; kill n3's ranks, drain n3.
  jid=$(DYOLO_RANKS_PER_NODE=2 submit f$i --nodes=2-3 --exclusive)
  wait_line "$W/f$i/logs/attempt-0.log" '^standin: rank 5/6' 60 || exit 1
  sleep 2
  pids=""
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe")" = "$(readlink -f "$standin")" ] || continue
    env=$({ tr '\0' '\n' <"$p/environ"; } 2>/dev/null)
    grep -qx SLURMD_NODENAME=n3 <<<"$env" && pids="$pids ${p#/proc/}"
  done
  scontrol update nodename=n3 state=drain reason=bench
  t=$(now); kill -KILL $pids
  wait_line "$W/f$i.out" 'step exited with status' 60 || exit 1; r[fail_exit]+="$(since "$t") "
  wait_line "$W/f$i/logs/attempt-1.log" '^standin: resumed' 120 "$jid" || exit 1; r[fail_resume]+="$(since "$t") "
  scancel "$jid"
  t=$(now); "$top/slurm/cluster/cluster.sh" stop "$W/c"; r[stop]+="$(since "$t") "
  rm -rf "$W/c"
done
m() { echo ${r[$1]} | tr ' ' '\n' | median; }
all() { echo ${r[$1]}; }
{
  echo "# Slurm fault-tolerance overheads (local test cluster, stand-in trainer)"
  echo
  echo "Regenerate: \`benchmarks/run-slurm.sh BUILD_DIR $reps\` (as root)."
  echo
  echo "- date: $(date -u +%FT%TZ)"
  echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "- Slurm $(slurmd -V 2>/dev/null | awk "{print \$2}"), $(mpirun --version 2>/dev/null | head -1)"
  echo "- cluster: 3 virtual nodes on this host; jobs: stand-in, 20 ms steps, mpirun over TCP loopback"
  echo
  echo "| what | median s | all runs s |"
  echo "|---|---:|---|"
  echo "| cluster.sh start (munged, slurmctld, 3 slurmd, until idle) | $(m start) | $(all start) |"
  echo "| cluster.sh stop | $(m stop) | $(all stop) |"
  echo "| sbatch -> all 4 ranks running (2 nodes x 2) | $(m launch) | $(all launch) |"
  echo "| preemption: scancel --signal=USR1 --batch -> step exited 75 | $(m sig_exit) | $(all sig_exit) |"
  echo "| preemption: signal -> resumed run: first step, incl. 2 s release delay | $(m sig_resume) | $(all sig_resume) |"
  echo "| node failure: SIGKILL of n3's ranks -> step exited | $(m fail_exit) | $(all fail_exit) |"
  echo "| node failure: kill -> resumed on 2 nodes, incl. 2 s release delay | $(m fail_resume) | $(all fail_resume) |"
  echo
  echo "Notes (what the numbers mean; re-run on a quiet machine before quoting them):"
  echo
  echo "- Taken on a shared 2-core machine while other builds ran; the 3 \"nodes\" are one host."
  echo "- \"-> step exited\" includes up to 1 s of the batch shell's polling loop and mpirun's"
  echo "  teardown of the remaining ranks; the stand-in itself stops at the next 20 ms step."
  echo "- \"-> resumed\" adds requeue, the 2 s the tests wait before releasing the job (Slurm"
  echo "  alone holds a requeued job ~2 minutes: BeginTime), allocation and mpirun start-up"
  echo "  (~3.5 s here, see the sbatch row). With dyolo add its checkpoint write and load."
  echo "- Work lost: preemption loses nothing (checkpoint at the signal); a node failure loses"
  echo "  the steps since the last periodic checkpoint (here at most 10 steps)."
} >"$top/benchmarks/slurm.md"
cat "$top/benchmarks/slurm.md"
