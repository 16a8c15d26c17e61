# tests/io/local.mk -- checkpoint I/O, resume and preemption-signal tests.
check_PROGRAMS += tests/io/test_ckpt tests/io/test_ckpt_toy tests/io/test_signals tests/io/test_ckpt_policy
tests_io_test_ckpt_SOURCES = tests/io/test_ckpt.c tests/io/ckpt_testdata.h tests/tap.h
tests_io_test_ckpt_LDADD = $(TEST_LIBS)
tests_io_test_ckpt_toy_SOURCES = tests/io/test_ckpt_toy.c
tests_io_test_ckpt_toy_LDADD = $(TEST_LIBS)
tests_io_test_signals_SOURCES = tests/io/test_signals.c tests/tap.h
tests_io_test_signals_LDADD = $(TEST_LIBS)
IO_TESTS = tests/io/ckpt_mpi.sh tests/io/ckpt_enospc.sh tests/io/ckpt_resume.sh tests/io/ckpt_cli.sh
tests_io_test_ckpt_policy_SOURCES = tests/io/test_ckpt_policy.c tests/tap.h
tests_io_test_ckpt_policy_LDADD = $(TEST_LIBS)
TESTS += tests/io/test_signals tests/io/test_ckpt_policy $(IO_TESTS)
EXTRA_DIST += $(IO_TESTS)
SANITIZER_TESTS += tests/io/test_signals tests/io/test_ckpt_policy
# ONNX export against onnxruntime (tests/io/onnx_check.py, onnx + onnxruntime in .venv).
check_PROGRAMS += tests/io/onnx_ref
tests_io_onnx_ref_SOURCES = tests/io/onnx_ref.c
tests_io_onnx_ref_LDADD = $(TEST_LIBS)
TESTS += tests/io/onnx_export.sh
EXTRA_DIST += tests/io/onnx_export.sh tests/io/onnx_check.py
