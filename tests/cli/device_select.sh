# device_select.sh -- choosing the compute device at start-up (runtime.device, --device)
# on a machine without a usable GPU:
#  - runtime.device=cuda (or --device cuda) stops at start-up, before any training,
#    with exit 1 and one error naming the setting and the reason: the message must
#    contain "runtime.device=cuda" and "no usable GPU";
#  - runtime.device=auto trains on 2 MPI ranks and says so: output contains "no usable
#    GPU" and one log line containing the words "auto", "cpu" and "mpi" (any case),
#    e.g. "runtime.device=auto: no usable GPU (...): backend cpu, transport mpi".
# On a machine where this dyolo sees a GPU the cuda half cannot be checked: SKIP.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1

"$DYOLO" synth --out syn --images 8 --classes 2 --size 64 --seed 4 >log 2>&1; ok $? "synth 8 images"
"$DYOLO" pack --format yolo --input syn/data.yaml --split train --out s >>log 2>&1; ok $? "pack"
cat >cfg.json <<JSON
{"run": {"out_dir": "R", "seed": 1},
 "data": {"train": "s.manifest.json", "val": "", "imgsz": 64, "workers": 1},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 1, "batch_size": 4, "warmup_epochs": 0},
 "runtime": {"threads": 1}, "log": {"progress_interval": 30}}
JSON

if "$DYOLO" version 2>&1 | grep -q '^GPUs *: no usable GPU'; then
  for how in "--set runtime.device=cuda" "--device cuda"; do
    t0=$(date +%s)
    # shellcheck disable=SC2086
    "$DYOLO" train --config cfg.json --set run.out_dir=C $how >out 2>err
    rc=$?
    el=$(( $(date +%s) - t0 ))
    [ $rc -eq 1 ]; ok $? "$how: exit status 1 (got $rc)"
    check_contains err "runtime\.device=cuda" "$how: the error names runtime.device=cuda"
    check_contains err "no usable GPU" "$how: and says there is no usable GPU"
    # the run folder may exist (it is made early), but nothing was trained in it
    [ "$el" -le 30 ] && ! [ -s C/metrics.jsonl ] && [ -z "$(ls C/checkpoints 2>/dev/null)" ]
    ok $? "$how: it stops at start-up (${el}s, no metrics lines, no checkpoints)"
    rm -rf C
  done
else
  echo "ok $((tap_n + 1)) - runtime.device=cuda refusal # SKIP this dyolo sees a GPU"; tap_n=$((tap_n + 1))
fi

"$RUN_MPI" 2 "$DYOLO" train --config cfg.json --set run.out_dir=A --set runtime.device=auto >auto.log 2>&1
ok $? "runtime.device=auto trains on 2 ranks"
if "$DYOLO" version 2>&1 | grep -q '^GPUs *: no usable GPU'; then
  check_contains auto.log "no usable GPU" "auto: the log says there is no usable GPU"
  # one line with the three words, in any order and case
  awk '{l = tolower($0)} l ~ /auto/ && l ~ /(^|[^a-z])cpu([^a-z]|$)/ && l ~ /(^|[^a-z])mpi([^a-z]|$)/ {f = 1} END {exit !f}' auto.log
  ok $? "auto: one log line says auto chose cpu and mpi"
  [ "$tap_failed" -eq 0 ] || sed 's/^/#   | /' auto.log | head -12
fi
tap_done
