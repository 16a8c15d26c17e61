# bind.sh -- a rank that mpirun bound to one core (Open MPI's default for <= 2
# ranks) gets the CPUs its compute threads need: `mpirun -np 1 dyolo train` with
# runtime.threads=2 logs the move to two CPUs and trains; runtime.bind=keep keeps the
# binding and warns.  Needs 2 CPUs; the launcher must bind (else SKIP, with why).
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$DYOLO" synth --out syn --images 8 --classes 1 --size 64 --seed 4 >log 2>&1; ok $? "synth"
"$DYOLO" pack --format yolo --input syn/data.yaml --split train --out tr >>log 2>&1; ok $? "pack"
cat >cfg.json <<JSON
{"run": {"out_dir": "A", "seed": 1}, "data": {"train": "tr.manifest.json", "val": "", "imgsz": 64, "workers": 1},
 "model": {"spec": "$TOP_SRCDIR/configs/models/yolov5n.json"},
 "train": {"epochs": 1, "batch_size": 4, "warmup_epochs": 0}, "log": {"progress_interval": 30}}
JSON
if [ "$(nproc)" -lt 2 ]; then
  echo "ok $((tap_n + 1)) - re-binding # SKIP: $(nproc) CPU"; tap_n=$((tap_n + 1))
else
  "$RUN_MPI" 1 "$DYOLO" train --config cfg.json --set runtime.threads=2 >A.log 2>&1; ok $? "1 rank x 2 threads trains"
  if grep -q 'the launcher bound it to CPU(s)' A.log; then
    check_contains A.log 'rank 0: the launcher bound it to CPU\(s\) [0-9]+; for 2 compute threads it now runs on CPUs [0-9]+-[0-9]+' \
      "the rank bound to one CPU moved to two for its 2 threads"
    "$RUN_MPI" 1 "$DYOLO" train --config cfg.json --set run.out_dir=B --set runtime.threads=2 --set runtime.bind=keep >B.log 2>&1
    ok $? "runtime.bind=keep trains"
    check_contains B.log 'rank 0 runs on CPU\(s\) [0-9]+ \(the launcher.s binding\) but uses 2 compute threads' \
      "runtime.bind=keep: warns that the threads share one CPU"
    check_not_contains B.log 'now runs on CPUs' "runtime.bind=keep: no move"
  else
    echo "ok $((tap_n + 1)) - re-binding # SKIP: this mpirun did not bind the rank"; tap_n=$((tap_n + 1))
  fi
fi
tap_done
