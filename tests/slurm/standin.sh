# standin.sh -- the stand-in trainer's own protocol, without Slurm (runs wherever MPI
# does): results independent of the world size, SIGUSR1 -> checkpoint + exit 75,
# `--resume auto` on another world size gives the uninterrupted result, a stuck peer is
# turned into exit 1 by the watchdog (no hang), a corrupt checkpoint and bad usage are
# clear errors (1, 2). The Slurm tests rely on all of this.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
S=$TOP_BUILDDIR/tests/slurm/test_standin_trainer
export DYOLO_TEST_TIMEOUT=60
mpi() { "$RUN_MPI" "$@"; }
result() { sed -n 's/^standin result: \(.*\) world=.*/\1/p' "$1"; }

mpi 1 "$S" --run-dir "$TAP_TMP/w1" --steps 300 --step-ms 0 >"$TAP_TMP/w1.log" 2>&1
ok $? "1 rank runs to the end"
ref=$(result "$TAP_TMP/w1.log")
for np in 2 3; do
  mpi $np "$S" --run-dir "$TAP_TMP/w$np" --steps 300 --step-ms 0 >"$TAP_TMP/w$np.log" 2>&1
  got=$(result "$TAP_TMP/w$np.log")
  [ -n "$ref" ] && [ "$got" = "$ref" ]; ok $? "$np ranks give the 1-rank result (${got:-none})"
done
grep -q 'samples=3600 ' "$TAP_TMP/w1.log"; ok $? "every sample counted once (300 steps x 12)"

# SIGUSR1 to mpirun (it forwards it): checkpoint at the next step boundary, exit 75.
"$RUN_MPI" 2 "$S" --run-dir "$TAP_TMP/sig" --steps 100000 --step-ms 10 >"$TAP_TMP/sig.log" 2>&1 &
pid=$!
for i in $(seq 1 100); do grep -q 'rank 1/2' "$TAP_TMP/sig.log" && break; sleep 0.1; done
sleep 1
kill -USR1 $(pgrep -P $pid) 2>/dev/null  # $pid is timeout (run-mpi execs it); its child is mpirun
wait $pid; rc=$?
[ $rc -eq 75 ]; ok $? "SIGUSR1: exit status 75 (got $rc)"
check_contains "$TAP_TMP/sig.log" 'signal 10: checkpoint written at step [1-9]' "SIGUSR1: checkpoint written"
k=$(sed -n 's/.*checkpoint written at step \([0-9]*\);.*/\1/p' "$TAP_TMP/sig.log")
[ -n "$k" ] && [ "$k" -lt 300 ]; ok $? "signal arrived mid-run (step ${k:-?} < 300)"
mpi 3 "$S" --run-dir "$TAP_TMP/sig" --steps 300 --step-ms 0 --resume auto >"$TAP_TMP/res.log" 2>&1
ok $? "--resume auto on 3 ranks runs to the end"
check_contains "$TAP_TMP/res.log" "resumed at step $k \\(checkpoint written by 2 ranks\\) with 3 ranks" "resumed from the checkpoint"
got=$(result "$TAP_TMP/res.log")
[ -n "$ref" ] && [ "$got" = "$ref" ]; ok $? "interrupted + resumed result equals the uninterrupted one"

# A peer that stops responding: the others' watchdog fires; no hang.
t0=$(date +%s)
mpi 3 "$S" --run-dir "$TAP_TMP/hang" --steps 1000 --step-ms 0 --watchdog 3 --hang-rank 2 --hang-step 5 >"$TAP_TMP/hang.log" 2>&1
rc=$?; dt=$(( $(date +%s) - t0 ))
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $dt -lt 30 ]; ok $? "stuck peer: job fails in ${dt}s with status $rc (not a hang)"
check_contains "$TAP_TMP/hang.log" 'collective of step 5 did not complete in 3 s' "stuck peer: the watchdog names the step"

printf 'standin-state 1 garbage\n' >"$TAP_TMP/w1/checkpoints/standin.state"
mpi 1 "$S" --run-dir "$TAP_TMP/w1" --resume auto >"$TAP_TMP/bad.log" 2>&1; rc=$?
[ $rc -eq 1 ]; ok $? "corrupt checkpoint: exit 1 (got $rc)"
check_contains "$TAP_TMP/bad.log" 'w1/checkpoints/standin.state: corrupt checkpoint' "corrupt checkpoint: message names the file"
"$S" --steps 10 >"$TAP_TMP/usage.log" 2>&1; rc=$?
[ $rc -eq 2 ]; ok $? "missing --run-dir: usage error, exit 2 (got $rc)"
tap_done
