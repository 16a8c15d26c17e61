# preempt.sh -- issue 8, Slurm test 2: preemption. While a 2-node x 2-task job of the
# stand-in runs, signal it the way Slurm does before preemption: first
# `scancel --signal=USR1 --batch` (the batch shell only; train.sbatch forwards it), then,
# after the requeued job has resumed, `scancel --signal=USR1 --full` (every process).
# Each time the job must checkpoint, exit 75, requeue itself and resume; the final
# result must equal an uninterrupted run's. The test (not the template) releases the
# requeued job's BeginTime delay. A plain `scancel` must cancel (not requeue), and the
# srun launcher goes through the same cycle.
. "$TOP_SRCDIR/tests/tap.sh"
. "$TOP_SRCDIR/tests/slurm/slurm-lib.sh"
slurm_setup 240

STANDIN_ARGS="--steps 250 --global-batch 12 --step-ms 20 --ckpt-every 1000"
ref=$(standin_reference 4 $STANDIN_ARGS)
[ -n "$ref" ]; ok $? "uninterrupted reference run: ${ref:-no result}"

jid=$(slurm_submit preempt --nodes=2 --ntasks-per-node=2); ok $? "sbatch accepted the job ($jid)"
run=$SLURM_TEST_DIR/preempt
# The first signal goes out once all ranks run and have done some steps.
wait_for_line "$run/logs/attempt-0.log" '^standin: rank 3/4' 60 && sleep 1
scancel --signal=USR1 --batch "$jid"; ok $? "scancel --signal=USR1 --batch"
wait_for_line "$run/logs/attempt-0.log" 'checkpoint written at step' 30
okl $? "attempt 0 checkpointed on the signal" preempt
wait_for_line "$run/logs/attempt-1.log" '^standin: resumed at step [1-9]' 60 "$jid"
okl $? "attempt 1 resumed from the checkpoint (--resume auto)" preempt
sleep 1
scancel --signal=USR1 --full "$jid"; ok $? "scancel --signal=USR1 --full"
wait_for_line "$run/logs/attempt-1.log" 'checkpoint written at step' 30
okl $? "attempt 1 checkpointed on the signal" preempt
st=$(slurm_wait_done "$jid" 90)
[ "$st" = COMPLETED ]; okl $? "job $jid COMPLETED (state: $st)" preempt
[ "$(slurm_job_field "$jid" Restarts)" = 2 ]; ok $? "requeued twice (Restarts=$(slurm_job_field "$jid" Restarts))"
check_contains "$SLURM_TEST_DIR/preempt.out" 'requeue: checkpointed after a signal \(exit 75\)' "template requeued on exit 75"
check_contains "$run/logs/attempt-2.log" '^standin: resumed at step [1-9]' "attempt 2 resumed too"
s1=$(sed -n 's/^standin: signal.*at step \([0-9]*\);.*/\1/p' "$run/logs/attempt-0.log")
s2=$(sed -n 's/^standin: signal.*at step \([0-9]*\);.*/\1/p' "$run/logs/attempt-1.log")
[ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" -lt "$s2" ] && [ "$s2" -lt 250 ]
ok $? "both signals came mid-run (checkpoints at steps ${s1:-?} and ${s2:-?} of 250)"
got=$(standin_result "$run/logs/attempt-2.log")
[ -n "$ref" ] && [ "$got" = "$ref" ]; ok $? "result after two preemptions equals the uninterrupted run (${got:-none})"

# A plain scancel (SIGTERM, job COMPLETING) must cancel, not requeue.
jid=$(slurm_submit pcancel --nodes=2 --ntasks-per-node=2); ok $? "job to cancel accepted ($jid)"
wait_for_line "$SLURM_TEST_DIR/pcancel/logs/attempt-0.log" '^standin: rank 3/4' 60 && sleep 1
scancel "$jid"
st=$(slurm_wait_done "$jid" 60); sleep 3
st=$(slurm_job_field "$jid" JobState)
[ "$st" = CANCELLED ] && [ "$(slurm_job_field "$jid" Restarts)" = 0 ]
okl $? "plain scancel: job stays CANCELLED, not requeued (state $st, Restarts=$(slurm_job_field "$jid" Restarts))" pcancel

# The default launcher of train.sbatch, srun --mpi=pmix (one node: PMIx cannot serve
# several virtual nodes of one host), through the same preemption cycle.
jid=$(DYOLO_LAUNCHER=srun slurm_submit psrun --nodes=1 --ntasks-per-node=2); ok $? "srun job accepted ($jid)"
run=$SLURM_TEST_DIR/psrun
wait_for_line "$run/logs/attempt-0.log" '^standin: rank 1/2' 60 && sleep 1
scancel --signal=USR1 --batch "$jid"
wait_for_line "$run/logs/attempt-0.log" 'checkpoint written at step [1-9]' 30
okl $? "srun step: checkpointed on the forwarded signal" psrun
st=$(slurm_wait_done "$jid" 90)
[ "$st" = COMPLETED ]; okl $? "srun job $jid COMPLETED after a requeue (state: $st, Restarts=$(slurm_job_field "$jid" Restarts))" psrun
check_contains "$SLURM_TEST_DIR/psrun.out" 'step: srun --mpi=pmix -K1' "launched with srun --mpi=pmix"
got=$(standin_result "$run/logs/attempt-1.log")
[ -n "$ref" ] && [ "$got" = "$ref" ]; ok $? "srun result after preemption equals the uninterrupted run (${got:-none})"
tap_done
