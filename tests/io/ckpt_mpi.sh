# ckpt_mpi.sh -- the checkpoint battery (test_ckpt suite) with 1, 2 and 4 ranks, and
# checkpoints read back bit for bit by a different number of ranks than wrote them.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
T="$TOP_BUILDDIR/tests/io/test_ckpt"
for np in 1 2 4; do
  mkdir -p "$TAP_TMP/s$np"
  mpi_tap $np 30 "checkpoint suite" "$T" suite "$TAP_TMP/s$np"
done

cross() { # cross WRITE_NP READ_NP [async]
  d="$TAP_TMP/x$1$3"
  [ -d "$d" ] || "$RUN_MPI" "$1" "$T" write "$d" 7 250001 $3 > "$TAP_TMP/w.log" 2>&1
  grep -q '^OK write' "$TAP_TMP/w.log"
  ok $? "write with $1 ranks ${3:-sync}"
  "$RUN_MPI" "$2" "$T" read "$d" 7 250001 > "$TAP_TMP/r.log" 2>&1
  check_contains "$TAP_TMP/r.log" "^OK read step 7 on $2 ranks" "written by $1 ranks ${3:-sync}, read bit-identical by $2"
}
cross 4 1
cross 4 3
cross 1 2
cross 2 4 async
tap_done
