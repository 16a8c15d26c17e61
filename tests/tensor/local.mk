# tests/tensor/local.mk -- tests of src/tensor: the CUDA kernels' arithmetic
# (kernels_hd.h) run on the CPU against the CPU backend.
TENSOR_TESTS = tests/tensor/test_kernels_hd
check_PROGRAMS += $(TENSOR_TESTS)
tests_tensor_test_kernels_hd_SOURCES = tests/tensor/test_kernels_hd.c tests/tap.h
tests_tensor_test_kernels_hd_LDADD = $(TEST_LIBS)
# UNIT_TESTS is part of TESTS and SANITIZER_TESTS (tests/local.mk)
UNIT_TESTS += $(TENSOR_TESTS)
