# tests/io/local.mk -- checkpoint I/O, resume and preemption-signal tests.
check_PROGRAMS += tests/io/test_ckpt tests/io/test_ckpt_toy tests/io/test_signals tests/io/test_ckpt_policy \
	tests/io/test_pt_forward tests/io/test_unpickle
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

# dyolo import (issue #19): YOLOv5 .pt fixtures made by make_pt_fixtures.py (committed),
# hostile and broken files made at test time by make_bad_pt.py (stdlib only).
tests_io_test_pt_forward_SOURCES = tests/io/test_pt_forward.c tests/tap.h
tests_io_test_pt_forward_LDADD = $(TEST_LIBS)
tests_io_test_unpickle_SOURCES = tests/io/test_unpickle.c tests/tap.h
tests_io_test_unpickle_LDADD = $(TEST_LIBS)
TESTS += tests/io/test_unpickle tests/io/pt_import.sh
SANITIZER_TESTS += tests/io/test_unpickle
EXTRA_DIST += tests/io/pt_import.sh tests/io/make_pt_fixtures.py tests/io/make_bad_pt.py \
	tests/io/fixtures/yolov5n-best.pt tests/io/fixtures/yolov5n-best.out.bin \
	tests/io/fixtures/tiny-last.pt tests/io/fixtures/tiny-last.out.bin \
	tests/io/fixtures/tiny-state_dict.pt tests/io/fixtures/tiny-state_dict.out.bin tests/io/fixtures/tiny.json
