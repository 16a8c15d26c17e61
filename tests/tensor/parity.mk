# tests/tensor/parity.mk -- the backend-parity test: every op of every compiled
# backend against the CPU backend (CUDA half skipped, with the reason, without a GPU).
# Named parity.mk, not local.mk, so that it merges beside other tests/tensor fragments.
check_PROGRAMS += tests/tensor/test_backend_parity
tests_tensor_test_backend_parity_SOURCES = tests/tensor/test_backend_parity.c \
	tests/tensor/parity_harness.h tests/tap.h
tests_tensor_test_backend_parity_LDADD = $(TEST_LIBS)
TESTS += tests/tensor/test_backend_parity
