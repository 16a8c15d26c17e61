# tests/bench/local.mk -- tests of the benchmark helpers (src/bench/).
check_PROGRAMS += tests/bench/test_gpu_peaks
tests_bench_test_gpu_peaks_SOURCES = tests/bench/test_gpu_peaks.c tests/tap.h src/bench/gpu_peaks.c
TESTS += tests/bench/test_gpu_peaks
SANITIZER_TESTS += tests/bench/test_gpu_peaks
