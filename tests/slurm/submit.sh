# submit.sh -- issue 8, Slurm test 1: sbatch a 2-node x 2-task job of the stand-in
# trainer on a real local cluster; it must finish, spread its ranks over both nodes,
# and print exactly the result of the same run under plain `mpirun -np 4`. Also checks
# that the cluster's teardown leaves no daemon or job process behind.
. "$TOP_SRCDIR/tests/tap.sh"
. "$TOP_SRCDIR/tests/slurm/slurm-lib.sh"
slurm_setup 240

STANDIN_ARGS="--steps 60 --global-batch 12 --step-ms 20"
ref=$(standin_reference 4 $STANDIN_ARGS)
[ -n "$ref" ]; ok $? "reference run under plain mpirun -np 4: ${ref:-no result}"

jid=$(slurm_submit submit --nodes=2 --ntasks-per-node=2); ok $? "sbatch accepted the job ($jid)"
st=$(slurm_wait_done "$jid" 90)
[ "$st" = COMPLETED ]; okl $? "job $jid COMPLETED (state: $st)" submit
log=$SLURM_TEST_DIR/submit/logs/attempt-0.log
[ "$(grep -Ec '^standin: rank [0-9]+/4 node n[12] ' "$log")" -eq 4 ]
ok $? "4 ranks started, on the job's nodes"
grep -q ' node n1 ' "$log" && grep -q ' node n2 ' "$log"; ok $? "ranks on both n1 and n2"
got=$(standin_result "$log")
[ -n "$ref" ] && [ "$got" = "$ref" ]; ok $? "Slurm result equals mpirun -np 4 result (${got:-none})"
check_contains "$SLURM_TEST_DIR/submit.out" 'SLURM_JOB_NODELIST=n\[1-2\]' "environment echoed at the top of the batch log"
check_contains "$SLURM_TEST_DIR/submit.out" 'training finished' "batch script saw exit 0"
[ "$(slurm_job_field "$jid" Restarts)" = 0 ]; ok $? "no restart"

# A start that cannot work fails at once, naming the daemon and the reason.
mkdir -m 0700 "$SLURM_TEST_DIR/private"
out=$("$CLUSTER" start "$SLURM_TEST_DIR/private/c" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q 'user munge cannot enter'
ok $? "cluster.sh start in a directory munge cannot reach: exit 1 with the reason (got $rc)"

# The scaling driver on the same cluster: 1 and 2 nodes, then the collector job.
ids=$(DYOLO_LAUNCHER=mpirun DYOLO_RANKS_PER_NODE=2 DYOLO_BENCH_CMD="$STANDIN $STANDIN_ARGS" \
      "$TOP_SRCDIR/slurm/scaling.sh" -n "1 2" -o "$SLURM_TEST_DIR/scaling" 2>/dev/null)
ok $? "scaling.sh submitted $(echo $ids | wc -w) jobs (2 points + collector)"
st=$(slurm_wait_done "$(echo "$ids" | tail -1)" 90)
[ "$st" = COMPLETED ]; ok $? "scaling collector job COMPLETED (state: $st)"
md=$SLURM_TEST_DIR/scaling/scaling.md
[ "$(grep -Ec '^\| [12] \| [24] \| [0-9.]+ \| [0-9.]+ \| [0-9]+% \| - \| 0 \|$' "$md" 2>/dev/null)" -eq 2 ]
rc=$?; ok $rc "scaling.md has one successful row per node count"
[ $rc -eq 0 ] || sed 's/^/#   /' "$md" "$SLURM_TEST_DIR/scaling/"*.out 2>/dev/null | head -30
r1=$(standin_result "$SLURM_TEST_DIR/scaling/run-n1/logs/attempt-0.log")
r2=$(standin_result "$SLURM_TEST_DIR/scaling/run-n2/logs/attempt-0.log")
[ -n "$r1" ] && [ "$r1" = "$ref" ] && [ "$r2" = "$ref" ]; ok $? "both scaling points computed the reference result"

# Teardown must leave nothing running: no daemon of this cluster, no job process.
conf=$SLURM_CONF
"$CLUSTER" stop "$SLURM_TEST_DIR/cluster"
left=""
for p in /proc/[0-9]*; do
  [ "${p#/proc/}" = $$ ] && continue
  if { tr '\0' '\n' <"$p/cmdline"; tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -Fq "$SLURM_TEST_DIR/cluster"; then
    left="$left ${p#/proc/}($(cat "$p/comm" 2>/dev/null))"
  fi
done
[ -z "$left" ]; ok $? "cluster.sh stop leaves no process of the cluster running${left:+: $left}"
SLURM_CONF=$conf timeout 3 sinfo >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "slurmctld no longer answers"
tap_done
