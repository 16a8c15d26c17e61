# bench.sh -- `dyolo bench allreduce` runs on 1 and 2 ranks and prints both tables
# with sane numbers (tiny sizes: this checks the tool, not the machine).
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
"$DYOLO" bench --help >"$TAP_TMP/help" 2>&1
check_contains "$TAP_TMP/help" "allreduce" "dyolo bench --help lists allreduce"
"$DYOLO" bench nosuch >"$TAP_TMP/bad" 2>&1
[ $? -eq 2 ]; ok $? "an unknown kind is a usage error"
"$DYOLO" bench allreduce --iters 0 >"$TAP_TMP/bad" 2>&1
[ $? -eq 2 ]; ok $? "a bad option value is a usage error"
for np in 1 2; do
  "$RUN_MPI" $np "$DYOLO" bench allreduce --sizes 4K,256K --iters 3 --warmup 1 --params-mb 2 \
    --layers 8 --work 2 --steps 2 --bucket-mb 0.25 --first-bucket-mb 0.0625 >"$TAP_TMP/out" 2>&1
  ok $? "np=$np: bench allreduce exits 0"
  check_contains "$TAP_TMP/out" "^\| +262144 \| MPI_Allreduce +\| +[0-9.]+ \| +[0-9.]+ \| +[0-9.]+ \|" \
    "np=$np: blocking MPI_Allreduce row with time and bandwidths"
  check_contains "$TAP_TMP/out" "^\| +262144 \| mpi \(comm\) " "np=$np: comm-interface row"
  check_contains "$TAP_TMP/out" "^\| poll +\| +[0-9.]+ \|.*\| +[0-9.]+% \|$" "np=$np: overlap row with hidden share"
done
tap_done
