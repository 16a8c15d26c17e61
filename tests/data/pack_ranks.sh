# pack_ranks.sh -- packing with 1, 2 and 3 ranks gives identical datasets in the
# shards (only run-specific attributes such as the time may differ); also with
# several shards and with raw encoding.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
T=$TAP_TMP
"$DYOLO" synth --out "$T/s" --images 23 --classes 4 --size 72 --seed 9 2>/dev/null
# one unreadable image so dropped samples are part of the check
printf 'junk' > "$T/s/images/train/000004.jpg"
for np in 1 2 3; do
  "$RUN_MPI" $np "$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out "$T/j$np" --shards 2 2>"$T/log$np"
  ok $? "pack with $np rank(s), 2 shards"
  "$RUN_MPI" $np "$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out "$T/r$np" --encoding raw --imgsz 48 2>>"$T/log$np"
  ok $? "pack raw with $np rank(s)"
done
for np in 2 3; do
  same=0
  for k in 00000 00001; do
    for g in /images /labels /classes; do
      h5diff "$T/j1-$k.h5" "$T/j$np-$k.h5" $g $g >"$T/diff" 2>&1 || { same=1; sed 's/^/# /' "$T/diff" | head -5; }
    done
  done
  for g in /images /labels /classes; do
    h5diff "$T/r1-00000.h5" "$T/r$np-00000.h5" $g $g >"$T/diff" 2>&1 || { same=1; sed 's/^/# /' "$T/diff" | head -5; }
  done
  ok $same "datasets packed with $np ranks are identical to 1 rank (jpeg, 2 shards; raw)"
done
"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out "$T/one" 2>/dev/null
D="$TOP_BUILDDIR/tests/data/test_shard_dump"
"$D" "$T/one.manifest.json" --labels > "$T/l1" && "$D" "$T/j3.manifest.json" --labels > "$T/l3" &&
  [ -s "$T/l1" ] && cmp -s "$T/l1" "$T/l3" && "$D" "$T/j3.manifest.json" --verify
ok $? "a 2-shard manifest reads back the same samples as 1 shard, all CRCs good"
n1=$(grep -c "corrupt image" "$T/log1"); n3=$(grep -c "corrupt image" "$T/log3")
[ "$n1" -ge 1 ] && [ "$n1" -eq "$n3" ]
ok $? "the dropped image is reported once whatever the rank count ($n1, $n3)"
h5dump -a /pack_ranks "$T/j3-00000.h5" | grep -q "(0): 3"
ok $? "provenance attribute records the packing ranks"
tap_done
