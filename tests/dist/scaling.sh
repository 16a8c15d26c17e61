# scaling.sh -- `dyolo bench scaling` on the CPU transport: measure the training step
# (yolov5n, 128 px, 4 images per rank) on 1, 2, 3 and 4 ranks with `bench step --dist
# --json`, predict 2-4 ranks from the 1-rank step with the link and the cores fitted
# to the 2-rank run, and require every prediction within SCALING_MAX_ERROR percent
# (50: this 2-core machine is shared, 3 and 4 ranks oversubscribe it, and the runs
# are short; the model still has to get the slowdown's size right, where a model
# without CPU sharing would be off by 2x and more).  Also the usage errors and the PNG.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
MAXERR=${SCALING_MAX_ERROR:-50}
"$DYOLO" bench scaling --step /nonexistent.json --nvlink-gbps 100 >"$TAP_TMP/bad" 2>&1
[ $? -eq 1 ]; ok $? "a missing --step file is an error (exit 1)"
"$DYOLO" bench scaling --nvlink-gbps 100 >"$TAP_TMP/bad" 2>&1
[ $? -eq 2 ]; ok $? "no --step is a usage error"
measure() { # measure TAG: the four runs; 0 if all exit 0
  local bad=0
  for np in 1 2 3 4; do
    "$RUN_MPI" $np "$DYOLO" bench step --dist --config "$TOP_SRCDIR/configs/models/yolov5n.json" --imgsz 128 \
      --batch 4 --threads 1 --iters 4 --warmup 2 --json "$TAP_TMP/s$np.json" >"$TAP_TMP/s$np.txt" 2>&1 || bad=1
  done
  return $bad
}
predict() {
  "$DYOLO" bench scaling --step "$TAP_TMP/s1.json" --calibrate "$TAP_TMP/s2.json" --validate "$TAP_TMP/s2.json" \
    --validate "$TAP_TMP/s3.json" --validate "$TAP_TMP/s4.json" --gpus-per-node 4 --nodes 1 \
    --max-error "$MAXERR" --plot "$TAP_TMP/scaling.png" >"$TAP_TMP/out" 2>&1
}
measure; ok $? "np=1..4: bench step --dist --json exits 0"
load0=$(cut -d' ' -f1 /proc/loadavg)
predict; rc=$?
sed 's/^/# /' "$TAP_TMP/out"
# The runs are seconds long, so other work on the machine can distort one of them:
# measure once more before judging, and judge only a machine that is not
# oversubscribed by others (load average, before and after, under 2 per core).
if [ $rc -ne 0 ]; then
  echo "# worst error above ${MAXERR}% (load $load0): measuring again"
  measure && predict; rc=$?
  sed 's/^/# /' "$TAP_TMP/out"
fi
load1=$(cut -d' ' -f1 /proc/loadavg)
echo "# load average: $load0 before, $load1 after, $(nproc) cores"
if [ $rc -eq 1 ] && awk -v a="$load0" -v b="$load1" -v n="$(nproc)" 'BEGIN { exit !(a > 2 * n || b > 2 * n) }'; then
  echo "ok $((tap_n + 1)) # SKIP prediction error not judged: machine loaded by other work (load $load0 / $load1 on $(nproc) cores)"
  tap_n=$((tap_n + 1))
else
  [ $rc -eq 0 ]; ok $? "CPU transport: every prediction within ${MAXERR}% of the measurement (exit $rc)"
fi
[ "$(grep -Ec '^\| +[234] \| +1 \| +[0-9.]+ \| +[0-9.]+ \| +[-+][0-9.]+% \|' "$TAP_TMP/out")" -eq 3 ]
ok $? "one validation row per rank count 2, 3, 4 with the error"
check_contains "$TAP_TMP/out" '^\| +1 \| +1 \| .* 100\.0% \|' "the one-rank row is the measurement (efficiency 100%)"
[ "$(head -c 8 "$TAP_TMP/scaling.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
ok $? "the plot is a PNG"
# A GPU cluster from given links: 2 nodes need --ib-gbps; with it, efficiency falls with nodes.
"$DYOLO" bench scaling --step "$TAP_TMP/s1.json" --nvlink-gbps 300 --nodes 1,2 >"$TAP_TMP/bad" 2>&1
[ $? -eq 1 ] && grep -q 'ib-gbps' "$TAP_TMP/bad"; ok $? "2 nodes without --ib-gbps: an error naming it"
"$DYOLO" bench scaling --step "$TAP_TMP/s1.json" --nvlink-gbps 300 --ib-gbps 50 --cores 0 --nodes 1,2,4 \
  >"$TAP_TMP/gpu" 2>&1
ok $? "given links: the GPU table"
e=$(awk -F'|' '$3+0 >= 8 { gsub(/[ %]/, "", $6); printf "%s ", $6 }' "$TAP_TMP/gpu")
echo "# efficiency at 8, 16, 32 ranks: $e"
echo "$e" | awk '{ exit !($1 >= $2 && $2 >= $3 && $3 > 0) }'; ok $? "efficiency does not rise with nodes"
tap_done
