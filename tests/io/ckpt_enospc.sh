# ckpt_enospc.sh -- a full disk while writing (a 1 MiB tmpfs): a clear error naming
# the file, no partial file left, `latest` and the previous checkpoint intact.  Both
# the early space check and a short write in the middle of the data are tested.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
T="$TOP_BUILDDIR/tests/io/test_ckpt"
mnt="$TAP_TMP/small"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>"$TAP_TMP/mount.err"; then
  echo "ok 1 # SKIP cannot mount a small tmpfs: $(head -1 "$TAP_TMP/mount.err")"
  echo "1..1"; exit 0
fi
trap 'umount "$mnt" 2>/dev/null; rm -rf "$TAP_TMP"' EXIT
d="$mnt/run"
"$RUN_MPI" 2 "$T" write "$d" 1 20000 > "$TAP_TMP/w1.log" 2>&1
check_contains "$TAP_TMP/w1.log" '^OK write step 1' "a small checkpoint fits"

for mode in early midwrite; do
  if [ $mode = midwrite ]; then export DYOLO_TEST_SKIP_SPACE_CHECK=1; fi
  "$RUN_MPI" 2 "$T" write "$d" 2 200000 > "$TAP_TMP/w2.log" 2>&1
  rc=$?
  [ $rc -eq 1 ]; ok $? "$mode: a checkpoint that does not fit fails cleanly (exit $rc)"
  check_contains "$TAP_TMP/w2.log" '^ERROR rank 0: .*ckpt-000000000002\.h5' "$mode: the error names the file"
  check_contains "$TAP_TMP/w2.log" '^ERROR rank 1: .*No space left on device' "$mode: every rank reports no space left"
  if [ $mode = early ]; then pat='needs about [0-9.]+ MB'; else pat='([Ww]rite failed|writing dataset .* at byte [0-9]+)'; fi
  check_contains "$TAP_TMP/w2.log" "$pat" "$mode: the failure comes from the $mode path"
  [ ! -e "$d/ckpt-000000000002.h5.tmp" ] && [ ! -e "$d/ckpt-000000000002.h5" ]
  ok $? "$mode: no partial file is left"
  grep -qx 'ckpt-000000000001.h5' "$d/latest"; ok $? "$mode: latest still names step 1"
  "$RUN_MPI" 2 "$T" read "$d" 1 20000 > "$TAP_TMP/r.log" 2>&1
  check_contains "$TAP_TMP/r.log" '^OK read step 1' "$mode: the previous checkpoint verifies and loads"
done
unset DYOLO_TEST_SKIP_SPACE_CHECK
tap_done
