# bench_step_dist.sh -- `dyolo bench step --dist` (the distributed training-step
# breakdown) on 2 oversubscribed ranks with a tiny input, synthetic and loader data,
# and on 1 rank: every compute phase takes time, waits are not negative, the hidden
# share is a fraction, and DDP all-reduces exactly the gradient once per step in one
# collective per bucket.  Checks the tool, not the machine's speed.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
M="$TOP_SRCDIR/configs/models/yolov5n.json"

# field FILE LABEL COLUMN: the number in column 1 (rank 0) or 2 (max over ranks).
field() { sed -n "s|^$2  *||p" "$1" | awk -v c="$3" '{print $c}'; }
# in_range FILE LABEL LO HI: both columns within [LO, HI] (HI may be "inf").
in_range() {
  for col in 1 2; do
    v=$(field "$1" "$2" $col)
    awk -v v="$v" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v != "" && v + 0 >= lo && (hi == "inf" || v + 0 <= hi)) }' ||
      { echo "#   $2 column $col = '$v' not in [$3, $4]"; return 1; }
  done
}

check_report() { # check_report FILE NAME NP
  f=$1 n=$2
  for ph in forward loss backward optimizer "step (wall)"; do
    in_range "$f" "$ph" 0.000001 inf; ok $? "$n: $ph takes time on every rank"
  done
  for ph in "data wait" "sync wait" "exposed comm"; do
    in_range "$f" "$ph" 0 inf; ok $? "$n: $ph is not negative"
  done
  if [ "$3" -gt 1 ]; then
    in_range "$f" "all-reduce alone (blocking)" 0.000001 inf; ok $? "$n: the blocking all-reduce takes time"
    in_range "$f" "hidden (1 - exposed/alone)" 0 1; ok $? "$n: hidden share in [0, 1]"
    in_range "$f" "hidden net (1 - (exposed+hooks)/alone)" 0 1; ok $? "$n: net hidden share in [0, 1]"
    in_range "$f" "in backward's gradient hooks" 0.000001 inf; ok $? "$n: the gradient hooks take time"
  else
    check_contains "$f" "^hidden .* n/a +n/a$" "$n: no hidden share with one rank"
  fi
  bytes=$(sed -n 's/^all-reduced per step: \([0-9]*\) bytes in \([0-9.]*\) collective.*gradients: \([0-9]*\) bytes.*/\1 \2 \3/p' "$f")
  nb=$(sed -n 's/.* in \([0-9]*\) bucket(s).*/\1/p' "$f")
  set -- $bytes
  [ -n "$1" ] && [ "$1" = "$3" ]; ok $? "$n: all-reduced bytes per step ($1) = gradient bytes ($3)"
  [ -n "$2" ] && [ "$2" = "$nb.0" ]; ok $? "$n: one collective per bucket per step ($2 for $nb buckets)"
}

"$DYOLO" bench step --dist --help >"$TAP_TMP/help" 2>&1
check_contains "$TAP_TMP/help" "exposed" "bench step --dist --help explains the breakdown"
"$DYOLO" bench step --dist --bucket-mb 0 >"$TAP_TMP/bad" 2>&1
[ $? -eq 2 ]; ok $? "a bucket size of 0 is a usage error"

args="--config $M --imgsz 64 --batch 2 --threads 1 --iters 2 --warmup 1"
"$RUN_MPI" 2 "$DYOLO" bench step $args --bucket-mb 0.5 --first-bucket-mb 0.25 >"$TAP_TMP/two" 2>&1
ok $? "2 ranks, synthetic data: exits 0"
check_contains "$TAP_TMP/two" "2 rank\(s\) x 1 thread\(s\), batch 2 per rank \(4 global\), 64 px" "2 ranks: header"
nb=$(sed -n 's/.* in \([0-9]*\) bucket(s).*/\1/p' "$TAP_TMP/two")
[ "${nb:-0}" -ge 8 ]; ok $? "0.5 MB buckets split yolov5n's 7 MB into at least 8 buckets ($nb)"
check_report "$TAP_TMP/two" "2 ranks" 2

"$RUN_MPI" 1 "$DYOLO" bench step --dist $args >"$TAP_TMP/one" 2>&1
ok $? "1 rank: exits 0"
check_contains "$TAP_TMP/one" "min_buckets 8\); sizes MB:( [0-9.]+){7,}$" "1 rank: the small-model rule gives several buckets"
check_report "$TAP_TMP/one" "1 rank" 1

# The real loader on packed shards (data wait is measured, not 0 by construction).
"$DYOLO" synth --out "$TAP_TMP/syn" --images 12 --classes 2 --size 64 --seed 0 >/dev/null 2>&1 &&
  "$DYOLO" pack --format yolo --input "$TAP_TMP/syn/data.yaml" --split train --out "$TAP_TMP/tr" >/dev/null 2>&1
ok $? "synthesize and pack a tiny dataset"
"$RUN_MPI" 2 "$DYOLO" bench step $args --data "$TAP_TMP/tr.manifest.json" --set data.workers=1 \
  --set dist.progress=thread >"$TAP_TMP/data" 2>&1
ok $? "2 ranks, loader data, progress thread: exits 0"
check_contains "$TAP_TMP/data" "data: .*tr.manifest.json; transport mpi, progress thread" "loader run: header names the data"
check_report "$TAP_TMP/data" "2 ranks + loader" 2
tap_done
