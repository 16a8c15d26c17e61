# pt_import.sh -- `dyolo import` (issue #19): YOLOv5 v7.0 .pt files made by the real
# YOLOv5 code (tests/io/make_pt_fixtures.py; committed in tests/io/fixtures) become
# dyolo weights whose eval forward equals YOLOv5's (test_pt_forward), with class names;
# hostile and broken files (tests/io/make_bad_pt.py, made now with Python's pickle and
# zipfile) are refused with a message naming the culprit, run nothing and crash nothing.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
FX="$TOP_SRCDIR/tests/io/fixtures"
FWD="$TOP_BUILDDIR/tests/io/test_pt_forward"

"$DYOLO" import --help > "$TAP_TMP/h.log"; ok $? "import --help"
check_contains "$TAP_TMP/h.log" '--model SPEC' "help explains --model"
"$DYOLO" --help | grep -Eq '^  import '; ok $? "dyolo --help lists import"

# fixture, --model or "", source, names
while read -r name spec source names; do
  [ "$spec" = - ] && spec= || spec="--model $FX/$spec"
  # shellcheck disable=SC2086
  "$DYOLO" import "$FX/$name.pt" --out "$TAP_TMP/$name.h5" $spec > "$TAP_TMP/$name.log" 2>&1
  ok $? "import $name.pt"
  check_contains "$TAP_TMP/$name.log" "weights +$source \(291 tensors mapped" "$name: the $source weights, every tensor mapped"
  if [ "$names" = none ]; then
    pat='names +\(none in the file: class0\.\.class2\)'; want=class0,class1,class2
  else
    pat="names +$names"; want=$(echo "$names" | sed 's/, /,/g')
  fi
  check_contains "$TAP_TMP/$name.log" "$pat" "$name: class names in the summary"
  "$DYOLO" ckpt info "$TAP_TMP/$name.h5" > "$TAP_TMP/$name.info" 2>&1
  check_contains "$TAP_TMP/$name.info" 'schema +"dyolo-weights"' "$name: a dyolo-weights file that verifies"
  check_contains "$TAP_TMP/$name.info" "weights_from +\"$source\"" "$name: it records where the weights came from"
  "$FWD" "$TAP_TMP/$name.h5" "$FX/$name.out.bin" "$want" > "$TAP_TMP/$name.fwd" 2>&1
  ok $? "$name: dyolo's eval forward equals YOLOv5's within 1e-4 (and names $want)"
  grep -E '^(not ok|#)|max' "$TAP_TMP/$name.fwd" | sed 's/^/#   /'
done <<'LIST'
yolov5n-best - model red, green, blue
tiny-last - ema red, green, blue
tiny-state_dict tiny.json state_dict none
LIST

# train.py's autoanchor may change the anchors: the checkpoint's win over the spec's.
check_contains "$TAP_TMP/tiny-last.log" 'anchors from the checkpoint' "tiny-last: its (autoanchor) anchors replace the spec's"
check_contains "$TAP_TMP/tiny-state_dict.log" 'anchors from the checkpoint' "tiny-state_dict: also over --model's"
check_not_contains "$TAP_TMP/yolov5n-best.log" 'anchors from' "yolov5n-best: the spec's anchors already match"

# detect accepts an imported file (val and train read it through the same weights_load).
"$DYOLO" synth --out "$TAP_TMP/syn" --images 2 --classes 3 --size 64 > /dev/null 2>&1
img=$(ls "$TAP_TMP"/syn/images/*/* | head -1)
"$DYOLO" detect --weights "$TAP_TMP/yolov5n-best.h5" --source "$img" --out "$TAP_TMP/det" --conf 0.5 \
  > "$TAP_TMP/det.log" 2>&1
ok $? "detect runs on imported weights"
[ -s "$TAP_TMP/det/detections.json" ]; ok $? "and writes detections.json"

# A state_dict has no model.yaml; a wrong spec is caught by the shape check.
"$DYOLO" import "$FX/tiny-state_dict.pt" --out "$TAP_TMP/x.h5" > "$TAP_TMP/e1.log" 2>&1
[ $? -eq 1 ]; ok $? "a state_dict without --model is an error"
check_contains "$TAP_TMP/e1.log" 'state_dict, which carries no model\.yaml: name the model spec with --model' "which says to pass --model"
"$DYOLO" import "$FX/yolov5n-best.pt" --model "$FX/tiny.json" --out "$TAP_TMP/x.h5" > "$TAP_TMP/e2.log" 2>&1
[ $? -eq 1 ]; ok $? "yolov5n weights with the tiny spec are refused"
check_contains "$TAP_TMP/e2.log" 'tensor "model\.0\.conv\.weight" is 16x3x6x6 .* needs 864 elements' "naming the tensor and both shapes"
"$DYOLO" import "$FX/tiny-last.pt" > /dev/null 2>&1; [ $? -eq 2 ]; ok $? "--out is required (usage error)"

# Hostile and broken files.
marker="$TAP_TMP/MARKER"
cases=$(python3 "$TOP_SRCDIR/tests/io/make_bad_pt.py" "$FX/tiny-state_dict.pt" "$TAP_TMP/bad" "$marker")
ok $? "make_bad_pt.py made: $cases"
for c in $cases; do
  "$DYOLO" import "$TAP_TMP/bad/$c.pt" --model "$FX/tiny.json" --out "$TAP_TMP/bad/$c.h5" > "$TAP_TMP/bad/$c.log" 2>&1
  rc=$?
  [ $rc -eq 1 ]; ok $? "$c: refused with exit 1 (got $rc; >= 128 would be a crash)"
  check_contains "$TAP_TMP/bad/$c.log" "error: .*$(cat "$TAP_TMP/bad/$c.expect")" "$c: the message names the culprit"
  [ ! -e "$TAP_TMP/bad/$c.h5" ]; ok $? "$c: no output file"
done
[ ! -e "$marker" ]; ok $? "no payload ran (the marker file does not exist)"
tap_done
