#!/usr/bin/env bash
# run-gpu-check.sh -- the GPU check of dyolo in one command, in two halves:
#
#   benchmarks/gpu/run-gpu-check.sh --bundle [BUILD_DIR]     (on a build machine)
#     builds dyolo and the GPU test programs in BUILD_DIR (default build/, configured
#     with CUDA), and packs them with every shared library a bare GPU machine lacks
#     (Open MPI with its plugins, orted and help files, PMIx, parallel HDF5 and what
#     it pulls in, cJSON, OpenBLAS, libjpeg-turbo, libpng, expat, libyaml) into
#     gpubundle/dyolo-gpu.tar.xz (ignored by git, < 60 MB).  NOT the CUDA, cuDNN,
#     cuBLAS or NCCL libraries: too big; the GPU machine has them (PyTorch's nvidia-*
#     wheels, /usr/local/cuda).  It then checks the bundle from a clean environment
#     (env -i; system Open MPI hidden in a private mount namespace when possible):
#     no library "not found" apart from CUDA ones, and the test programs run.
#
#     The bundle also carries Ultralytics' side of the step benchmark (step-sweep.sh:
#     the yolov5==7.0.14 and thop wheels, fallbacks, stubs, a font).
#
#   benchmarks/gpu/run-gpu-check.sh [--deadline S]     (on the GPU machine, repo root,
#     gpubundle/ carried): unpacks the bundle and runs, within S seconds (default 470):
#     nvidia-smi; the backend-parity test; the 1-rank NCCL test; the model-level
#     CUDA-vs-CPU test (MISSING if not built); the training-step sweep (yolov5n and
#     yolov5s at 640 px, batch 16/32/64, f32 and AMP: `dyolo bench step --device cuda`
#     and Ultralytics' own step, benchmarks/gpu/ultra_step_gpu.py, alternating);
#     compute-sanitizer (memcheck) on the parity test's quick mode with what time is
#     left.  Results: $OUT/gpu.md (GPU, driver, date, exact commands, pass/fail counts,
#     the sweep table: img/s, ms/step, TFLOP/s, MFU, peak MiB, dyolo/Ultralytics) plus
#     one log per step (at most 8 files, what the device tool returns); without $OUT,
#     in gpu-out/.  A person copies gpu.md into benchmarks/gpu.md.
#
#   benchmarks/gpu/run-gpu-check.sh --dry-run-cpu     (here, after --bundle): the same
#     device-mode run from the bundle on this CPU machine, the sweep at 64 px, batch
#     2,4, one step (dyolo --device cpu --full-step, Ultralytics on the CPU), the GPU
#     tests NOT RUN: catches a broken bundle or script before GPU time is spent.
#     Results in $OUT or gpu-out-dry/.  See benchmarks/gpu/README.md.
#
# Library search order on the GPU machine: the bundle's lib/, then the lib/ folders of
# the pip-installed nvidia-* wheels (found by asking python3), then /usr/local/cuda's,
# then whatever LD_LIBRARY_PATH was; libstdc++/libgcc_s from the build machine only
# when the system's are too old.  The Open MPI carried is relocated with OPAL_* and
# PMIX_* variables so that a program started without mpirun (an MPI singleton) finds
# the bundle's orted and plugins.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bundle_dir=${GPU_BUNDLE_DIR:-$top/gpubundle}
tarball=$bundle_dir/dyolo-gpu.tar.xz
# test programs: required, then optional (other engineers add them; MISSING if absent)
req_tests="tests/tensor/test_backend_parity tests/dist/test_nccl1"
opt_tests="tests/nn/test_model_backend tests/nn/test_model_half tests/tensor/test_kernels_hd"
# shared libraries the GPU machine brings itself (CUDA) or that must come from its own
# C library; matched against the soname
cuda_re='^lib(cuda|cudart|cublas|cublasLt|cudnn[a-z_]*|nccl|nvrtc[a-z-]*|nvJitLink|nvrtc-builtins|cufft|curand|cusparse|cusolver|nvToolsExt|cupti|nvidia-ml)\.so'
glibc_re='^(ld-linux[^ ]*|libc|libm|libmvec|libpthread|libdl|librt|libresolv|libutil|libanl|libnsl|libBrokenLocale|libcrypt)\.so'
fallback_re='^(libstdc\+\+|libgcc_s)\.so'
# Open MPI / PMIx plugins needing fabrics a single-GPU machine does not use
skip_plugin_re='lib(ucp|ucs|uct|fabric|ibverbs|rdmacm|psm|psm2|nl-|slurm|cuda|xpmem|knem|hcoll|mxm|portals|efa|ze_loader)'

die() { echo "run-gpu-check: $*" >&2; exit 1; }

# shellcheck source=benchmarks/gpu/step-sweep.sh
. "$top/benchmarks/gpu/step-sweep.sh"

# ------------------------------------------------------------------ bundle (here)

# deps FILE...: "soname path" of every shared library the files load (ldd closure)
deps() { ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u; }

copy_libs() { # copy_libs DEST_LIB DEST_FALLBACK FILE...
  local lib=$1 fb=$2; shift 2
  deps "$@" | while read -r so path; do
    if echo "$so" | grep -Eq "$cuda_re|$glibc_re"; then continue; fi
    if echo "$so" | grep -Eq "$fallback_re"; then cp -L "$path" "$fb/$so"; else cp -L "$path" "$lib/$so"; fi
  done
}

make_bundle() {
  local build=${1:-$top/build}
  build=$(cd "$build" 2>/dev/null && pwd) || die "no build directory $1"
  [ -f "$build/Makefile" ] || die "$build is not a configured build (../configure first)"
  echo "== building in $build"
  nice make -C "$build" -j2 dyolo $req_tests >/dev/null || die "make failed in $build"
  "$build/dyolo" version 2>/dev/null | grep -Eq '^CUDA runtime *: [0-9]' ||
    die "$build was configured without CUDA (dyolo version shows no CUDA runtime): reconfigure with CUDA"
  local have_opt=""
  for t in $opt_tests; do
    if make -C "$build" -n "$t" >/dev/null 2>&1 && nice make -C "$build" -j2 "$t" >/dev/null 2>&1; then have_opt="$have_opt $t"
    else echo "   (no make target $t yet: the bundle goes without it; the GPU run says MISSING)"; fi
  done
  stage=$(mktemp -d) || die "mktemp"
  trap 'rm -rf "$stage"' EXIT
  local B=$stage/dyolo-gpu
  mkdir -p "$B/bin" "$B/tests" "$B/lib" "$B/lib-fallback" "$B/ompi/bin" "$B/ompi/lib" "$B/ompi/etc" "$B/ompi/share" \
    "$B/pmix/lib" "$B/pmix/share"
  cp "$build/dyolo" "$B/bin/"
  for t in $req_tests $have_opt; do cp "$build/$t" "$B/tests/"; done
  # Open MPI: orted (singleton start-up and mpirun), mpirun, plugins, help texts, params
  local olib opkg odata pmixlib
  olib=$(ompi_info --path libdir --parsable 2>/dev/null | sed -n 's/^path:libdir://p')
  opkg=$(ompi_info --path pkglibdir --parsable 2>/dev/null | sed -n 's/^path:pkglibdir://p')
  odata=$(ompi_info --path pkgdatadir --parsable 2>/dev/null | sed -n 's/^path:pkgdatadir://p')
  [ -d "$opkg" ] || die "cannot find Open MPI's plugin directory (ompi_info --path pkglibdir)"
  cp -L "$(command -v orted)" "$B/ompi/bin/orted"
  cp -L "$(command -v orterun || command -v mpirun)" "$B/ompi/bin/mpirun"
  mkdir -p "$B/ompi/lib/openmpi" "$B/ompi/share/openmpi"
  local p n_plug=0 n_skip=0
  for p in "$opkg"/*.so; do
    if ldd "$p" 2>/dev/null | grep -Eq "$skip_plugin_re|not found"; then n_skip=$((n_skip + 1)); continue; fi
    cp -L "$p" "$B/ompi/lib/openmpi/"; n_plug=$((n_plug + 1))
  done
  cp -L "$olib"/libmca_common_*.so* "$B/lib/" 2>/dev/null || true
  cp -rL "$odata"/. "$B/ompi/share/openmpi/"
  [ -f /etc/openmpi/openmpi-mca-params.conf ] && cp /etc/openmpi/openmpi-mca-params.conf "$B/ompi/etc/"
  # PMIx (Debian's Open MPI uses the system PMIx): its plugins and help texts
  pmixlib=$(dirname "$(readlink -f "$(ldconfig -p | awk '/libpmix\.so\.2 /{print $NF; exit}')")")
  for d in "$pmixlib/pmix" "$(dirname "$pmixlib")/lib/pmix" /usr/lib/x86_64-linux-gnu/pmix2/lib/pmix; do
    [ -d "$d" ] || continue
    mkdir -p "$B/pmix/lib/pmix"
    for p in "$d"/*.so; do
      if ldd "$p" 2>/dev/null | grep -Eq "$skip_plugin_re|not found"; then n_skip=$((n_skip + 1)); continue; fi
      cp -L "$p" "$B/pmix/lib/pmix/"; n_plug=$((n_plug + 1))
    done
    break
  done
  for d in /usr/share/pmix /usr/lib/x86_64-linux-gnu/pmix2/share/pmix; do
    [ -d "$d" ] && { mkdir -p "$B/pmix/share/pmix"; cp -rL "$d"/. "$B/pmix/share/pmix/"; break; }
  done
  # every library any of them loads (the plugins' too), minus CUDA and the C library
  copy_libs "$B/lib" "$B/lib-fallback" "$B/bin/dyolo" "$B"/tests/* "$B/ompi/bin/"* "$B/ompi/lib/openmpi/"*.so \
    "$B"/pmix/lib/pmix/*.so "$B"/lib/*.so*
  copy_libs "$B/lib" "$B/lib-fallback" "$B"/lib/*.so* # libraries of libraries
  # this machine's C library and loader, used only where the GPU machine's glibc is
  # older than the bundle needs (programs are then started through this loader)
  mkdir -p "$B/glibc"
  deps "$B/bin/dyolo" "$B"/tests/* "$B"/lib/*.so* "$B/ompi/bin/"* | while read -r so path; do
    echo "$so" | grep -Eq "$glibc_re" && cp -L "$path" "$B/glibc/$so"
  done
  cp -L /lib64/ld-linux-x86-64.so.2 "$B/glibc/"
  echo "   $n_plug Open MPI/PMIx plugins kept, $n_skip left out (fabrics: $skip_plugin_re)"
  ultra_bundle "$B"
  {
    echo "dyolo GPU bundle"
    echo "commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null)$(git -C "$top" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
    echo "built: $(date -u '+%Y-%m-%d %H:%M UTC') on $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}"), glibc $(ldd --version | head -1 | awk '{print $NF}')"
    echo "needs glibc >= $(objdump -T "$B/bin/dyolo" "$B"/tests/* "$B"/lib/*.so* 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
    echo "CUDA libraries expected on the GPU machine: $(deps "$B/bin/dyolo" "$B"/tests/* | awk '{print $1}' | grep -E "$cuda_re" | tr '\n' ' ')"
    echo "tests: $req_tests $have_opt"
    "$B/bin/dyolo" version 2>/dev/null | sed 's/^/version: /'
    echo "files:"
    (cd "$B" && find . -type f -printf '%s %p\n' | sort -k2)
  } > "$B/MANIFEST.txt"
  mkdir -p "$bundle_dir"
  echo "== packing"
  tar -C "$stage" -cf - dyolo-gpu | xz -T2 -6 > "$tarball.tmp" && mv "$tarball.tmp" "$tarball" || die "tar failed"
  cp "$B/MANIFEST.txt" "$bundle_dir/MANIFEST.txt"
  local raw packed
  raw=$(du -sm "$B" | cut -f1); packed=$(du -m "$tarball" | cut -f1)
  echo "   $tarball: $packed MB packed ($raw MB unpacked), $(find "$B" -type f | wc -l) files"
  [ "$packed" -lt 60 ] || die "bundle is $packed MB, over the 60 MB limit"
  echo "   gpubundle/ in all: $(du -sm "$bundle_dir" | cut -f1) MiB (the device tool carries at most 64 MiB with the tree)"
  verify_bundle
}

# Unpacks the tarball in a fresh place and runs the test programs from a clean
# environment: only the bundle's paths (plus /usr/local/cuda here, standing in for
# the wheels), system Open MPI hidden when a private mount namespace is allowed.
verify_bundle() {
  echo "== checking the bundle from a clean environment"
  local v; v=$(mktemp -d) || die "mktemp"
  tar -C "$v" -xJf "$tarball" || die "cannot unpack $tarball"
  local B=$v/dyolo-gpu bad=0 f
  for f in "$B/bin/dyolo" "$B"/tests/* "$B/ompi/bin/"*; do
    local miss
    miss=$(env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$B/lib" ldd "$f" | grep 'not found' | grep -Ev "$(echo "$cuda_re" | sed 's/^\^//')" || true)
    [ -n "$miss" ] && { echo "   $f: $miss"; bad=1; }
    # every non-CUDA, non-libc library must come from the bundle
    local stray
    stray=$(env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$B/lib:$B/lib-fallback" ldd "$f" | awk '$2 == "=>" {print $1, $3}' |
      grep -Ev "$cuda_re|$glibc_re" | grep -v " $B/" || true)
    [ -n "$stray" ] && { echo "   $f loads from outside the bundle: $stray"; bad=1; }
  done
  [ $bad = 0 ] && echo "   ldd: every library resolves into the bundle (CUDA and libc aside)"
  local hide=""
  if unshare -m true 2>/dev/null; then
    for d in /usr/lib/x86_64-linux-gnu/openmpi /usr/lib/x86_64-linux-gnu/pmix2 /usr/share/openmpi /usr/share/pmix /etc/openmpi; do
      [ -d "$d" ] && hide="$hide mount -t tmpfs none $d;"
    done
    for f in /usr/bin/orted /usr/bin/orterun /usr/bin/mpirun; do [ -e "$f" ] && hide="$hide mount --bind /dev/null $(readlink -f $f);"; done
    echo "   system Open MPI / PMIx hidden in a private mount namespace"
  else
    echo "   (unshare -m not allowed: system Open MPI stays visible)"
  fi
  local env_cmd
  env_cmd="env -i HOME=/tmp PATH=$B/ompi/bin:/usr/bin:/bin GPU_CHECK_BUNDLE=$B bash $top/benchmarks/gpu/run-gpu-check.sh --env-exec"
  local cmd="$env_cmd $B/tests/test_nccl1 && PARITY_QUICK=1 $env_cmd $B/tests/test_backend_parity && $env_cmd $B/bin/dyolo version"
  if [ -n "$hide" ]; then unshare -m bash -c "$hide $cmd" > "$v/verify.log" 2>&1; else bash -c "$cmd" > "$v/verify.log" 2>&1; fi
  local rc=$?
  grep -E '^(not ok|Bail|SKIP)|GPUs|MPI  ' "$v/verify.log" | sed 's/^/   | /'
  if [ $rc -ne 0 ] || grep -q '^not ok' "$v/verify.log"; then
    tail -30 "$v/verify.log"; bad=1
  else
    echo "   test_nccl1 (MPI singleton), test_backend_parity (quick) and dyolo version run from the bundle"
  fi
  rm -rf "$v"
  [ $bad = 0 ] || die "the bundle does not work from a clean environment"
  echo "== ready: carry gpubundle (device tool: carry [\"gpubundle\"]) and run benchmarks/gpu/run-gpu-check.sh there"
}

# ------------------------------------------------------------------ environment (both)

# Library paths and Open MPI relocation for the unpacked bundle in $GPU_CHECK_BUNDLE.
bundle_env() {
  local B=$GPU_CHECK_BUNDLE nv=""
  if command -v python3 >/dev/null 2>&1; then
    nv=$(python3 -c 'import glob, os
try:
    import nvidia
    print(":".join(sorted(d for p in nvidia.__path__ for d in glob.glob(os.path.join(p, "*", "lib")))))
except Exception:
    pass' 2>/dev/null)
  fi
  local cuda=""
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do [ -d "$d" ] && cuda="$cuda:$d"; done
  LD_LIBRARY_PATH="$B/lib${nv:+:$nv}$cuda${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # the build machine's C++ runtime only where the system's is too old for the bundle
  if env LD_LIBRARY_PATH="$LD_LIBRARY_PATH" ldd "$B/bin/dyolo" "$B"/tests/* 2>&1 | grep -q "version .GLIBCXX\|version .GCC_\|libstdc++.so.6 => not found"; then
    LD_LIBRARY_PATH="$B/lib:$B/lib-fallback:${LD_LIBRARY_PATH#"$B/lib:"}"
  fi
  export LD_LIBRARY_PATH
  export OPAL_PREFIX=$B/ompi OPAL_EXEC_PREFIX=$B/ompi OPAL_BINDIR=$B/ompi/bin OPAL_LIBDIR=$B/lib \
    OPAL_PKGLIBDIR=$B/ompi/lib/openmpi OPAL_DATAROOTDIR=$B/ompi/share OPAL_DATADIR=$B/ompi/share \
    OPAL_PKGDATADIR=$B/ompi/share/openmpi OPAL_SYSCONFDIR=$B/ompi/etc
  export OMPI_MCA_mca_base_component_path=$B/ompi/lib/openmpi OMPI_MCA_mca_base_param_files=$B/ompi/etc/openmpi-mca-params.conf
  export PMIX_INSTALL_PREFIX=$B/pmix PMIX_MCA_mca_base_component_path=$B/pmix/lib/pmix PMIX_PREFIX=$B/pmix
  export OMPI_MCA_mca_base_component_show_load_errors=0 PMIX_MCA_mca_base_component_show_load_errors=0
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo
  PATH=$B/ompi/bin:$PATH
  export PATH
}

if [ "${1:-}" = "--env-exec" ]; then # internal: run a command in the bundle's environment
  shift
  bundle_env
  exec "$@"
fi

case "${1:-}" in
  --bundle) shift; make_bundle "$@"; exit $? ;;
  --verify) verify_bundle; exit $? ;;
  -h|--help) sed -n '2,45p' "$0"; exit 0 ;;
esac

# ------------------------------------------------------------------ run (GPU machine)

deadline=470
dry=""
while [ $# -gt 0 ]; do
  case $1 in
    --deadline) deadline=$2; shift 2 ;;
    --dry-run-cpu) dry=1; shift ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
t_start=$(date +%s)
out=${OUT:-$top/gpu-out}
if [ -n "$dry" ]; then # the whole device-mode path on this CPU, tiny sizes
  out=${OUT:-$top/gpu-out-dry}
  export SWEEP_DEVICE=cpu SWEEP_IMGSZ=${SWEEP_IMGSZ:-64} SWEEP_BATCHES=${SWEEP_BATCHES:-2,4} SWEEP_ITERS=${SWEEP_ITERS:-1} \
    SWEEP_WARMUP=${SWEEP_WARMUP:-1}
fi
orig_ld=${LD_LIBRARY_PATH:-} # python/torch run with the machine's own libraries, not the bundle's
mkdir -p "$out"
[ -f "$tarball" ] || die "no $tarball: build it with --bundle on the build machine and carry gpubundle/"
export GPU_CHECK_BUNDLE=/tmp/dyolo-gpu
rm -rf "$GPU_CHECK_BUNDLE" && tar -C /tmp -xJf "$tarball" || die "cannot unpack $tarball"
bundle_env
B=$GPU_CHECK_BUNDLE
md=$out/gpu.md
# glibc: the bundle was built on a newer system than the GPU machine may run.  Then
# every program starts through the bundle's own loader and C library, and MPI programs
# under the bundle's mpirun (a singleton would exec the system loader for orted).
need=$(sed -n 's/^needs glibc >= GLIBC_//p' "$B/MANIFEST.txt")
have=$(ldd --version 2>/dev/null | head -1 | awk '{print $NF}')
RUN=() MPIRUN=()
glibc_note="system glibc ${have:-?}, bundle needs ${need:-?}"
if [ -n "${GPU_CHECK_FORCE_LOADER:-}" ] || { [ -n "$need" ] && [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; }; then
  RUN=("$B/glibc/ld-linux-x86-64.so.2" --library-path "$LD_LIBRARY_PATH:$B/glibc")
  MPIRUN=("${RUN[@]}" "$B/ompi/bin/mpirun" -np 1 "${RUN[@]}")
  glibc_note="$glibc_note: programs run through the bundle's loader ($B/glibc), MPI ones under its mpirun"
fi
rows=$(mktemp)
bench_rows=$(mktemp)
trap 'rm -f "$rows" "$bench_rows"' EXIT

{
  echo "== date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), host $(hostname), $(nproc) cores"
  echo "== LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "== nvidia-smi"; timeout 20 nvidia-smi 2>&1
  echo "== ldd (bundle programs)"; ldd "$B/bin/dyolo" "$B"/tests/* 2>&1 | grep -E '^/|=>' | grep -E 'cuda|cudnn|cublas|nccl|not found|^/'
  echo "== dyolo version"; timeout 60 "${MPIRUN[@]}" "$B/bin/dyolo" version 2>&1
  echo "== compute-sanitizer: $(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || echo none)"
  echo "== bundle"; head -8 "$B/MANIFEST.txt"
} > "$out/env.log" 2>&1

gpu=$(timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
cuda_drv=$(timeout 20 nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)

left() { echo $((deadline - ($(date +%s) - t_start))); }

# step NAME LOG BUDGET_S CMD...: runs CMD (appending to LOG) under a time limit cut to
# what is left, and adds a row: result, TAP counts, wall time, the exact command.
step() {
  local name=$1 log=$2 budget=$3; shift 3
  local l; l=$(left)
  [ "$budget" -gt $((l - 5)) ] && budget=$((l - 5))
  if [ "$budget" -lt 15 ]; then
    echo "| $name | NOT RUN (time budget spent) | | | | | \`$*\` |" >> "$rows"; return 0
  fi
  local t0 rc; t0=$(date +%s)
  { echo "== $name: $*"; echo "== limit ${budget}s"; } >> "$out/$log"
  timeout -k 10 "$budget" "$@" >> "$out/$log" 2>&1
  rc=$?
  local wall=$(( $(date +%s) - t0 ))
  echo "== rc $rc after ${wall}s" >> "$out/$log"
  local sect; sect=$(awk -v n="== $name: " 'index($0, n) == 1 {buf = ""; on = 1} on {buf = buf $0 "\n"} END {printf "%s", buf}' "$out/$log")
  local pass fail skip res
  pass=$(printf '%s' "$sect" | grep -c '^ok ' || true)
  fail=$(printf '%s' "$sect" | grep -c '^not ok' || true)
  skip=$(printf '%s' "$sect" | grep -Ec '^ok .*# (SKIP|skip)' || true)
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then res="TIMEOUT (${budget}s)"
  elif [ $rc -eq 0 ] && [ "$fail" -eq 0 ]; then res=PASS
  else res="FAIL (rc $rc)"; fi
  echo "| $name | $res | $((pass - skip)) | $fail | $skip | $wall | \`$*\` |" >> "$rows"
  LAST_RC=$rc
}

missing() { echo "| $1 | MISSING ($2) | | | | | |" >> "$rows"; }

export DYOLO_REQUIRE_GPU=1 # a SKIP for lack of a GPU is a failure here
export TOP_SRCDIR=$top     # the model test reads configs/models/ from the tree

dry_skip() { echo "| $1 | NOT RUN (dry run on the CPU) | | | | | |" >> "$rows"; }
if [ -n "$dry" ]; then
  dry_skip "backend parity (CUDA vs CPU, every op)"; dry_skip "NCCL 1 rank (MPI singleton)"
  dry_skip "model yolov5n 160 px CUDA vs CPU"; dry_skip "AMP: half storage on cuda vs the CPU's (yolov5n 160 px)"
else
  step "backend parity (CUDA vs CPU, every op)" parity.log 100 "${RUN[@]}" "$B/tests/test_backend_parity"
  step "NCCL 1 rank (MPI singleton)" nccl.log 40 "${MPIRUN[@]}" "$B/tests/test_nccl1"
  model=""
  for t in test_model_backend; do [ -x "$B/tests/$t" ] && model=$B/tests/$t; done
  if [ -n "$model" ]; then step "model yolov5n 160 px CUDA vs CPU" model.log 80 "${MPIRUN[@]}" "$model"
  else missing "model yolov5n 160 px CUDA vs CPU" "tests/nn/test_model_backend not in the bundle"; fi
  if [ -x "$B/tests/test_model_half" ]; then
    step "AMP: half storage on cuda vs the CPU's (yolov5n 160 px)" model.log 90 "${MPIRUN[@]}" "$B/tests/test_model_half"
  else missing "AMP: half storage on cuda vs the CPU's (yolov5n 160 px)" "tests/nn/test_model_half not in the bundle"; fi
  if [ -x "$B/tests/test_kernels_hd" ]; then step "kernels_hd (host side)" model.log 20 "${RUN[@]}" "$B/tests/test_kernels_hd"; fi
fi

# the step sweep: what is left minus a minute for the sanitizer, at most 4 minutes
sweep_left=$(( $(left) - 60 )); [ $sweep_left -gt 240 ] && sweep_left=240
: >> "$out/sweep.log"
SWEEP_BUDGET=${SWEEP_BUDGET:-$sweep_left} sweep_run

san=$(command -v compute-sanitizer || { [ -x /usr/local/cuda/bin/compute-sanitizer ] && echo /usr/local/cuda/bin/compute-sanitizer; })
if [ -n "$dry" ]; then dry_skip "compute-sanitizer memcheck on parity (quick)"
elif [ -n "$san" ]; then
  PARITY_QUICK=1 step "compute-sanitizer memcheck on parity (quick)" sanitizer.log 200 \
    "$san" --tool memcheck --error-exitcode 99 --print-limit 20 "${RUN[@]}" "$B/tests/test_backend_parity"
else missing "compute-sanitizer memcheck on parity (quick)" "no compute-sanitizer on this machine"; fi

total=$(( $(date +%s) - t_start ))
{
  echo "# GPU check results"
  echo
  echo "Generated by \`benchmarks/gpu/run-gpu-check.sh\` (bundle built by \`benchmarks/gpu/run-gpu-check.sh --bundle\`)"
  echo "on $(date -u '+%Y-%m-%d %H:%M UTC'), host $(hostname), $(nproc) cores; whole run ${total} s of a ${deadline} s budget."
  echo
  echo "- GPU: ${gpu:-unknown (nvidia-smi failed)}"
  echo "- Driver CUDA version (nvidia-smi): ${cuda_drv:-unknown}"
  echo "- Bundle: $(sed -n 's/^commit: //p' "$B/MANIFEST.txt"), $(sed -n 's/^built: //p' "$B/MANIFEST.txt")"
  echo "- dyolo version: $(timeout 60 "${MPIRUN[@]}" "$B/bin/dyolo" version 2>&1 | grep -E 'CUDA runtime|cuDNN|cuBLAS|NCCL|GPUs' | sed 's/  */ /g' | tr '\n' ';' | sed 's/;$//')"
  echo "- C library: $glibc_note"
  echo "- LD_LIBRARY_PATH: \`$LD_LIBRARY_PATH\`"
  echo
  echo "| step | result | pass | fail | skip | wall s | command |"
  echo "|---|---|---|---|---|---|---|"
  cat "$rows"
  echo
  echo "## Training step: dyolo beside Ultralytics YOLOv5 v7.0, same GPU, same run"
  echo
  echo "One step = forward, loss, backward, optimizer (AMP unscale, clip 10, SGD nesterov, EMA), every"
  echo "batch, synthetic images, ${SWEEP_ITERS:-10} timed steps after ${SWEEP_WARMUP:-2} warm-up (Ultralytics: 3), on ${SWEEP_DEVICE:-cuda}."
  echo "dyolo: \`dyolo bench step --device cuda\` (CUDA backend, FP32 FMA math; AMP = half activations,"
  echo "cuDNN/cuBLAS in half on tensor cores, loss scaling), peak = the backend's allocations during the timed steps.  Ultralytics:"
  echo "\`benchmarks/gpu/ultra_step_gpu.py\` (yolov5==7.0.14, torch autocast + GradScaler as train.py,"
  echo "init_seeds(deterministic=True) as train.py; det=0 in sweep.log if that had to be dropped), peak ="
  echo "torch.cuda.max_memory_allocated.  TFLOP/s = forward GFLOPs/img (dyolo's count, both sides) x 3 x img/s."
  echo "Commands: the sweep rows of the table above."
  echo
  sweep_table "$out/sweep.log"
  echo
  echo "## First failures"
  echo
  for f in parity nccl model sanitizer sweep; do
    [ -f "$out/$f.log" ] || continue
    if grep -qE '^not ok|Bail out|ERROR SUMMARY: [1-9]|error:' "$out/$f.log"; then
      echo "$f.log:"; echo '```'
      grep -E -A4 '^not ok|Bail out|ERROR SUMMARY: [1-9]|error:' "$out/$f.log" | head -40
      echo '```'
    fi
  done
  echo
  echo "Logs: env.log, parity.log, nccl.log, model.log, sweep.log, sanitizer.log (beside this file)."
} > "$md"
cat "$md"
grep -v 'NOT RUN (dry run' "$rows" | grep -qE '\| (FAIL|TIMEOUT|MISSING|NOT RUN)' && exit 1
exit 0
