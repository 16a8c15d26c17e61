#!/bin/sh
# model_cli.sh -- `dyolo model --summary` prints YOLOv5 v7.0's published parameter and
# GFLOP totals for n/s/m/l/x at nc=80, 640 px; errors name the spec; `dyolo bench step`
# runs and reports every figure.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
M="$TOP_SRCDIR/configs/models"

for row in "n 1872157 4.5" "s 7235389 16.5" "m 21190557 49.0" "l 46563709 109.1" "x 86749405 205.7"; do
  set -- $row
  "$DYOLO" model --config "$M/yolov5$1.json" --summary > "$TAP_TMP/$1.txt" 2>&1
  check_contains "$TAP_TMP/$1.txt" "25 layers, $2 parameters, $2 gradients, .* $3 GFLOPs at 640 px" \
    "yolov5$1: $2 parameters and $3 GFLOPs"
done
check_contains "$TAP_TMP/n.txt" '^24 +\[17, ?20, ?23\] +1 +115005 +Detect' "yolov5n: Detect row (from, params)"
check_contains "$TAP_TMP/n.txt" '^9 +-1 +1 +164608 +SPPF .* 256 x 20 x 20' "yolov5n: SPPF row with output shape"

"$DYOLO" model --config "$M/yolov5s.json" --nc 3 --imgsz 320 > "$TAP_TMP/s3.txt" 2>&1
check_contains "$TAP_TMP/s3.txt" "7027720 parameters" "--nc 3 changes the Detect head (7,027,720 params)"
check_contains "$TAP_TMP/s3.txt" "6300 x 8" "--imgsz 320: 6300 anchors x (5 + nc)"

"$DYOLO" model --config "$M/yolov5n.json" --ranges > "$TAP_TMP/r.txt" 2>&1
check_contains "$TAP_TMP/r.txt" "param  model.2.m.0.cv2.conv.weight .* group 0" "--ranges lists named flat ranges"
check_contains "$TAP_TMP/r.txt" "buffer model.24|buffer model.23.cv3.bn.running_var" "--ranges lists BN buffers"

printf '{"nc": 2, "anchors": [[1,2]], "backbone": [[-1, 1, "Conv", [8, 3, 2]], [-1, 1, "Conv", [8]]' > "$TAP_TMP/bad.json"
"$DYOLO" model --config "$TAP_TMP/bad.json" > "$TAP_TMP/bad.txt" 2>&1
ok $(( $? == 1 ? 0 : 1 )) "malformed spec exits 1"
check_contains "$TAP_TMP/bad.txt" "bad.json" "the error names the spec file"
"$DYOLO" model --config "$M/yolov5n.json" --imgsz 100 > "$TAP_TMP/u.txt" 2>&1
ok $(( $? == 2 ? 0 : 1 )) "--imgsz not a multiple of 32 is a usage error"

"$DYOLO" bench --help > "$TAP_TMP/bh.txt" 2>&1
check_contains "$TAP_TMP/bh.txt" "step +training-step time" "dyolo bench lists the step kind"
"$DYOLO" bench step --config "$M/yolov5n.json" --imgsz 64 --batch 2 --iters 1 --threads 1 > "$TAP_TMP/b.txt" 2>&1
check_contains "$TAP_TMP/b.txt" "images/s" "bench step reports images/s"
check_contains "$TAP_TMP/b.txt" "SGEMM peak +[0-9.]+ GFLOP/s" "bench step measures the SGEMM peak"
check_contains "$TAP_TMP/b.txt" "3x3 conv GFLOP/s [0-9.]+ \([0-9]+% of SGEMM peak" "bench step reports 3x3 convolution GFLOP/s"
check_contains "$TAP_TMP/b.txt" "3x3 / SGEMM +[0-9]+% \(median" "bench step compares each step's 3x3 rate with SGEMM run right after it"
check_contains "$TAP_TMP/b.txt" "after it, 1x 1024\^3 one per thread: [0-9.]+-[0-9.]+ GFLOP/s" "bench step prints the range of those SGEMM runs"
check_contains "$TAP_TMP/b.txt" "peak activation memory [0-9.]+ MB" "bench step reports activation memory"
tap_done
