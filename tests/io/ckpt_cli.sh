# ckpt_cli.sh -- `dyolo ckpt list|verify|info|export` on checkpoints written by
# test_ckpt (2 ranks), including a corrupt one; and `dyolo bench --help`.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
T="$TOP_BUILDDIR/tests/io/test_ckpt"
run="$TAP_TMP/run"; d="$run/checkpoints"
"$RUN_MPI" 2 "$T" write "$d" 3 5000 > "$TAP_TMP/w.log" 2>&1 && "$RUN_MPI" 2 "$T" write "$d" 6 5000 >> "$TAP_TMP/w.log" 2>&1
ok $? "two checkpoints written"
"$DYOLO" ckpt --help > "$TAP_TMP/h.log"; ok $? "ckpt --help"
check_contains "$TAP_TMP/h.log" 'export FILE --out WEIGHTS' "help lists the subcommands"
"$DYOLO" ckpt info "$d/ckpt-000000000006.h5" > "$TAP_TMP/i.log" 2>&1; ok $? "info runs"
check_contains "$TAP_TMP/i.log" 'schema_version +1' "info shows the schema version"
check_contains "$TAP_TMP/i.log" 'array +model\.params +f32\[5000\]' "info lists arrays with type and length"
check_contains "$TAP_TMP/i.log" 'rank array +rng\.state +i64\[2 x 8\]' "info lists rank arrays (2 writer ranks)"
check_contains "$TAP_TMP/i.log" 'step +6' "info shows attributes"
"$DYOLO" ckpt verify "$d/ckpt-000000000006.h5" > "$TAP_TMP/v.log" 2>&1; ok $? "verify an intact checkpoint"
# Corrupt step 6 in the middle of the file: its data, not its header.
size=$(stat -c %s "$d/ckpt-000000000006.h5")
printf '\377\377\377\377' | dd of="$d/ckpt-000000000006.h5" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
"$DYOLO" ckpt verify "$d/ckpt-000000000006.h5" > "$TAP_TMP/v2.log" 2>&1
[ $? -eq 1 ]; ok $? "verify exits 1 on a corrupt checkpoint"
check_contains "$TAP_TMP/v2.log" 'error: .*ckpt-000000000006\.h5: checksum mismatch in dataset' "and names file and dataset"
"$DYOLO" ckpt list "$run" > "$TAP_TMP/l.log" 2>&1; ok $? "list runs"
check_contains "$TAP_TMP/l.log" 'ckpt-000000000006\.h5 .*CORRUPT' "list marks the corrupt one"
check_contains "$TAP_TMP/l.log" 'ckpt-000000000003\.h5 +3 +0 .*verified' "list shows step, epoch and verified"
"$DYOLO" ckpt export "$d/ckpt-000000000003.h5" --out "$TAP_TMP/w.h5" > "$TAP_TMP/e.log" 2>&1; ok $? "export"
"$DYOLO" ckpt info "$TAP_TMP/w.h5" > "$TAP_TMP/wi.log" 2>&1
check_contains "$TAP_TMP/wi.log" 'weights_from +"ema"' "the export holds the EMA weights"
check_not_contains "$TAP_TMP/wi.log" 'momentum' "and no optimizer state"
if command -v h5dump > /dev/null; then
  h5dump -A "$d/ckpt-000000000003.h5" > "$TAP_TMP/d.log" 2>&1; ok $? "h5dump reads a checkpoint"
  check_contains "$TAP_TMP/d.log" 'dyolo-checkpoint' "h5dump shows the schema name"
fi
# A checkpoint rewritten in HDF5's old format (no metadata checksums; h5repack's
# default) never reaches HDF5's parser: HDF5 1.10.8 can overflow its heap on a corrupt
# attribute of that format (issue #17; tests/fuzz/regressions/fuzz_shard/old-format-*).
if command -v h5repack > /dev/null; then
  h5repack "$d/ckpt-000000000003.h5" "$TAP_TMP/old.h5"
  "$DYOLO" ckpt verify "$TAP_TMP/old.h5" > "$TAP_TMP/o.log" 2>&1; [ $? -eq 1 ]; ok $? "an old-format HDF5 checkpoint is refused"
  check_contains "$TAP_TMP/o.log" 'old\.h5 has an HDF5 superblock of version 0, the format without metadata checksums' "naming the file and the reason"
fi
# The run's `best`/`latest` pointers, which val and detect accept, work here too
# (issue #17 item 12); a pointer naming a missing file says so.
printf 'ckpt-000000000003.h5\n' > "$d/best"
"$DYOLO" ckpt verify "$d/best" > "$TAP_TMP/p.log" 2>&1; ok $? "verify follows the best pointer"
check_contains "$TAP_TMP/p.log" 'ckpt-000000000003\.h5: OK' "and names the checkpoint it verified"
"$DYOLO" ckpt info "$d/best" > "$TAP_TMP/p.log" 2>&1 && grep -Eq 'step +3' "$TAP_TMP/p.log"; ok $? "info follows the best pointer"
"$DYOLO" ckpt export "$d/best" --out "$TAP_TMP/wb.h5" > "$TAP_TMP/p.log" 2>&1; ok $? "export follows the best pointer"
printf 'ckpt-000000000099.h5\n' > "$d/latest"
"$DYOLO" ckpt verify "$d/latest" > "$TAP_TMP/p.log" 2>&1; [ $? -eq 1 ]; ok $? "a dangling latest pointer fails"
check_contains "$TAP_TMP/p.log" 'latest names ckpt-000000000099\.h5, which does not exist' "with a message saying so"
"$DYOLO" ckpt export "$d/ckpt-000000000003.h5" > /dev/null 2>&1; [ $? -eq 2 ]; ok $? "export without --out is a usage error"
"$DYOLO" ckpt frobnicate x > /dev/null 2>&1; [ $? -eq 2 ]; ok $? "unknown subcommand is a usage error"
"$DYOLO" bench --help > "$TAP_TMP/b.log"; check_contains "$TAP_TMP/b.log" '^  ckpt ' "bench --help lists ckpt"
tap_done
