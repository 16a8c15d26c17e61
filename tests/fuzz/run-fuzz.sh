#!/usr/bin/env bash
# run-fuzz.sh [SECONDS_PER_TARGET] -- build the libFuzzer targets of tests/fuzz/ in a
# clang + ASan/UBSan build (build-fuzz/, CPU only) and run each one: first every
# regression input (tests/fuzz/regressions/<target>/: crashes found before, which
# must stay fixed), then a fuzzing run from the seed corpus (tests/fuzz/corpus/<target>/).
#
# Without an argument (CI, .ci/run) each run is reproducible: a fixed libFuzzer
# -seed and a fixed number of inputs per target (-runs; both from the table in
# plan_of below, sized for 40-60 s each on a 2-core CI machine), so the same
# inputs are tried every time and a failure is a regression, never bad luck.
# -max_total_time (FUZZ_CAP, default 150 s) is only a safety cap; a run it stops
# early passes with a note.
# With SECONDS (exploration, benchmarks/fuzz.md) each target runs that long instead
# (the table's seeds, no -runs bound).
#
# Any crash, sanitizer report, leak, hang (> 10 s for one input) or RSS over 2 GiB
# fails the target; the input that did it is left in build-fuzz/fuzz-out/<target>/
# (crash-*, leak-*, timeout-*, oom-*).
# New corpus entries go to build-fuzz/fuzz-out/<target>/corpus, never into the repo.
# Writes build-fuzz/fuzz-suite.log with automake-style "# PASS: / # FAIL:" counts
# (one test per target), which .ci/run adds to its totals.  Runs targets one at a
# time under nice: the machine is shared.
# A seeded run is only reproducible if the process is: the fuzzers run without
# address-space randomisation (setarch -R; libFuzzer's compare tracing feeds pointer
# values into its mutations) and in a fixed scratch folder (FUZZ_SCRATCH, whose path
# the parsers compare), so two runs of the same build report the same cov/ft/corpus.
# Environment: FUZZ_BUILD=DIR builds and runs in DIR instead of build-fuzz/ (a long
# run beside CI); FUZZ_TARGETS="fuzz_config fuzz_image" runs a subset; FUZZ_JOBS sets
# make's -j (default 2); FUZZ_SEED=S and FUZZ_RUNS=N override every target's seed
# and input count; FUZZ_CAP as above.
set -uo pipefail
secs=${1:-}
cap=${FUZZ_CAP:-150}
# Inputs and libFuzzer seed per target for the CI run ("RUNS SEED"): runs sized from
# execs of a 45 s run on the 2-core CI machine kind (benchmarks/fuzz.md).  The same
# seed tries the same inputs only with the same instrumented code: a change to the
# code under a target changes its path, so after such a change run the stage twice
# and resize here if needed.  Keep each target at 40-60 s and the stage under 10
# minutes.  (Until shard schema 3, fuzz_shard reached a heap overflow inside HDF5
# 1.10.8's H5Aopen within 600-8600 inputs and needed a hand-picked seed; shards are
# now written in HDF5's checksummed format and the old format is refused before HDF5
# parses it: regressions/fuzz_shard/old-format-attr-heap-overflow.h5.)
plan_of() {
  case $1 in
    fuzz_config) echo "110000 1" ;;
    fuzz_data_yaml) echo "180000 1" ;;
    fuzz_yolo_labels) echo "95000 1" ;;
    fuzz_coco_json) echo "480000 1" ;;
    fuzz_voc_xml) echo "190000 1" ;;
    fuzz_image) echo "800000 1" ;;
    fuzz_shard) echo "8000 1" ;;
    fuzz_ckpt) echo "3600 1" ;;
    fuzz_manifest) echo "20000 1" ;;
    fuzz_pickle) echo "22000 1" ;;
    fuzz_pt) echo "3000 1" ;;
    *) echo "10000 1" ;;
  esac
}
root=$(cd "$(dirname "$0")/../.." && pwd)
bld=${FUZZ_BUILD:-$root/build-fuzz}
all="fuzz_config fuzz_data_yaml fuzz_yolo_labels fuzz_coco_json fuzz_voc_xml fuzz_image fuzz_shard fuzz_ckpt fuzz_manifest"
all="$all fuzz_pickle fuzz_pt"
targets=${FUZZ_TARGETS:-$all}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# MPI singletons: no shared-memory segments or network probing needed for MPI_COMM_SELF,
# and no orted (isolated; see Makefile.am).
export OMPI_MCA_btl=self OMPI_MCA_btl_base_warn_component_unused=0 OMPI_MCA_ess_singleton_isolated=1
# Debian's clang 14 has no _Float16 on x86 (clang 15 added it): the few fp16 helpers
# (gradient all-reduce, loss scaler; no parser reaches them) compile with clang's
# storage-only __fp16 instead, converted by F16C instructions (every AVX2 CPU has them).
san="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
san="$san -D_Float16=__fp16 -mf16c"
log=$bld/fuzz-suite.log
start=$(date +%s)

command -v clang >/dev/null || { echo "run-fuzz: clang not found (apt-get install clang libclang-rt-14-dev libfuzzer-14-dev)"; exit 1; }
[ -x "$root/configure" ] || (cd "$root" && ./bootstrap) || exit 1
mkdir -p "$bld"
if [ ! -f "$bld/Makefile" ] || [ "$root/configure" -nt "$bld/Makefile" ]; then
  # Leak checks off while configure runs its MPI test programs (Open MPI's own
  # allocations at exit are not ours to fix).
  ( cd "$bld" && ASAN_OPTIONS=detect_leaks=0 ../configure --without-cuda --enable-werror CC=clang \
      CPPFLAGS="$(mpicc --showme:compile)" LIBS="$(mpicc --showme:link)" \
      CFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" >configure.out 2>&1 ) \
    || { echo "run-fuzz: configure failed"; tail -30 "$bld/configure.out"; exit 1; }
fi
progs=""
for t in $targets; do progs="$progs tests/fuzz/$t"; done
( cd "$bld" && ASAN_OPTIONS=detect_leaks=0 nice -n 19 make -j"${FUZZ_JOBS:-2}" $progs >make-fuzz.out 2>&1 ) \
  || { echo "run-fuzz: build failed"; tail -40 "$bld/make-fuzz.out"; exit 1; }
echo "run-fuzz: built in $(( $(date +%s) - start )) s"

asan=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export LSAN_OPTIONS=suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
norand=()
if setarch "$(uname -m)" -R true 2>/dev/null; then norand=(setarch "$(uname -m)" -R)
else echo "run-fuzz: note: setarch -R unavailable: runs with the same seed may differ (ASLR)"; fi
shm=/dev/shm; [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
tag=$(printf '%s' "$bld" | cksum | cut -d' ' -f1)
pass=0 fail=0
: >"$log"
for t in $targets; do
  out=$bld/fuzz-out/$t
  rm -rf "$out"; mkdir -p "$out/corpus"
  exe=$bld/tests/fuzz/$t
  export FUZZ_SCRATCH=$shm/dyolo-fuzz-$tag-$t
  ok=1
  # The MPI-IO targets: Open MPI is built without frame pointers, so only the slow
  # unwinder gives LeakSanitizer the stacks that lsan.supp matches.
  case $t in fuzz_shard|fuzz_ckpt|fuzz_manifest|fuzz_pt) export ASAN_OPTIONS=$asan:fast_unwind_on_malloc=0 ;; *) export ASAN_OPTIONS=$asan ;; esac
  regs=("$root"/tests/fuzz/regressions/"$t"/*)
  if [ -e "${regs[0]}" ]; then
    # Each regression input once, in one process (leaks and hangs included).
    nice -n 19 "${norand[@]}" "$exe" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 "${regs[@]}" >"$out/regressions.log" 2>&1 \
      || { ok=0; echo "run-fuzz: $t: a regression input fails again:"; tail -30 "$out/regressions.log"; }
  fi
  read -r runs seed <<<"$(plan_of "$t")"
  seed=${FUZZ_SEED:-$seed}
  # CI: no compare-trace mutations and no corpus reloads, both of which depend on
  # heap addresses or timing and made two seeded runs of one build diverge.
  if [ -n "$secs" ]; then bound="-max_total_time=$secs"; runs=""; pin=""
  else runs=${FUZZ_RUNS:-$runs}; bound="-runs=$runs -max_total_time=$cap"; pin="-use_cmp=0 -use_memmem=0 -reload=0"; fi
  t0=$(date +%s)
  if [ $ok -eq 1 ]; then
    # shellcheck disable=SC2086 # $bound is two options
    nice -n 19 "${norand[@]}" "$exe" -seed="$seed" $bound $pin -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
      -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$root/tests/fuzz/corpus/$t" >"$out/fuzz.log" 2>&1 \
      || { ok=0; echo "run-fuzz: $t: fuzzing found a failure (-seed=$seed $bound):"; grep -E 'ERROR|SUMMARY|Test unit written|runtime error|leak' "$out/fuzz.log" | head -20; }
  fi
  dt=$(( $(date +%s) - t0 ))
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" 2>/dev/null | tail -1)
  if [ $ok -eq 1 ] && [ -n "$runs" ] && [ "${done_runs:-0}" -lt "$runs" ]; then
    echo "run-fuzz: $t: note: the ${cap} s cap stopped it after ${done_runs:-0} of $runs inputs (machine slower than the table assumes)"
  fi
  stats=$(grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$out/fuzz.log" 2>/dev/null | awk '{printf "%s ", $0}')
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$out/fuzz.log" 2>/dev/null | tail -1)
  if [ $ok -eq 1 ]; then
    pass=$((pass + 1)); echo "PASS: $t (${dt} s; seed $seed; $cov; $stats)" | tee -a "$log"
  else
    fail=$((fail + 1)); echo "FAIL: $t (log: $out/)" | tee -a "$log"
  fi
done
{ echo "# TOTAL: $((pass + fail))"; echo "# PASS: $pass"; echo "# FAIL: $fail"; } >>"$log"
echo "run-fuzz: $pass passed, $fail failed in $(( $(date +%s) - start )) s"
[ "$fail" -eq 0 ]
