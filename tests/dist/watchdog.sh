# watchdog.sh -- a rank that never arrives must end the job within the watchdog
# timeout plus a few seconds, with a message naming the operation and the rank.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
for np in 2 4; do
  for mode in poll thread; do
    t0=$(date +%s)
    DYOLO_TEST_TIMEOUT=40 "$RUN_MPI" "$np" "$TOP_BUILDDIR/tests/dist/test_watchdog" 2 $mode >"$TAP_TMP/out" 2>&1
    rc=$?
    el=$(( $(date +%s) - t0 ))
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]
    ok $? "np=$np $mode: the job fails (rc=$rc) rather than hanging"
    [ "$el" -le 20 ]
    ok $? "np=$np $mode: it ends within the 2 s timeout + grace + start-up (${el}s)"
    check_contains "$TAP_TMP/out" "watchdog: allreduce #1 .* did not complete within 2\.[0-9] s" \
      "np=$np $mode: the message names the operation and the limit"
    # A sleeping rank cannot answer by itself; its progress thread can.
    if [ $mode = poll ]; then why="no answer"; else why="has started only 1 collective"; fi
    check_contains "$TAP_TMP/out" "ranks that did not arrive: $((np - 1)) \($why" \
      "np=$np $mode: the message names rank $((np - 1)) ($why)"
    check_not_contains "$TAP_TMP/out" "did not arrive: .*[0-9] \(.*, [0-$((np - 2))] \(" \
      "np=$np $mode: and no rank that did arrive"
    check_contains "$TAP_TMP/out" "aborting: watchdog" "np=$np $mode: the one abort path is taken"
  done
done
tap_done
