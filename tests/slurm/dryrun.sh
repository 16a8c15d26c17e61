# dryrun.sh -- `DYOLO_DRY_RUN=1 sbatch slurm/train.sbatch CONFIG` on the local cluster:
# the GPU template's own launch (3 nodes x 2 ranks, mpirun inside the allocation over
# TCP, as this one-host cluster needs) with `dyolo train --dry-run`: one line per rank
# with its node (n1..n3), node-local rank 0/1, "cpu" and the reason (no GPU here) and
# the MPI transport; the job COMPLETES without a run directory or a requeue.
. "$TOP_SRCDIR/tests/tap.sh"
. "$TOP_SRCDIR/tests/slurm/slurm-lib.sh"
slurm_setup 180
echo '{"runtime": {"threads": 1}}' >"$SLURM_TEST_DIR/cfg.json"
# The template asks for 4 GPUs per node; this cluster has none, so the test asks for 0.
jid=$(DYOLO_DRY_RUN=1 DYOLO_LAUNCHER=mpirun DYOLO="$DYOLO" DYOLO_RUN_DIR="$SLURM_TEST_DIR/dry" \
      sbatch --parsable --job-name=dry --output="$SLURM_TEST_DIR/dry.out" --nodes=3 --ntasks-per-node=2 \
      --gpus-per-node=0 --cpus-per-task=1 --time=5 "$TOP_SRCDIR/slurm/train.sbatch" "$SLURM_TEST_DIR/cfg.json")
ok $? "sbatch accepted the dry run of train.sbatch ($jid)"
st=$(slurm_wait_done "$jid" 90)
[ "$st" = COMPLETED ]; okl $? "dry-run job COMPLETED (state: $st)" dry
out=$SLURM_TEST_DIR/dry.out
grep '^dry-run: ' "$out" | sed 's/^/#   /'
[ "$(grep -Ec '^dry-run: rank [0-5] of 6: node n[1-3]' "$out")" -eq 6 ]; ok $? "one line per rank, 6 ranks, each on a node n1..n3"
for n in 1 2 3; do
  [ "$(grep -Ec "^dry-run: rank [0-5] of 6: node n$n .* local rank [01] of 2," "$out")" -eq 2 ]
  ok $? "node n$n runs 2 ranks with node-local ranks 0 and 1"
  grep -Eq "^dry-run: rank [0-5] of 6: node n$n .* local rank 0 of 2," "$out" &&
    grep -Eq "^dry-run: rank [0-5] of 6: node n$n .* local rank 1 of 2," "$out"
  ok $? "node n$n: local ranks 0 and 1 both present"
done
[ "$(grep -Ec '^dry-run: rank .* device cpu \(no usable GPU: .+\), transport mpi' "$out")" -eq 6 ]
ok $? "every rank: device cpu with the no-GPU reason, transport mpi"
check_contains "$out" '^dry-run: ok; no data loaded, nothing trained' "the dry run says it trained nothing"
check_contains "$out" 'dry run finished' "the batch script saw exit 0"
[ ! -e "$SLURM_TEST_DIR/dry" ]; ok $? "no run directory created"
[ "$(slurm_job_field "$jid" Restarts)" = 0 ]; ok $? "not requeued"
tap_done
