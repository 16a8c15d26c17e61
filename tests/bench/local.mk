# tests/bench/local.mk -- tests of the benchmark helpers (src/bench/, benchmarks/quality/).
check_PROGRAMS += tests/bench/test_gpu_peaks
tests_bench_test_gpu_peaks_SOURCES = tests/bench/test_gpu_peaks.c tests/tap.h src/bench/gpu_peaks.c
TESTS += tests/bench/test_gpu_peaks
SANITIZER_TESTS += tests/bench/test_gpu_peaks
# The quality harness's report and target check (benchmarks/quality/summarize.py).
BENCH_SH_TESTS = tests/bench/quality_summary.sh
TESTS += $(BENCH_SH_TESTS)
EXTRA_DIST += $(BENCH_SH_TESTS)
