# ckpt_resume.sh -- preemption and crashes with a toy resumable MPI program
# (test_ckpt_toy, 2 ranks): SIGUSR1 to one rank stops all ranks at the same step
# with exit 75 and a checkpoint, and the resumed run ends bit-identical to an
# uninterrupted one; a second signal during the checkpoint write is harmless; kill -9
# of one rank paused inside a write ends the job without hanging, the previous
# checkpoint verifies and the next run resumes from it.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
TOY="$TOP_BUILDDIR/tests/io/test_ckpt_toy"
export DYOLO_TEST_TIMEOUT=90
STEPS=60

digest() { sed -n 's/.*\[r0\].*final step [0-9]* digest \([0-9a-f]*\).*/\1/p' "$1"; }
wait_for() { # wait_for FILE PATTERN COUNT: up to 30 s
  i=0
  # a missing file (the background job's redirection not done yet) counts as 0
  while c=$(grep -c -- "$2" "$1" 2>/dev/null); [ "${c:-0}" -lt "$3" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  [ $i -lt 300 ]
}
start_toy() { # start_toy DIR LOG INTERVAL: background run, pid in $bg
  mkdir -p "$1"
  "$RUN_MPI" 2 "$TOY" "$1" $STEPS "$3" > "$2" 2>&1 &
  bg=$!
}

mkdir -p "$TAP_TMP/ref"
"$RUN_MPI" 2 "$TOY" "$TAP_TMP/ref" $STEPS 10 > "$TAP_TMP/ref.log" 2>&1
ok $? "uninterrupted toy run"
ref=$(digest "$TAP_TMP/ref.log")
[ -n "$ref" ]; ok $? "it prints a final digest ($ref)"
kept=$(cd "$TAP_TMP/ref" && ls ckpt-*.h5 | tr '\n' ' ')
[ "$kept" = "ckpt-000000000050.h5 ckpt-000000000060.h5 " ]; ok $? "the writer's keep=2 left the last two checkpoints ($kept)"

# --- SIGUSR1 to rank 1 only.
d="$TAP_TMP/sig"
start_toy "$d" "$TAP_TMP/sig.log" 10
wait_for "$TAP_TMP/sig.log" 'resum\|starting at step' 2 && sleep 0.5
kill -USR1 "$(cat "$d/pid.1")"
wait $bg; rc=$?
[ $rc -eq 75 ]; ok $? "SIGUSR1 to one rank: the job exits 75 (got $rc)"
s0=$(sed -n 's/.*\[r0\].*stopping after step \([0-9]*\) on SIGUSR1.*/\1/p' "$TAP_TMP/sig.log")
s1=$(sed -n 's/.*\[r1\].*stopping after step \([0-9]*\) on SIGUSR1.*/\1/p' "$TAP_TMP/sig.log")
[ -n "$s0" ] && [ "$s0" = "$s1" ] && [ "$s0" -lt $STEPS ]
ok $? "both ranks stopped after the same step ($s0, $s1) though only rank 1 got the signal"
"$DYOLO" ckpt verify "$d/ckpt-$(printf %012d "${s0:-0}").h5" > "$TAP_TMP/v.log" 2>&1
ok $? "the checkpoint written at that step verifies"
"$RUN_MPI" 2 "$TOY" "$d" $STEPS 10 > "$TAP_TMP/sig2.log" 2>&1
ok $? "the resumed run completes"
check_contains "$TAP_TMP/sig2.log" "\[r1\].*starting at step $s0\$" "it resumes at step $s0"
[ "$(digest "$TAP_TMP/sig2.log")" = "$ref" ]; ok $? "and ends bit-identical to the uninterrupted run"

# --- A second (and third) signal while the checkpoint is being written.
d="$TAP_TMP/sig3"
export DYOLO_TEST_PAUSE_IN_CKPT_WRITE=2
start_toy "$d" "$TAP_TMP/sig3.log" 1000
wait_for "$TAP_TMP/sig3.log" 'starting at step' 2 && sleep 0.3
kill -USR1 "$(cat "$d/pid.1")"
wait_for "$TAP_TMP/sig3.log" 'rank 1 (pid [0-9]*) pausing' 1
kill -TERM "$(cat "$d/pid.0")"; kill -USR1 "$(cat "$d/pid.1")"
wait $bg; rc=$?
unset DYOLO_TEST_PAUSE_IN_CKPT_WRITE
[ $rc -eq 75 ]; ok $? "signals during the write: still one clean exit 75 (got $rc)"
check_contains "$TAP_TMP/sig3.log" '\[r1\].*stopping after step [0-9]* on SIGUSR1 \(2 signals seen\)' "rank 1 saw both signals"
n=$(grep -c 'stopping after step' "$TAP_TMP/sig3.log")
[ "$n" -eq 2 ]; ok $? "each rank stopped once ($n lines)"
ls "$d"/ckpt-*.h5 > /dev/null 2>&1 && "$DYOLO" ckpt verify "$(ls "$d"/ckpt-*.h5 | tail -1)" > "$TAP_TMP/v.log" 2>&1
ok $? "the checkpoint verifies"
"$RUN_MPI" 2 "$TOY" "$d" $STEPS 1000 > "$TAP_TMP/sig4.log" 2>&1
[ "$(digest "$TAP_TMP/sig4.log")" = "$ref" ]; ok $? "resumed run ends bit-identical"

# --- kill -9 of rank 1 while it is paused inside the second checkpoint write.
d="$TAP_TMP/kill"
export DYOLO_TEST_PAUSE_IN_CKPT_WRITE=2
t0=$(date +%s)
start_toy "$d" "$TAP_TMP/kill.log" 10
wait_for "$TAP_TMP/kill.log" 'rank 1 (pid [0-9]*) pausing' 2
kill -9 "$(cat "$d/pid.1")"
wait $bg; rc=$?
t1=$(date +%s)
unset DYOLO_TEST_PAUSE_IN_CKPT_WRITE
# mpirun passes on the killed rank's 137; a timeout would be 124 and take 90 s
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $((t1 - t0)) -lt 60 ]
ok $? "kill -9 mid-write: the job ends by itself (exit $rc, $((t1 - t0)) s)"
[ -e "$d/ckpt-000000000020.h5.tmp" ] && [ ! -e "$d/ckpt-000000000020.h5" ]
ok $? "the interrupted checkpoint is only a .tmp"
grep -qx 'ckpt-000000000010.h5' "$d/latest"; ok $? "latest still names the previous one"
"$DYOLO" ckpt verify "$d/ckpt-000000000010.h5" > "$TAP_TMP/v.log" 2>&1
ok $? "the previous checkpoint verifies"
"$RUN_MPI" 2 "$TOY" "$d" $STEPS 10 > "$TAP_TMP/kill2.log" 2>&1
ok $? "the next run completes"
check_contains "$TAP_TMP/kill2.log" 'partial checkpoint' "warning about the partial .tmp"
check_contains "$TAP_TMP/kill2.log" '\[r0\].*starting at step 10$' "it resumes from the last complete checkpoint (step 10)"
[ "$(digest "$TAP_TMP/kill2.log")" = "$ref" ]; ok $? "and ends bit-identical to the uninterrupted run"
tap_done
