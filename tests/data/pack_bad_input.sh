# pack_bad_input.sh -- every class of bad input is reported with its file (and
# --strict makes it fatal); a flipped byte in a shard is caught by its CRC naming the
# sample; a truncated shard gives a clear error; through a manifest, a shard whose
# size or whole-file CRC-32C differs from the manifest's is refused before HDF5 reads it.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
T=$TAP_TMP
DUMP="$TOP_BUILDDIR/tests/data/test_shard_dump"
"$DYOLO" synth --out "$T/s" --images 14 --classes 3 --size 80 --seed 2 2>/dev/null
I="$T/s/images/train"; L="$T/s/labels/train"
head -c 300 "$I/000000.jpg" > "$I/000000.jpg.t" && mv "$I/000000.jpg.t" "$I/000000.jpg"  # truncated JPEG
printf 'this is not an image' > "$I/000001.jpg"                                          # corrupt
rm "$I/000010.jpg" && ln -s "$T/nowhere.jpg" "$I/000010.jpg"                                                   # unreadable
rm "$L/000002.txt"                                                                         # missing label
printf '0 0.5 0.5 0.2\n1 0.5 0.5 0.2 0.2\n' > "$L/000003.txt"                              # malformed row
printf '0 0.95 0.5 0.3 0.2\n' > "$L/000004.txt"                                            # out of range
printf '0 0.5 0.5 0.0 0.2\n' > "$L/000005.txt"                                             # zero area
printf '7 0.5 0.5 0.2 0.2\n' > "$L/000006.txt"                                             # unknown class
printf '1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n' > "$L/000007.txt"                          # duplicate
: > "$L/000008.txt"                                                                        # background

"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out "$T/p" 2>"$T/log"
ok $? "pack without --strict succeeds despite bad input"
check_contains "$T/log" "corrupt image: .*000000.jpg" "truncated JPEG reported with its file"
check_contains "$T/log" "corrupt image: .*000001.jpg" "corrupt image reported with its file"
check_contains "$T/log" "unreadable image: .*000010.jpg" "unreadable image reported with its file"
check_contains "$T/log" "missing label file: .*000002.txt" "missing label file reported with its file"
check_contains "$T/log" "malformed label: .*000003.txt: line 1" "malformed label row reported with file and line"
check_contains "$T/log" "box out of range: .*000004.jpg" "out-of-range box reported with its file"
check_contains "$T/log" "zero-area box: .*000005.jpg" "zero-area box reported with its file"
check_contains "$T/log" "unknown class: .*000006.txt" "unknown class reported with its file"
check_contains "$T/log" "duplicate box: .*000007.jpg" "duplicate box reported with its file"
check_contains "$T/log" "pack: 8 samples \(4 background\)" "bad images dropped; images without labels kept as background"
"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out "$T/q" --strict 2>"$T/log2"
[ $? -eq 1 ] && [ ! -e "$T/q-00000.h5" ]
ok $? "--strict makes bad input fatal and writes nothing"
check_contains "$T/log2" "strict: 9 problem" "--strict names the problem count"

# VOC: image size mismatch and malformed XML
V="$T/voc"; mkdir -p "$V/Annotations" "$V/JPEGImages"
cp "$T/s/images/val/000012.jpg" "$V/JPEGImages/a.jpg"
cp "$V/JPEGImages/a.jpg" "$V/JPEGImages/b.jpg"
printf '<annotation><filename>a.jpg</filename><size><width>999</width><height>77</height></size><object><name>x</name><difficult>1</difficult><bndbox><xmin>2</xmin><ymin>3</ymin><xmax>20</xmax><ymax>30</ymax></bndbox></object></annotation>' > "$V/Annotations/a.xml"
printf '<annotation><filename>b.jpg</filename><object>' > "$V/Annotations/b.xml"
"$DYOLO" pack --format voc --input "$V" --out "$T/v" 2>"$T/log3"
ok $? "pack VOC with problems succeeds"
check_contains "$T/log3" "image size mismatch: JPEGImages/a.jpg: annotation says 999x77" "VOC size mismatch reported with its file"
check_contains "$T/log3" "malformed label: .*b.xml" "malformed VOC XML reported with its file"
"$DUMP" "$T/v.manifest.json" --labels | grep -q "^JPEGImages/a.jpg 0 .* 2$"
ok $? "VOC difficult flag kept (flags bit 1)"

# CRC: flip one byte inside images/data
"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --split val --out "$T/c" 2>/dev/null
"$DUMP" "$T/c.manifest.json" --verify
ok $? "intact shard verifies"
off=$("$DUMP" "$T/c-00000.h5" --data-offset)
python3 - "$T/c-00000.h5" "$off" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2]) + 100
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x40]))
PY
# The shard file itself (no manifest, so no whole-file check): the sample's CRC.
"$DUMP" "$T/c-00000.h5" --verify 2>"$T/log4"
[ $? -ne 0 ]
ok $? "flipped byte makes reading fail"
check_contains "$T/log4" "c-00000.h5: sample 0 .*CRC-32C" "the CRC error names the shard and the sample"
"$RUN_MPI" 2 "$TOP_BUILDDIR/tests/data/test_loader_digest" "$T/c-00000.h5" val 1 2 1 64 >/dev/null 2>"$T/log6"
[ $? -ne 0 ]
ok $? "the loader (2 ranks, worker threads) fails on the corrupt sample instead of hanging"
check_contains "$T/log6" "loader: .*c-00000.h5: sample 0 .*CRC-32C" "the loader's error names the shard and the sample"

cp "$T/p-00000.h5" "$T/t-00000.h5"
truncate -s $(( $(stat -c %s "$T/t-00000.h5") / 2 )) "$T/t-00000.h5"
"$DUMP" "$T/t-00000.h5" --verify 2>"$T/log5"
[ $? -ne 0 ]
ok $? "truncated shard fails to open"
check_contains "$T/log5" "cannot open shard .*t-00000.h5.*truncated" "truncated shard: clear error naming the file"

# Whole-file check through the manifest: pack records each shard's size and CRC-32C;
# train and val refuse a shard that differs before HDF5 parses it (HDF5 1.10.8 itself
# overflowed its heap on some corrupt attributes of its old format), on 1 and 2
# ranks, with the file and both CRCs named and no crash.  The cases: one byte of an
# attribute's value (the shard's "encoding", which the old reader accepted silently),
# one payload byte, and bytes appended (HDF5 opens such a file without complaint).
G="$T/g"
"$DYOLO" synth --out "$G/s" --images 16 --classes 2 --size 64 --seed 4 2>/dev/null &&
  "$DYOLO" pack --format yolo --input "$G/s/data.yaml" --split train --shards 2 --out "$G/train" 2>/dev/null &&
  "$DYOLO" pack --format yolo --input "$G/s/data.yaml" --split val --out "$G/val" 2>/dev/null
ok $? "synth and pack (2 train shards, 1 val shard)"
[ "$(grep -cE '"size_bytes":[[:space:]]*[0-9]+,' "$G/train.manifest.json")" -eq 2 ] &&
  [ "$(grep -cE '"crc32c":[[:space:]]*"[0-9a-f]{8}"' "$G/train.manifest.json")" -eq 2 ]
ok $? "the manifest records size_bytes and crc32c for each shard"
cat >"$G/cfg.json" <<JSON
{"run": {"out_dir": "$G/run", "seed": 1},
 "data": {"train": "$G/train.manifest.json", "val": "", "imgsz": 64, "workers": 1},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 1, "batch_size": 8, "warmup_epochs": 0},
 "runtime": {"threads": 1}}
JSON
"$DYOLO" train --config "$G/cfg.json" >"$G/ok.log" 2>&1
ok $? "intact shards: train runs through the manifest"
W=$(ls "$G"/run/checkpoints/*.h5 2>/dev/null | head -1)
"$DYOLO" val --weights "$W" --data "$G/val.manifest.json" --out "$G/v0" --threads 1 >"$G/v0.log" 2>&1
ok $? "intact shards: val runs through the manifest"
for f in train-00000 train-00001 val-00000; do cp "$G/$f.h5" "$G/$f.good"; done
restore() { for f in train-00000 train-00001 val-00000; do cp "$G/$f.good" "$G/$f.h5"; done; }
flip_at() { # flip_at FILE OFFSET
  python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xff]))
PY
}
# expect_refused LOG FILE NAME: exit status 1 (an error, not a signal), the file named
# with both CRCs (or sizes), no crash report.
expect_refused() {
  check_contains "$1" "$2: whole-file CRC-32C is [0-9a-f]{8}, but .*manifest.json says [0-9a-f]{8}|$2: [0-9]+ bytes, but .*manifest.json says [0-9]+" "$3: refused, naming the file"
  check_not_contains "$1" "Segmentation|AddressSanitizer|signal [0-9]|core dumped|Abort" "$3: no crash"
}
# 1. an attribute's value: the first byte of "jpeg" in train-00001.h5's encoding attribute
enc=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(d.index(b"jpeg\0", d.index(b"encoding\0")))' "$G/train-00001.h5")
flip_at "$G/train-00001.h5" "$enc"
for np in 1 2; do
  "$RUN_MPI" $np "$DYOLO" train --config "$G/cfg.json" --set run.out_dir="$G/a$np" >"$G/a$np.log" 2>&1
  [ $? -eq 1 ]; ok $? "attribute byte flipped: train on $np rank(s) exits 1"
  expect_refused "$G/a$np.log" "train-00001.h5" "attribute byte, train, $np rank(s)"
done
restore
# 2. one payload byte of the val shard
flip_at "$G/val-00000.h5" $(( $("$DUMP" "$G/val-00000.h5" --data-offset) + 100 ))
for np in 1 2; do
  "$RUN_MPI" $np "$DYOLO" val --weights "$W" --data "$G/val.manifest.json" --out "$G/v$np" --threads 1 >"$G/v$np.log" 2>&1
  [ $? -eq 1 ]; ok $? "payload byte flipped: val on $np rank(s) exits 1"
  expect_refused "$G/v$np.log" "val-00000.h5" "payload byte, val, $np rank(s)"
done
restore
# 3. bytes appended to the first train shard (HDF5 itself does not notice)
printf 'extra bytes' >>"$G/train-00000.h5"
"$RUN_MPI" 2 "$DYOLO" train --config "$G/cfg.json" --set run.out_dir="$G/z" >"$G/z.log" 2>&1
[ $? -eq 1 ]; ok $? "wrong size: train on 2 ranks exits 1"
expect_refused "$G/z.log" "train-00000.h5" "wrong size, train, 2 ranks"
restore
# 4. a manifest from an older pack (no size_bytes/crc32c): accepted, with one warning
python3 - "$G/train.manifest.json" "$G/old.manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for e in m["shards"]:
    del e["size_bytes"], e["crc32c"]
json.dump(m, open(sys.argv[2], "w"))
PY
"$DYOLO" train --config "$G/cfg.json" --set run.out_dir="$G/o" --set data.train="$G/old.manifest.json" >"$G/o.log" 2>&1
ok $? "a manifest without sizes and CRCs (older pack) still trains"
[ "$(grep -c 'not verified before HDF5 reads them' "$G/o.log")" -eq 1 ]
ok $? "with one warning that the shards are not verified"

# Background-only datasets are legal (issue #17 item 4): YOLO without label files
# (2 ranks), COCO without "annotations", COCO with no categories; a non-array
# "annotations" is a clear error.  None leaves a temp file or calls MPI after finalize.
B="$T/bg"; mkdir -p "$B/images/train"
cp "$T/s/images/val/000012.jpg" "$B/images/train/a.jpg"; cp "$T/s/images/val/000013.jpg" "$B/images/train/b.jpg"
"$RUN_MPI" 2 "$DYOLO" pack --format yolo --input "$B/images/train" --out "$T/bg1" >"$T/log7" 2>&1
ok $? "YOLO without label files packs on 2 ranks (background only)"
"$DUMP" "$T/bg1.manifest.json" --verify && [ "$("$DUMP" "$T/bg1.manifest.json" --labels | grep -c ' -$')" -eq 2 ]
ok $? "the background-only shard reads back: 2 samples, no boxes"
mkdir -p "$T/co"; cp "$B/images/train/a.jpg" "$B/images/train/b.jpg" "$T/co/"
printf '{"images":[{"id":1,"file_name":"a.jpg"},{"id":2,"file_name":"b.jpg"}],"categories":[{"id":3,"name":"x"}]}' >"$T/co/noann.json"
"$DYOLO" pack --format coco --input "$T/co/noann.json" --out "$T/bg2" >>"$T/log7" 2>&1 && "$DUMP" "$T/bg2.manifest.json" --verify
ok $? "COCO without \"annotations\" packs"
printf '{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[],"annotations":[]}' >"$T/co/nocat.json"
"$DYOLO" pack --format coco --input "$T/co/nocat.json" --out "$T/bg3" >>"$T/log7" 2>&1 && "$DUMP" "$T/bg3.manifest.json" --verify
ok $? "COCO with empty categories packs"
printf '{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"x"}],"annotations":"x"}' >"$T/co/bad.json"
"$DYOLO" pack --format coco --input "$T/co/bad.json" --out "$T/bg4" 2>"$T/log8"
[ $? -eq 1 ] && [ ! -e "$T/bg4-00000.h5" ]
ok $? "COCO with \"annotations\": \"x\" fails and writes nothing"
check_contains "$T/log8" 'bad.json: "annotations" must be an array' "the error names the file and the key"
check_not_contains "$T/log7" 'MPI_FINALIZE|addr overflow' "no HDF5 address overflow, no MPI call after finalize"
ls "$T"/bg*.tmp >/dev/null 2>&1; [ $? -ne 0 ]
ok $? "no temp file left behind"

# VOC (issue #17 items 3, 7, 8; the image is 80x63): a <part> inside an <object> does not replace the
# object's box; more than 4096 objects are all kept; class names longer than 63
# characters are kept whole (two such names once merged into one class).
W="$T/voc2"; mkdir -p "$W/Annotations" "$W/JPEGImages"
for n in p m l; do cp "$T/s/images/val/000012.jpg" "$W/JPEGImages/$n.jpg"; done
printf '<annotation><filename>p.jpg</filename><object><name>person</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>40</xmax><ymax>40</ymax></bndbox><part><name>hand</name><bndbox><xmin>30</xmin><ymin>30</ymin><xmax>35</xmax><ymax>35</ymax></bndbox></part></object></annotation>' >"$W/Annotations/p.xml"
python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
objs = "".join("<object><name>person</name><bndbox><xmin>%d</xmin><ymin>%d</ymin><xmax>%d</xmax><ymax>%d</ymax></bndbox></object>"
               % (1 + i % 70, 1 + i // 70 % 55, 3 + i % 70 + i // 3850, 3 + i // 70 % 55) for i in range(5000))
open(w + "/Annotations/m.xml", "w").write("<annotation><filename>m.jpg</filename>%s</annotation>" % objs)
long = "c" * 70
open(w + "/Annotations/l.xml", "w").write("<annotation><filename>l.jpg</filename>" + "".join(
    "<object><name>%s</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>%d</xmax><ymax>20</ymax></bndbox></object>" % (long + s, x)
    for s, x in (("a", 20), ("b", 30))) + "</annotation>")
PY
"$DYOLO" pack --format voc --input "$W" --out "$T/w" 2>"$T/log9"
ok $? "pack VOC with parts, 5000 objects and long class names"
# (its stderr and status shown on failure: one CI run once found no labels here)
"$DUMP" "$T/w.manifest.json" --labels >"$T/wl" 2>"$T/wl.err" || { echo "# shard dump --labels: exit $?"; sed 's/^/#   | /' "$T/wl.err" | head -20; }
grep -E "^JPEGImages/p.jpg " "$T/wl" >"$T/wp"
check_contains "$T/wp" "^JPEGImages/p.jpg [0-9]+ 0.26875 0.34127 0.43750 0.55556 0$" "the person keeps its own box, not its hand's"
[ "$(grep -c '^JPEGImages/m.jpg ' "$T/wl")" -eq 5000 ]
ok $? "all 5000 objects of one file are kept (got $(grep -c '^JPEGImages/m.jpg ' "$T/wl"))"
"$DUMP" "$T/w.manifest.json" --classes >"$T/wc"
check_contains "$T/wc" "^class [0-9]+ c{70}a$" "a 71-character class name is kept whole"
check_contains "$T/wc" "^class [0-9]+ c{70}b$" "and differs from its 71-character neighbour"

# Shard schema 2 (issue #17 item 5): the CRCs cover orig_size, letterbox, source_id,
# the file name and the class table; impossible values are refused at open; a
# version 1 shard gets a clear message.
flip() { # flip FILE DATASET BYTE: xor one byte of a dataset's storage
  python3 - "$1" "$(( $("$DUMP" "$1" --offset "$2") + $3 ))" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x04]))
PY
}
"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --split val --out "$T/c2" 2>/dev/null
k=0
for spec in "images/orig_size 8" "images/letterbox 13" "images/source_id 8" "images/name_data 25"; do
  k=$((k + 1)); cp "$T/c2-00000.h5" "$T/m$k.h5"
  flip "$T/m$k.h5" $spec
  "$DUMP" "$T/m$k.h5" --verify 2>"$T/logm"
  [ $? -ne 0 ]; ok $? "a flipped ${spec% *} byte makes reading fail"
  check_contains "$T/logm" "m$k.h5: sample 1 .*CRC-32C" "the error names the shard and the sample (${spec% *})"
done
cp "$T/c2-00000.h5" "$T/m5.h5"
python3 - "$T/m5.h5" "$("$DUMP" "$T/m5.h5" --offset images/orig_size)" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); f.write(struct.pack("<i", -80))
PY
"$DUMP" "$T/m5.h5" --labels >/dev/null 2>"$T/logm"
[ $? -ne 0 ]; ok $? "a negative original width is refused at open"
check_contains "$T/logm" "m5.h5: sample 0: original size -80x" "the error names the shard, the sample and the size"
cp "$T/c2-00000.h5" "$T/m6.h5"; flip "$T/m6.h5" classes/name_data 0
"$DUMP" "$T/m6.h5" --labels >/dev/null 2>"$T/logm"
[ $? -ne 0 ]; ok $? "a flipped class name is refused at open"
check_contains "$T/logm" "m6.h5: the class table .*CRC-32C" "the error names the shard and the class table"
cp "$T/c2-00000.h5" "$T/m7.h5"; "$DUMP" "$T/m7.h5" --set-attr schema_version 1
"$DUMP" "$T/m7.h5" --labels >/dev/null 2>"$T/logm"
[ $? -ne 0 ]; ok $? "a version 1 shard is refused"
check_contains "$T/logm" "m7.h5: shard schema version 1 .*pack the dataset again" "with a message saying to repack"
# Schema 3 (HDF5's own metadata checksums; HDF5 1.10.8 overflows its heap on some
# corrupt attributes of the older format): a shard given directly, without its
# manifest, in the old format (h5repack's default) is refused before HDF5 parses it;
# a flipped attribute byte of a current shard is HDF5's checksum error, not a crash.
if command -v h5repack >/dev/null; then
  h5repack "$T/c2-00000.h5" "$T/m8.h5"
  "$DUMP" "$T/m8.h5" --labels >/dev/null 2>"$T/logm"
  [ $? -eq 1 ]; ok $? "a shard in HDF5's old format is refused"
  check_contains "$T/logm" "shard .*m8.h5 has an HDF5 superblock of version 0, .*pack the dataset again" "with the file, the reason and what to do"
fi
cp "$T/c2-00000.h5" "$T/m9.h5"
enc=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(d.index(b"jpeg\0", d.index(b"encoding\0")))' "$T/m9.h5")
flip_at "$T/m9.h5" "$enc"
"$DUMP" "$T/m9.h5" --labels >/dev/null 2>"$T/logm"
[ $? -eq 1 ]; ok $? "a flipped attribute byte, shard given directly: an error"
check_contains "$T/logm" "m9.h5: .*incorrect metadata checksum" "HDF5 reports its checksum, naming the shard"
check_not_contains "$T/logm" "Segmentation|AddressSanitizer|signal [0-9]|core dumped|Abort" "and no crash"

# --out is a file prefix, checked before any work (issue #17 item 14): a folder is
# refused (it once wrote DIR/-00000.h5 and a hidden DIR/.manifest.json); a folder
# that cannot be created fails before the images are read; a missing one is created.
mkdir -p "$T/runs"
"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out "$T/runs/" 2>"$T/logo"
[ $? -eq 1 ] && [ ! -e "$T/runs/-00000.h5" ] && [ ! -e "$T/runs/.manifest.json" ]
ok $? "--out DIR/ is refused and writes nothing"
check_contains "$T/logo" 'error: --out ".*runs/" is a folder; it must be a file prefix' "the error says --out is a prefix"
"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out "$T/runs" 2>"$T/logo"; [ $? -eq 1 ]
ok $? "--out naming an existing folder is refused"
"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out /proc/nonexistent/train 2>"$T/logo"; [ $? -eq 1 ]
ok $? "--out in a folder that cannot be created fails"
check_not_contains "$T/logo" 'pack: (missing|corrupt|malformed)' "before any image or label is read"
"$DYOLO" pack --format yolo --input "$T/s/data.yaml" --out "$T/new/sub/train" 2>/dev/null && [ -f "$T/new/sub/train.manifest.json" ]
ok $? "a missing output folder is created"

# Labels with nan/inf (YOLO rows, a VOC field, a COCO 1e999) are malformed and
# dropped, never clipped into a plausible box.
N="$T/nan"; mkdir -p "$N/images/train" "$N/labels/train"
cp "$B/images/train/a.jpg" "$N/images/train/a.jpg"
printf '0 nan 0.5 0.2 0.2\n0 0.5 inf 0.2 0.2\n0 0.5 0.5 -inf 0.2\n0 0.3 0.3 0.2 0.2\n' > "$N/labels/train/a.txt"
"$DYOLO" pack --format yolo --input "$N/images/train" --out "$T/nan1" 2>"$T/logn"; ok $? "pack with non-finite YOLO labels"
[ "$("$DUMP" "$T/nan1.manifest.json" --labels | wc -l)" -eq 1 ]; ok $? "only the finite box is kept"
check_contains "$T/logn" 'malformed label: .*a.jpg: box 0 \[nan ' "a nan box is reported as malformed"
mkdir -p "$T/co2"; cp "$B/images/train/a.jpg" "$T/co2/"
printf '{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"x"}],"annotations":[{"image_id":1,"category_id":1,"bbox":[1e999,2,10,10]},{"image_id":1,"category_id":1,"bbox":[2,2,10,10]}]}' >"$T/co2/i.json"
"$DYOLO" pack --format coco --input "$T/co2/i.json" --out "$T/nan2" 2>"$T/logn"
[ "$("$DUMP" "$T/nan2.manifest.json" --labels | wc -l)" -eq 1 ]; ok $? "COCO bbox 1e999 (inf) is dropped"
check_contains "$T/logn" 'malformed label: .*box 0 \[inf ' "and reported as malformed"

# data.yaml whose nc disagrees with names is refused (as YOLOv5's check_dataset).
sed 's/^nc: 3$/nc: 4/' "$T/s/data.yaml" > "$T/s/nc.yaml"
"$DYOLO" pack --format yolo --input "$T/s/nc.yaml" --out "$T/ncx" 2>"$T/logc"; [ $? -eq 1 ]
ok $? "nc: 4 with 3 names is refused"
check_contains "$T/logc" 'nc.yaml: nc is 4 but names has 3 entries' "the error names the file and both counts"
tap_done
