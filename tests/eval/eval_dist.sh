# eval_dist.sh -- distributed evaluation with 1, 2, 3 and 4 ranks: each run passes,
# and all world sizes report bit-identical metrics.
. "$TOP_SRCDIR/tests/tap.sh"
ref=""
for np in 1 2 3 4; do
  out=$("$RUN_MPI" "$np" "$TOP_BUILDDIR/tests/eval/test_eval_dist" 2>&1)
  ok $? "test_eval_dist passes with $np rank(s)"
  echo "$out" | grep '^not ok' | sed "s/^/# np=$np: /"
  m=$(echo "$out" | sed -n 's/^# METRICS //p')
  [ -n "$m" ]; ok $? "np=$np printed its metrics"
  [ -z "$ref" ] && ref=$m
  [ "$m" = "$ref" ]; ok $? "np=$np metrics identical to np=1"
done
tap_done
