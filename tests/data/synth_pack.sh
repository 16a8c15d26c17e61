# synth_pack.sh -- dyolo synth is deterministic; dyolo pack of the synthetic set,
# coco8 (YOLO), BCCD (VOC) and a generated COCO-JSON fixture reads back equal to the
# sources (labels after normalization, JPEG bytes, class names and ids); raw encoding;
# h5dump shows the documented schema.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
T=$TAP_TMP
DUMP="$TOP_BUILDDIR/tests/data/test_shard_dump"
CHECK="python3 $TOP_SRCDIR/tests/data/check_labels.py"
SHARED="$TOP_SRCDIR/../shared/datasets"

"$DYOLO" synth --out "$T/a" --images 12 --classes 3 --size 96 --seed 5 2>/dev/null &&
  "$DYOLO" synth --out "$T/b" --images 12 --classes 3 --size 96 --seed 5 2>/dev/null
ok $? "synth runs"
diff -r "$T/a" "$T/b" >/dev/null
ok $? "synth: same seed, same bytes"
"$DYOLO" synth --out "$T/c" --images 12 --classes 3 --size 96 --seed 6 2>/dev/null
! cmp -s "$T/a/images/train/000000.jpg" "$T/c/images/train/000000.jpg"
ok $? "synth: another seed, other images"
n=$(ls "$T/a/images/train" | wc -l); v=$(ls "$T/a/images/val" | wc -l)
[ "$n" -eq 9 ] && [ "$v" -eq 3 ] && grep -q "^  2: triangle" "$T/a/data.yaml"
ok $? "synth: YOLO layout with train/val split and names ($n/$v)"

# --- synthetic set (YOLO data.yaml)
"$DYOLO" pack --format yolo --input "$T/a/data.yaml" --split train --out "$T/syn" 2>"$T/log"
ok $? "pack synth train split"
"$DUMP" "$T/syn.manifest.json" --labels > "$T/d" && $CHECK yolo "$T/a" train "$T/d"
ok $? "synth: labels read back equal the sources"
"$DUMP" "$T/syn.manifest.json" --classes | grep -q "^class 1 square$"
ok $? "synth: class names stored"
h5dump -H "$T/syn-00000.h5" > "$T/h" 2>&1
for d in '"data"' '"offset"' '"crc32c"' '"orig_size"' '"letterbox"' '"name_data"' '"box"' '"class"' '"flags"' '"source_id"' '"schema_version"' '"created"'; do
  grep -q "$d" "$T/h" || { echo "# h5dump lacks $d"; false; } || break
done
ok $? "h5dump -H shows the documented schema"

# --- coco8 (YOLO)
if [ -f "$SHARED/coco8/coco8.yaml" ]; then
  "$DYOLO" pack --format yolo --input "$SHARED/coco8/coco8.yaml" --split train --out "$T/c8" 2>"$T/log"
  ok $? "pack coco8"
  "$DUMP" "$T/c8.manifest.json" --labels > "$T/d" && $CHECK yolo "$SHARED/coco8" train "$T/d"
  ok $? "coco8: labels read back equal the sources"
  mkdir "$T/pay" && "$DUMP" "$T/c8.manifest.json" --payloads "$T/pay" > "$T/list"
  bad=0
  while read -r i name; do cmp -s "$T/pay/$i.bin" "$SHARED/coco8/$name" || bad=1; done < "$T/list"
  [ -s "$T/list" ] && [ $bad -eq 0 ]
  ok $? "coco8: JPEG bytes identical to the source files"
  "$DUMP" "$T/c8.manifest.json" --classes | grep -q "^class 79 toothbrush$"
  ok $? "coco8: 80 class names from coco8.yaml"
else
  for k in 1 2 3 4; do echo "ok $((tap_n += 1)) # SKIP coco8 not found at $SHARED"; done
fi

# --- BCCD (VOC)
B="$SHARED/bccd/BCCD"
if [ -d "$B/Annotations" ]; then
  "$DYOLO" pack --format voc --input "$B" --out "$T/bccd" 2>"$T/log"
  ok $? "pack BCCD (all 364 annotations)"
  "$DUMP" "$T/bccd.manifest.json" --labels > "$T/d" && $CHECK voc "$B" - "$T/d"
  ok $? "BCCD: labels read back equal the sources"
  check_contains "$T/log" "zero-area box: JPEGImages/BloodImage_00338.jpg" "BCCD quirk (point box) is reported with its file"
  "$DUMP" "$T/bccd.manifest.json" --classes | tr '\n' ' ' | grep -q "class 0 Platelets class 1 RBC class 2 WBC"
  ok $? "BCCD: classes Platelets, RBC, WBC"
  "$DYOLO" pack --format voc --input "$B" --split test --out "$T/bt" 2>/dev/null &&
    [ "$(grep -c . "$B/ImageSets/Main/test.txt")" -eq "$("$DUMP" "$T/bt.manifest.json" --labels | cut -d' ' -f1 | sort -u | wc -l)" ]
  ok $? "BCCD: ImageSets/Main/test.txt split honoured"
else
  for k in 1 2 3 4 5; do echo "ok $((tap_n += 1)) # SKIP BCCD not found at $B"; done
fi

# --- COCO JSON fixture: sparse category ids, crowd flag, an unknown category
mkdir -p "$T/coco"
cp "$T/a/images/val/"*.jpg "$T/coco/"
python3 - "$T/coco" <<'PY'
import json, os, sys
d = sys.argv[1]
files = sorted(f for f in os.listdir(d) if f.endswith(".jpg"))
imgs, anns = [], []
for k, f in enumerate(files):
    raw = open(os.path.join(d, f), "rb").read()
    i = raw.index(b"\xff\xc0")  # baseline SOF0: height, width
    h, w = int.from_bytes(raw[i + 5:i + 7], "big"), int.from_bytes(raw[i + 7:i + 9], "big")
    imgs.append({"id": 100 + 7 * k, "file_name": f, "width": w, "height": h})
    anns.append({"id": len(anns), "image_id": 100 + 7 * k, "category_id": [3, 7, 11][k % 3], "bbox": [5, 6, 20.5, 30], "iscrowd": k % 2})
    anns.append({"id": len(anns), "image_id": 100 + 7 * k, "category_id": 7, "bbox": [30, 10, 40, 25], "iscrowd": 0})
anns.append({"id": len(anns), "image_id": 100, "category_id": 99, "bbox": [1, 1, 5, 5], "iscrowd": 0})
cats = [{"id": 11, "name": "eleven"}, {"id": 3, "name": "three"}, {"id": 7, "name": "seven"}]
json.dump({"images": imgs[::-1], "annotations": anns, "categories": cats}, open(os.path.join(d, "instances_fix.json"), "w"))
PY
"$DYOLO" pack --format coco --input "$T/coco/instances_fix.json" --out "$T/cf" 2>"$T/log"
ok $? "pack COCO JSON fixture"
"$DUMP" "$T/cf.manifest.json" --labels > "$T/d" && $CHECK coco "$T/coco/instances_fix.json" "$T/d"
ok $? "COCO: labels (and crowd flags) read back equal the sources"
"$DUMP" "$T/cf.manifest.json" --classes | tr '\n' ' ' | grep -q "class 0 three class 1 seven class 2 eleven" &&
  grep -A4 class_source_ids "$T/cf.manifest.json" | tr -d ' \n' | grep -q '\[3,7,11\]'
ok $? "COCO: category ids 3/7/11 map to classes 0/1/2, mapping stored"
check_contains "$T/log" "unknown class: .*instances_fix.json.*category_id 99" "COCO: unknown category reported with its file"

# --- raw encoding
"$DYOLO" pack --format yolo --input "$T/a/data.yaml" --split val --encoding raw --imgsz 64 --out "$T/raw" 2>/dev/null &&
  mkdir "$T/rp" && "$DUMP" "$T/raw.manifest.json" --payloads "$T/rp" >/dev/null
sizes=$(stat -c %s "$T/rp/"*.bin | sort -u)
[ "$sizes" = "12288" ]
ok $? "raw encoding stores 64x64x3 letterboxed pixels per sample"
tap_done
