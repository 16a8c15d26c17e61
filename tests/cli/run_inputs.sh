# run_inputs.sh -- bad or awkward inputs to train, resume and detect on a tiny run
# (16 images, 64 px, 2 steps: about a second): detect's output names and errors
# and resume with a model spec changed in place (issue #17 items 6, 9, 11).
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
"$DYOLO" synth --out syn --images 16 --classes 3 --size 96 --seed 3 >log 2>&1 &&
  "$DYOLO" pack --format yolo --input syn/data.yaml --split train --out sh/train >>log 2>&1
ok $? "synth and pack"
cat >cfg.json <<JSON
{"run": {"out_dir": "A", "seed": 1},
 "data": {"train": "sh/train.manifest.json", "val": "", "imgsz": 64, "workers": 1},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 1, "batch_size": 8, "warmup_epochs": 0},
 "runtime": {"threads": 1}}
JSON
"$DYOLO" train --config cfg.json >A.log 2>&1; ok $? "a 2-step run trains"

# detect: x.jpg and x.png are two outputs, not one file written twice.
mkdir dup; cp syn/images/train/000001.jpg dup/x.jpg; cp syn/images/train/000002.jpg dup/x.png
"$DYOLO" detect --weights A/checkpoints/latest --source dup --out det >d.log 2>&1; ok $? "detect on x.jpg and x.png"
[ -f det/x.jpg ] && [ -f det/x.png.jpg ] && ! cmp -s det/x.jpg det/x.png.jpg
ok $? "x.jpg -> det/x.jpg, x.png -> det/x.png.jpg (different images)"
grep -q '"output":.*det/x.png.jpg' det/detections.json; ok $? "detections.json names each image's output"
# detect: an image whose header claims 65000 x 65000 pixels is refused, naming it.
mkdir big
python3 - syn/images/train/000003.jpg big/huge.jpg <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"\xff\xc0")  # SOF0: length, precision, height, width
b[i + 5:i + 9] = struct.pack(">HH", 65000, 65000)
open(sys.argv[2], "wb").write(b)
PY
"$DYOLO" detect --weights A/checkpoints/latest --source big --out det2 >d2.log 2>&1; [ $? -eq 1 ]
ok $? "detect on a 65000x65000 image fails"
check_contains d2.log 'error: big/huge.jpg: image size 65000x65000 out of range' "the size error names the file"

# --resume auto compares the model spec's content, not only its path (item 6).
cp "$TOP_SRCDIR/configs/models/yolov5n.json" spec.json
"$DYOLO" train --config cfg.json --set run.out_dir=B --set model.spec=spec.json >B1.log 2>&1; ok $? "run B trains"
python3 -c 'import json; d = json.load(open("spec.json")); json.dump(d, open("spec.json", "w"), indent=1)'
"$DYOLO" train --config cfg.json --set run.out_dir=B --set model.spec=spec.json --set train.epochs=2 --resume auto \
  >B2.log 2>&1; ok $? "a spec reformatted (same content) resumes"
# Anchors may differ (AutoAnchor puts its own in the checkpoint): the run goes on with
# the checkpoint's; any other change is another network and is refused.
sed -i 's/10,/12,/' spec.json
"$DYOLO" train --config cfg.json --set run.out_dir=B --set model.spec=spec.json --set train.epochs=3 --resume auto \
  >B3.log 2>&1; ok $? "a spec whose anchors changed in place resumes"
check_contains B3.log "anchors .* differ from spec.json's: continuing with the checkpoint's" \
  "with the checkpoint's anchors, and says so"
python3 -c 'import json; d = json.load(open("spec.json")); d["depth_multiple"] = 0.67; json.dump(d, open("spec.json", "w"))'
"$DYOLO" train --config cfg.json --set run.out_dir=B --set model.spec=spec.json --set train.epochs=4 --resume auto \
  >B4.log 2>&1; [ $? -eq 1 ]; ok $? "a spec changed in place (depth_multiple) is refused on resume"
check_contains B4.log 'refusing to resume: the model spec spec.json differs from the one the checkpoint was trained with' \
  "the refusal names the spec file"
# Output places that cannot take files fail before the work, not after it.
"$DYOLO" train --config cfg.json --set run.out_dir=C --set ckpt.dir=/proc >C.log 2>&1; [ $? -eq 1 ]
ok $? "train with ckpt.dir=/proc (exists, takes no files) fails"
check_contains C.log 'ckpt.dir "/proc" cannot take files' "at start, naming ckpt.dir"
! grep -q '"step"' C/metrics.jsonl 2>/dev/null; ok $? "before any step ran"
touch notadir
"$DYOLO" pack --format yolo --input syn/data.yaml --split train --out sh2/v >/dev/null 2>&1
"$DYOLO" val --weights A/checkpoints/latest --data sh2/v.manifest.json --out notadir/x >V.log 2>&1; [ $? -eq 1 ]
ok $? "val --out under a regular file fails"
! grep -qi 'mAP' V.log; ok $? "before validating anything"
"$DYOLO" val --weights A/checkpoints/latest --data sh2/v.manifest.json --out V --json /proc/v.json >V2.log 2>&1; [ $? -eq 1 ]
ok $? "val --json into /proc fails"
check_contains V2.log 'json "/proc/v.json"' "naming --json and the file"
tap_done
