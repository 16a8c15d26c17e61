# step-sweep.sh -- sourced by run-gpu-check.sh: the training-step sweep, dyolo beside
# Ultralytics' own YOLOv5 v7.0 step, on one GPU in one run.  Defines:
#
#   ultra_bundle B     (bundle mode) puts into B/ultra/: the yolov5==7.0.14 and thop
#                      wheels, pure-python fallback wheels (requests & co, setuptools
#                      for pkg_resources), the start-up stubs of the quality harness,
#                      the torchvision import stub, a font for YOLOv5's Arial.ttf, and
#                      ultra_step_gpu.py.  The GPU machine has no network.
#   ultra_setup        (device mode) installs them under /tmp (pip --no-index --no-deps
#                      --target, or plain unzip) and picks the python that has torch.
#   sweep_run          for each model and precision: dyolo (all batches, one process),
#                      then Ultralytics (same), alternating, each under its own
#                      time limit cut to what is left of the sweep's budget.
#   sweep_table        the table from the bench-row lines of sweep.log.
#
# Knobs (environment): SWEEP_MODELS ("yolov5n yolov5s"), SWEEP_BATCHES (16,32,64),
# SWEEP_IMGSZ (640), SWEEP_ITERS (10), SWEEP_WARMUP (2), SWEEP_DEVICE (cuda),
# SWEEP_BUDGET (seconds for the whole sweep), SWEEP_RUN_CAP (seconds per process).

ultra_bundle() { # ultra_bundle B
  local U=$1/ultra py=${PYTHON:-python3}
  mkdir -p "$U/wheels" "$U/fallback-wheels" "$U/stubs" "$U/fallback" "$U/config"
  if ! "$py" -m pip download -q --no-deps yolov5==7.0.14 thop -d "$U/wheels" >/dev/null 2>&1; then
    echo "   (pip download of yolov5==7.0.14 / thop failed: the bundle goes without Ultralytics; the sweep says MISSING)"
    rm -rf "$U"; return 0
  fi
  # pure-python packages the step imports and a bare GPU machine may lack; only used
  # where it has none of its own (ultra_step_gpu.py --fallback appends them)
  "$py" -m pip download -q --no-deps --only-binary=:all: --platform any --implementation py --abi none \
    --python-version 3.10 -d "$U/fallback-wheels" requests urllib3 idna charset_normalizer certifi 'setuptools<80' \
    >/dev/null 2>&1 || echo "   (fallback wheels not downloaded: requests/pkg_resources must be on the GPU machine)"
  cp -r "$top/benchmarks/quality/ultra_stubs/." "$U/stubs/"
  rm -f "$U/stubs/README.md"
  cp -r "$top/benchmarks/gpu/fallback_stubs/torchvision" "$U/fallback/"
  cp "$top/benchmarks/gpu/ultra_step_gpu.py" "$U/"
  local font
  font=$("$py" -c 'from matplotlib import font_manager as f; print(f.findfont("DejaVu Sans"))' 2>/dev/null)
  [ -f "$font" ] || font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  if [ -f "$font" ]; then cp "$font" "$U/config/Arial.ttf"; cp "$font" "$U/config/Arial.Unicode.ttf"
  else echo "   (no DejaVu Sans font found: YOLOv5 would try to download Arial.ttf)"; fi
  echo "   Ultralytics side: $(cd "$U/wheels" && ls | tr '\n' ' ')+ $(ls "$U/fallback-wheels" | wc -l) fallback wheels, stubs, font"
}

# Device mode: sets ULTRA_PY (python with torch), ULTRA_ENV (env assignments) or
# ULTRA_MISSING (why not).
ultra_setup() {
  local U=$B/ultra site=/tmp/dyolo-ultra-site fb=/tmp/dyolo-ultra-fallback p
  ULTRA_MISSING="" ULTRA_PY=""
  if ! ls "$U"/wheels/yolov5-*.whl >/dev/null 2>&1; then ULTRA_MISSING="no yolov5 wheel in the bundle"; return; fi
  for p in ${ULTRA_PYTHON:-} "$top/benchmarks/quality/.venv/bin/python" python3 /usr/bin/python3; do
    [ -n "$p" ] || continue
    if env LD_LIBRARY_PATH="$orig_ld" "$p" -c 'import torch' >/dev/null 2>&1; then ULTRA_PY=$p; break; fi
  done
  [ -n "$ULTRA_PY" ] || { ULTRA_MISSING="no python with torch"; return; }
  rm -rf "$site" "$fb" && mkdir -p "$site" "$fb"
  install_wheels() { # DIR WHEELS...: pip, else unzip (a wheel is a zip of the site-packages tree)
    local d=$1; shift
    env LD_LIBRARY_PATH="$orig_ld" "$ULTRA_PY" -m pip install -q --no-index --no-deps --target "$d" "$@" >/dev/null 2>&1 ||
      for w in "$@"; do env LD_LIBRARY_PATH="$orig_ld" "$ULTRA_PY" -m zipfile -e "$w" "$d" || return 1; done
  }
  install_wheels "$site" "$U"/wheels/*.whl || { ULTRA_MISSING="cannot install the yolov5 wheel"; return; }
  if ls "$U"/fallback-wheels/*.whl >/dev/null 2>&1; then install_wheels "$fb" "$U"/fallback-wheels/*.whl || true; fi
  cp -r "$U/fallback/." "$fb/"
  ULTRA_ENV=(LD_LIBRARY_PATH="$orig_ld" PYTHONPATH="$U/stubs:$site" YOLOV5_CONFIG_DIR="$U/config"
             PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg)
  ULTRA_FB=$fb
}

sweep_run() {
  local models=${SWEEP_MODELS:-yolov5n yolov5s} batches=${SWEEP_BATCHES:-16,32,64} px=${SWEEP_IMGSZ:-640}
  local iters=${SWEEP_ITERS:-10} warm=${SWEEP_WARMUP:-2} dev=${SWEEP_DEVICE:-cuda}
  local end=$(( $(date +%s) + ${SWEEP_BUDGET:-240} )) cap=${SWEEP_RUN_CAP:-50}
  local nm; nm=$(echo $models | wc -w)
  local runs_left=$(( nm * 2 * 2 )) dflag=(--device cuda)
  [ "$dev" = cpu ] && dflag=(--device cpu --full-step)
  ultra_setup
  local m a prec lim
  for m in $models; do
    for a in 0 1; do
      prec=f32; [ $a = 1 ] && prec=amp
      # each run gets at most its share of what is left, so one hang cannot starve the rest
      lim=$(( (end - $(date +%s)) / runs_left )); [ $lim -gt $cap ] && lim=$cap
      step "sweep dyolo $m $px $prec b$batches" sweep.log $lim "${MPIRUN[@]}" "$B/bin/dyolo" bench step "${dflag[@]}" \
        --config "$top/configs/models/$m.json" --imgsz "$px" --batch "$batches" --amp $a --iters "$iters" \
        --warmup "$warm" --threads "$(nproc)"
      runs_left=$((runs_left - 1))
      lim=$(( (end - $(date +%s)) / runs_left )); [ $lim -gt $cap ] && lim=$cap
      if [ -n "$ULTRA_MISSING" ]; then missing "sweep ultralytics $m $px $prec" "$ULTRA_MISSING"
      else
        step "sweep ultralytics $m $px $prec b$batches" sweep.log $lim env "${ULTRA_ENV[@]}" "$ULTRA_PY" \
          "$B/ultra/ultra_step_gpu.py" --spec "$m" --imgsz "$px" --batch "$batches" --amp $a --iters "$iters" \
          --warmup "$warm" --device "$dev" --fallback "$ULTRA_FB"
      fi
      runs_left=$((runs_left - 1))
    done
  done
}

# The table: one line per model x precision x batch, dyolo beside Ultralytics.
# Ultralytics' TFLOP/s use dyolo's FLOP count of the same model (same work), and its
# MFU the GPU's TF32 peak in f32 (PyTorch's default for cuDNN convolutions) and FP16
# peak with AMP; dyolo's MFU is against FP32 (it computes in FP32 in both modes).
sweep_table() { # sweep_table LOG
  awk '
  function kv(line, k,   n, i, a, f) {
    n = split(line, a, " ")
    for (i = 1; i <= n; i++) if (index(a[i], k "=") == 1) return substr(a[i], length(k) + 2)
    return ""
  }
  function num(x) { return x != "" && x != "n/a" }
  /^bench-row / {
    key = kv($0, "model") " " kv($0, "imgsz") " " kv($0, "prec") " " kv($0, "batch")
    if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
    t = kv($0, "tool"); row[t, key] = $0
    if (t == "dyolo") { gfl[kv($0, "model") kv($0, "imgsz")] = kv($0, "gflops_img"); pk32 = kv($0, "peak_fp32")
      pktf = kv($0, "peak_tf32"); pk16 = kv($0, "peak_fp16"); dev = kv($0, "device") }
  }
  END {
    print "| model | px | prec | batch | dyolo img/s | ms/step | TFLOP/s | MFU | peak MiB | Ultralytics img/s | ms/step | TFLOP/s | MFU | peak MiB | img/s ratio (target >= 1.3) | less memory |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= nk; i++) {
      split(order[i], k, " "); d = row["dyolo", order[i]]; u = row["ultralytics", order[i]]
      di = kv(d, "img_s"); ui = kv(u, "img_s"); dm = kv(d, "peak_mib"); um = kv(u, "peak_mib")
      g = gfl[k[1] k[2]]
      ut = num(ui) && g != "" ? sprintf("%.2f", 3 * g * ui / 1000) : "n/a"
      upk = k[3] == "amp" ? pk16 : pktf
      umfu = ut != "n/a" && upk + 0 > 0 ? sprintf("%.1f%% (%s)", 100 * ut / upk, k[3] == "amp" ? "fp16" : "tf32") : "n/a"
      dmfu = kv(d, "mfu"); dmfu = num(dmfu) ? sprintf("%.1f%% (fp32)", 100 * dmfu) : "n/a"
      ratio = num(di) && num(ui) && ui > 0 ? sprintf("%.2fx %s", di / ui, di / ui >= 1.3 ? "yes" : "NO") : "n/a"
      mem = num(dm) && num(um) ? (dm + 0 < um + 0 ? "yes" : "NO") : "n/a"
      dt = kv(d, "tflops"); if (dt == "") dt = "n/a"
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k[1], k[2], k[3], k[4],
        di == "" ? "FAIL" : di, kv(d, "ms_step"), dt, dmfu, dm, ui == "" ? "FAIL" : ui, kv(u, "ms_step"), ut, umfu, um, ratio, mem
    }
    if (nk == 0) print "| (no bench-row lines: see sweep.log) | | | | | | | | | | | | | | | |"
    printf "\nPeaks used (dense, TFLOP/s, src/bench/gpu_peaks.c) for %s: FP32 %s, TF32 %s, FP16 %s (0: unknown GPU, MFU n/a).\n", dev, pk32, pktf, pk16
  }' "$1"
}
