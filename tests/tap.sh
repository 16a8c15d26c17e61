# tap.sh -- TAP helpers for dyolo's shell tests (sourced; run by tap-driver.sh).
# ok COND_EXIT NAME / check_contains FILE PATTERN NAME / tap_done.
tap_n=0
tap_failed=0

ok() { # ok STATUS NAME: STATUS 0 means pass
  tap_n=$((tap_n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; tap_failed=$((tap_failed + 1)); fi
}

check_contains() { # check_contains FILE ERE NAME
  if grep -Eq -- "$2" "$1"; then ok 0 "$3"; else ok 1 "$3"; echo "#   pattern: $2"; sed 's/^/#   | /' "$1" | head -20; fi
}

check_not_contains() {
  if grep -Eq -- "$2" "$1"; then ok 1 "$3"; echo "#   unexpected: $2"; sed 's/^/#   | /' "$1" | head -20; else ok 0 "$3"; fi
}

tap_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# Temporary directory removed on exit, whatever happens.
tap_tmpdir() {
  TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dyolo-test.XXXXXX")
  trap 'rm -rf "$TAP_TMP"' EXIT
}

# mpi_tap NP MIN_PLAN NAME PROGRAM [ARGS...]: run a TAP-speaking MPI test program on
# NP ranks (rank 0 prints TAP); two checks: it exits 0, and it ran its whole plan
# (at least MIN_PLAN checks).  Failures and diagnostics are echoed as comments.
mpi_tap() {
  _np=$1 _min=$2 _name=$3; shift 3
  _out=$("$RUN_MPI" "$_np" "$@" 2>&1)
  _rc=$?
  echo "$_out" | grep -E '^(not ok|#)|rank [0-9]+:' | sed "s/^/# np=$_np: /"
  ok $_rc "$_name passes with $_np rank(s)"
  _n=$(echo "$_out" | grep -c '^ok ')
  _plan=$(echo "$_out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p')
  [ -n "$_plan" ] && [ "$_plan" -ge "$_min" ] && [ "$_n" -eq "$_plan" ]
  ok $? "np=$_np ran all checks ($_n ok of plan ${_plan:-none})"
}
