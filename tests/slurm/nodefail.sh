# nodefail.sh -- issue 8, Slurm test 3: node failure. An elastic job (--nodes=2-3,
# whole nodes, 2 ranks per node) runs the stand-in on n1..n3; the test SIGKILLs every
# stand-in rank on the last node and drains that node, as a failed node would be. The
# step must fail fast (Open MPI aborts the job; the stand-in's watchdog is the backstop),
# train.sbatch requeues it (Slurm itself requeues only when slurmd is lost, not when
# processes die), and it resumes from the last checkpoint on the two remaining nodes
# with 4 instead of 6 ranks and the same global batch: the result (state, sample count
# and sample-id checksum: nothing dropped or repeated) equals an uninterrupted run's.
. "$TOP_SRCDIR/tests/tap.sh"
. "$TOP_SRCDIR/tests/slurm/slurm-lib.sh"
slurm_setup 240

STANDIN_ARGS="--steps 250 --global-batch 12 --step-ms 20 --ckpt-every 10 --watchdog 20"
ref=$(standin_reference 6 $STANDIN_ARGS)
[ -n "$ref" ]; ok $? "uninterrupted reference run (6 ranks): ${ref:-no result}"

jid=$(DYOLO_RANKS_PER_NODE=2 slurm_submit nodefail --nodes=2-3 --exclusive)
ok $? "sbatch accepted the job ($jid)"
run=$SLURM_TEST_DIR/nodefail
wait_for_line "$run/logs/attempt-0.log" '^standin: rank 5/6' 60 &&
  wait_for_line "$run/checkpoints/standin.state" . 30 && sleep 1
victims=$(slurm_node_ranks n3 | tr '\n' ' ')
[ "$(echo $victims | wc -w)" -eq 2 ]; okl $? "found the 2 ranks of n3 (pids: ${victims:-none})" nodefail
scontrol update nodename=n3 state=drain reason="dyolo test: node failure"
t_kill=$(date +%s)
kill -KILL $victims; ok $? "SIGKILLed every stand-in rank on n3"
wait_for_line "$SLURM_TEST_DIR/nodefail.out" 'requeue: failure 1' 40
okl $? "the step failed and train.sbatch requeued the job" nodefail
dt=$(( $(date +%s) - t_kill ))
[ "$dt" -le 30 ]; ok $? "failure detected fast (${dt}s after the kill, no hang)"
st=$(slurm_wait_done "$jid" 120)
[ "$st" = COMPLETED ]; okl $? "job $jid COMPLETED (state: $st)" nodefail
[ "$(slurm_job_field "$jid" NodeList)" = "n[1-2]" ]; ok $? "restarted on the remaining nodes n[1-2] ($(slurm_job_field "$jid" NodeList))"
check_contains "$run/logs/attempt-1.log" '^standin: resumed at step [1-9][0-9]* \(checkpoint written by 6 ranks\) with 4 ranks' \
  "resumed from the last checkpoint with 4 ranks instead of 6"
got=$(standin_result "$run/logs/attempt-1.log")
[ -n "$ref" ] && [ "$got" = "$ref" ]; ok $? "result equals the uninterrupted run: no sample dropped or repeated (${got:-none})"
scontrol update nodename=n3 state=resume
tap_done
