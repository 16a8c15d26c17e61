# slurm-lib.sh -- shared helpers of the Slurm tests (sourced after tests/tap.sh):
# start one throw-away cluster per test file and always tear it down, submit
# slurm/train-cpu.sbatch running the stand-in trainer, wait for jobs with a bound
# (releasing the BeginTime delay of requeued jobs, as a test must), find the ranks of a
# node, and read the stand-in's result line.
# defines: okl, slurm_setup, slurm_submit, slurm_wait_state, slurm_wait_done, slurm_job_field,
#          slurm_node_ranks, standin_result, standin_reference, slurm_show_logs

STANDIN=$TOP_BUILDDIR/tests/slurm/test_standin_trainer
STANDIN_REAL=$(readlink -f "$STANDIN")
CLUSTER=$TOP_SRCDIR/slurm/cluster/cluster.sh
# The test cluster's "nodes" share one host: Open MPI must not use shared memory
# between them (HPC-STACK-FACTS.md), and loopback is the only interface they share.
export DYOLO_MPIRUN_ARGS="--mca btl tcp,self --mca btl_tcp_if_include lo --oversubscribe"
export DYOLO_SLURM_DIR=$TOP_SRCDIR/slurm
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

slurm_cleanup() {
  [ -n "${SLURM_TEST_DIR:-}" ] || return 0
  "$CLUSTER" stop "$SLURM_TEST_DIR/cluster" >&2
  if [ -n "${DYOLO_KEEP_SLURM_TEST:-}" ]; then echo "# kept $SLURM_TEST_DIR" >&2
  else rm -rf "$SLURM_TEST_DIR"; fi
}

# slurm_setup LIMIT_S: temp dir + cluster, cleaned up on any exit; the whole test file
# is killed (and cleaned up) after LIMIT_S seconds. On a machine that cannot run
# Slurm it prints one SKIP and exits.
slurm_setup() {
  local out rc
  if [ -z "${SLURM_TEST_LIMITED:-}" ]; then
    # Re-run this test file under a hard limit; its TERM trap still cleans up.
    SLURM_TEST_LIMITED=1 exec timeout --kill-after=30 "$1" "$BASH" "$0"
  fi
  SLURM_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dyolo-slurm.XXXXXX") || exit 1
  chmod 0755 "$SLURM_TEST_DIR" # munged runs as user munge and must reach its socket
  trap 'slurm_cleanup' EXIT
  trap 'echo "not ok - test file exceeded its time limit or was interrupted"; exit 1' TERM INT
  out=$("$CLUSTER" start "$SLURM_TEST_DIR/cluster" 2>&1); rc=$?
  if [ $rc -ne 0 ]; then
    echo "$out" | sed 's/^/# /'
    if [ -n "${DYOLO_SLURM_REQUIRED:-}" ]; then # set where Slurm must work (CI)
      echo "not ok 1 - local Slurm cluster did not start (DYOLO_SLURM_REQUIRED is set)"; echo "1..1"; exit 1
    fi
    echo "ok 1 # SKIP slurmctld/slurmd could not start in this environment: $(echo "$out" | grep -E 'cluster.sh: [^-]' | tail -1) ($(echo "$out" | grep -iE 'error|fatal' | head -1))"
    echo "1..1"; exit 0
  fi
  eval "$(echo "$out" | grep '^export SLURM_CONF=')"
  ok 0 "cluster up: munged, slurmctld and n1..n3 idle"
  [ -x "$STANDIN" ]; ok $? "stand-in trainer built ($STANDIN)"
  cd "$SLURM_TEST_DIR" || exit 1
}

# slurm_submit NAME SBATCH-OPTIONS... -- stand-in options come from $STANDIN_ARGS.
# Prints the job id. Run dir: $SLURM_TEST_DIR/NAME, batch log $SLURM_TEST_DIR/NAME.out.
slurm_submit() {
  local name=$1; shift
  DYOLO_RUN_DIR=$SLURM_TEST_DIR/$name DYOLO_TRAIN_CMD="$STANDIN $STANDIN_ARGS" \
    sbatch --parsable --job-name="$name" --output="$SLURM_TEST_DIR/$name.out" "$@" \
    "$TOP_SRCDIR/slurm/train-cpu.sbatch"
}

slurm_job_field() { # slurm_job_field JOBID FIELD -> value of FIELD= in scontrol show job
  scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

# slurm_wait_state JOBID ERE TIMEOUT_S: wait until JobState matches ERE; releases a
# requeued job's BeginTime delay (Slurm holds requeued jobs ~2 minutes otherwise).
slurm_wait_state() {
  local jid=$1 want=$2 t_end=$(( $(date +%s) + $3 )) st reason
  while [ "$(date +%s)" -lt "$t_end" ]; do
    st=$(slurm_job_field "$jid" JobState); reason=$(slurm_job_field "$jid" Reason)
    if echo "$st" | grep -Eqx "$want"; then echo "$st"; return 0; fi
    [ "$st" = PENDING ] && [ "$reason" = BeginTime ] && slurm_release "$jid"
    sleep 0.5
  done
  echo "timeout(last state ${st:-none}, reason ${reason:-none})"
  return 1
}

slurm_wait_done() { # slurm_wait_done JOBID TIMEOUT_S -> final state
  slurm_wait_state "$1" 'COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE' "$2"
}

# slurm_release JOBID: a requeued job waits ~2 minutes (BeginTime) unless released;
# releasing it belongs in the tests, not in the template. Not at once: slurmd revokes
# the old incarnation's credential (second resolution), and a restart within the same
# second fails with "Job credential revoked"; so wait 2 s and until no node is still
# completing the old incarnation (bounded: 15 s).
slurm_release() {
  local i
  [ "$(slurm_job_field "$1" JobState)" = PENDING ] && [ "$(slurm_job_field "$1" Reason)" = BeginTime ] || return 0
  sleep 2
  for i in $(seq 1 26); do
    [ -z "$(sinfo -h -N -t completing -o %N 2>/dev/null)" ] && break
    sleep 0.5
  done
  scontrol update jobid="$1" StartTime=now >/dev/null 2>&1
}

# wait_for_line FILE ERE TIMEOUT_S [JOBID]: wait until FILE has a line matching ERE,
# releasing JOBID's BeginTime delay meanwhile.
wait_for_line() {
  local t_end=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -lt "$t_end" ]; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    [ -n "${4:-}" ] && slurm_release "$4"
    sleep 0.3
  done
  return 1
}

# slurm_node_ranks NODE: pids of stand-in ranks running on virtual node NODE of this
# cluster (slurmstepd gives each task SLURMD_NODENAME; mpirun's ranks inherit it).
slurm_node_ranks() {
  local p env
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$STANDIN_REAL" ] || continue
    env=$({ tr '\0' '\n' <"$p/environ"; } 2>/dev/null)
    echo "$env" | grep -qx "SLURM_CONF=$SLURM_CONF" || continue
    echo "$env" | grep -qx "SLURMD_NODENAME=$1" && echo "${p#/proc/}"
  done
}

# standin_result FILE...: the result fields that must match (not world=, which may differ).
standin_result() {
  grep -h '^standin result:' "$@" 2>/dev/null | tail -1 | sed 's/ world=.*//; s/^standin result: //'
}

# standin_reference NP ARGS...: the same computation under plain mpirun, outside Slurm,
# without the per-step sleep (the result does not depend on it).
standin_reference() {
  local np=$1; shift
  "$RUN_MPI" "$np" "$STANDIN" --run-dir "$SLURM_TEST_DIR/reference-$np" "$@" --step-ms 0 \
    >"$SLURM_TEST_DIR/reference-$np.log" 2>&1
  standin_result "$SLURM_TEST_DIR/reference-$np.log"
}

# okl STATUS NAME RUN: ok, and on failure the logs of job RUN as TAP comments.
okl() { ok "$1" "$2"; [ "$1" -eq 0 ] || slurm_show_logs "$3"; }

slurm_show_logs() { # slurm_show_logs NAME: batch log + attempt logs as TAP comments
  echo "# ---- $1.out"; sed 's/^/#   /' "$SLURM_TEST_DIR/$1.out" 2>/dev/null | grep -v '^#       ' | tail -40
  for f in "$SLURM_TEST_DIR/$1"/logs/*.log; do
    [ -f "$f" ] && { echo "# ---- $f"; tail -15 "$f" | sed 's/^/#   /'; }
  done
}
