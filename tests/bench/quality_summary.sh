# quality_summary.sh -- benchmarks/quality/summarize.py, the quality harness's report
# and target check, on made-up runs whose right answers are known: "best" is YOLOv5's
# best.pt epoch (highest 0.1 mAP50 + 0.9 mAP50-95, not the highest mAP50), a side
# meets the target only when its mean best mAP50 and mAP50-95 both reach
# Ultralytics' mean, the wall ratio is the ratio of mean walls, the range over seeds
# is printed with the last-10 validation losses where a run has them, runs on the old
# labels are starred, and the "3 seeds" column says
# whether the comparison has the evidence the target asks for; a results.csv that two
# runs were appended to is refused.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
PY=/usr/bin/python3
SUM=$TOP_SRCDIR/benchmarks/quality/summarize.py

# run DIR WALL_S "m50,m95 m50,m95 ..." [old]: one run's results.csv (YOLOv5 columns,
# padded as YOLOv5 writes them) and wall file.
run() {
  mkdir -p "$1"
  {
    echo "               epoch,      train/box_loss,      train/obj_loss,      train/cls_loss,   metrics/precision,      metrics/recall,     metrics/mAP_0.5,metrics/mAP_0.5:0.95,        val/box_loss,        val/obj_loss,        val/cls_loss,               x/lr0,               x/lr1,               x/lr2"
    e=0
    for p in $3; do
      echo "$e, 0.1, 0.1, 0, 0.5, 0.5, ${p%,*}, ${p#*,}, ${VL-0.1, 0.2, 0}, 0.01, 0.01, 0.01"
      e=$((e + 1))
    done
  } >"$1/results.csv"
  echo "wall_s $2" >"$1/wall"
  [ "${4:-}" = old ] && echo "labels: YOLO labels from make-suite.py before the fix" >"$1/README"
  return 0
}
# Ultralytics: best epochs (by fitness) 0.80/0.40, 0.70/0.50, 0.90/0.45 -> means
# 0.800 / 0.450; epoch 1 of s0 has the highest mAP50 but lower fitness.
run U/ds1/s0 1200 "0.1,0.05 0.95,0.30 0.80,0.40"
run U/ds1/s1 1200 "0.70,0.50 0.60,0.40"
run U/ds1/s2 1800 "0.90,0.45 0.50,0.20"
# dyolo-np1 beats both means (0.867 / 0.460), wall 600 s = 0.43x of the mean 1400 s.
run R/ds1/dyolo-np1/s0 600 "0.80,0.44 0.85,0.45"
run R/ds1/dyolo-np1/s1 600 "0.90,0.47"
run R/ds1/dyolo-np1/s2 600 "0.85,0.46"
# dyolo-np2 is higher on mAP50 but 0.001 below on mAP50-95 (0.449), wall 0.75x.
run R/ds1/dyolo-np2/s0 1050 "0.99,0.449"
run R/ds1/dyolo-np2/s1 1050 "0.99,0.449"
run R/ds1/dyolo-np2/s2 1050 "0.99,0.449"
# ds2: one seed a side, Ultralytics' on the old labels; a tie at the reported precision.
run U/ds2/s0 1000 "0.975,0.70" old
VL=",," run R/ds2/dyolo-np1/s0 500 "0.97504,0.70003"  # no validation losses (dyolo before b9cdb6c)

"$PY" "$SUM" R U out.md >log 2>&1; ok $? "summarize.py runs"
check_contains out.md '^\| ds1 \| dyolo-np1 \| 3 \| 3 \| 0\.867 / 0\.460 \| 0\.800 / 0\.450 \| yes \| 0\.43 \| yes \|$' \
  "ds1 1 rank: means over three seeds, at least Ultralytics, wall ratio of the mean walls"
check_contains out.md '^\| ds1 \| dyolo-np2 \| 3 \| 3 \| 0\.990 / 0\.449 \| 0\.800 / 0\.450 \| \*\*no\*\* \| 0\.75 \|' \
  "ds1 2 ranks: 0.001 below on mAP50-95 is below, whatever mAP50 does"
check_contains out.md '^\| ds2 \| dyolo-np1 \| 1 \| 1\* \| 0\.975 / 0\.700 \| 0\.975 / 0\.700 \| yes \| 0\.50 \| no \|$' \
  "ds2: a tie counts, one seed is not the evidence, old labels starred"
check_contains out.md '^\| ultralytics \| 0 1 2 \| 0\.800 \(0\.700-0\.900\) \| 0\.450 \(0\.400-0\.500\) \|' \
  "Ultralytics' best is the fitness epoch, with the range over seeds"
check_contains out.md '^\| ultralytics \| 0\* \|' "the old-label run is starred in its dataset's table"
check_contains out.md 'dyolo-np2 vs Ultralytics: .*\*\*below Ultralytics\*\*; wall \*\*over 0\.6x\*\*' \
  "the per-dataset verdict line says below and over 0.6x"
check_contains out.md '^\| dyolo-np1 \| 0 1 2 \| .* \| 0\.1000 / 0\.2000 \| 10\.0 \(10\.0-10\.0\) \| 0\.43 \|$' \
  "the last-10 validation losses, box / obj, mean over seeds"
check_contains out.md '^\| dyolo-np1 \| 0 \| 0\.975 \| 0\.700 \| .* \| - \| 8\.3 \|' "a run without validation losses shows none"
grep -q '^### Target check' out.md && [ "$(grep -n '^### ' out.md | head -1 | cut -d: -f1)" = 1 ]
ok $? "the target check comes first"
# A missing results.csv is skipped, not a crash; a run directory with run/results.csv is read.
mkdir -p R/ds1/dyolo-np1/s3 && mkdir -p R/ds3/dyolo-np1/s0/run && run R/ds3/dyolo-np1/s0/run 60 "0.5,0.2"
mv R/ds3/dyolo-np1/s0/run/wall R/ds3/dyolo-np1/s0/wall
"$PY" "$SUM" R U out2.md >log 2>&1; ok $? "summarize.py with an empty run and a run/ layout"
check_contains out2.md '^\| dyolo-np1 \| 0 1 2 \| 0\.867' "the empty run is left out of the means"
check_contains out2.md '^\| dyolo-np1 \| 0 \| 0\.500 \| 0\.200 \| .* \| 1\.0 \| - \|$' "ds3 (no Ultralytics runs): read from run/, no ratio"
# Two runs appended to one results.csv (YOLOv5 appends when its run directory is
# reused) are refused, naming the file, not read as one 4-epoch run.
run R/ds4/dyolo-np1/s0 100 "0.5,0.2" && run U/ds4/s0 100 "0.5,0.2 0.6,0.3" && run A 100 "0.9,0.8 0.9,0.8" && tail -n +2 A/results.csv >>U/ds4/s0/results.csv
"$PY" "$SUM" R U out3.md >log3 2>&1; [ $? -ne 0 ]; ok $? "a results.csv holding two runs is an error"
check_contains log3 'U/ds4/s0/results.csv: epoch 0 where 2 was expected' "the error names the file and the epoch"
tap_done
