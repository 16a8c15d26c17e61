# dist_mpi.sh -- run test_dist_mpi under mpirun with 1, 2 and 4 ranks.
. "$TOP_SRCDIR/tests/tap.sh"
for np in 1 2 4; do
  out=$("$RUN_MPI" "$np" "$TOP_BUILDDIR/tests/dist/test_dist_mpi" 2>&1)
  rc=$?
  echo "$out" | grep -E '^(not ok|#)|rank [0-9]+:' | sed "s/^/# np=$np: /"
  ok $rc "test_dist_mpi passes with $np rank(s)"
  n=$(echo "$out" | grep -c '^ok ')
  plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p')
  [ -n "$plan" ] && [ "$plan" -ge 30 ] && [ "$n" -eq "$plan" ]
  ok $? "np=$np ran all checks ($n ok of plan ${plan:-none})"
done
tap_done
