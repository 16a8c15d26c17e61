# timelimit.sh -- issue 8, Slurm test 4: time limit. A job with --time=1 (one minute)
# and --signal=B:USR1@30 runs a stand-in that needs longer than Slurm waits before
# sending the warning signal. The warning must make it checkpoint and requeue itself
# before the limit kills it (the job never ends TIMEOUT), and the requeued incarnations
# (each with a fresh minute, each warned again) resume until the run is complete, with
# the result of an uninterrupted run.
# Slurm checks time limits every 30 s and sends the --signal warning up to that much
# early, so the first warning comes 0-30 s after the start; the stand-in needs ~40 s.
. "$TOP_SRCDIR/tests/tap.sh"
. "$TOP_SRCDIR/tests/slurm/slurm-lib.sh"
slurm_setup 280

STANDIN_ARGS="--steps 2000 --global-batch 12 --step-ms 20 --ckpt-every 5000"
ref=$(standin_reference 2 $STANDIN_ARGS)
[ -n "$ref" ]; ok $? "uninterrupted reference run: ${ref:-no result}"

jid=$(slurm_submit timelimit --nodes=2 --ntasks-per-node=1 --time=1 --signal=B:USR1@30)
ok $? "sbatch --time=1 --signal=B:USR1@30 accepted the job ($jid)"
run=$SLURM_TEST_DIR/timelimit
st=$(slurm_wait_done "$jid" 230)
[ "$st" = COMPLETED ]; okl $? "job $jid COMPLETED, not TIMEOUT (state: $st)" timelimit
restarts=$(slurm_job_field "$jid" Restarts)
[ "${restarts:-0}" -ge 1 ]; ok $? "requeued at least once (Restarts=$restarts)"
check_contains "$SLURM_TEST_DIR/timelimit.out" 'got SIGUSR1' "the batch shell got Slurm's time-limit warning"
check_contains "$run/logs/attempt-0.log" 'checkpoint written at step [1-9]' "attempt 0 checkpointed before the limit"
check_not_contains "$SLURM_TEST_DIR/timelimit.out" 'DUE TO TIME LIMIT' "no incarnation was killed by the time limit"
last=$run/logs/attempt-${restarts:-0}.log
check_contains "$last" '^standin: resumed at step [1-9]' "the last attempt resumed from a checkpoint"
got=$(standin_result "$last")
[ -n "$ref" ] && [ "$got" = "$ref" ]; ok $? "result equals the uninterrupted run (${got:-none})"
tap_done
