# tests/nn/local.mk -- tests of the tensor backend, the layer graph, the YOLOv5 model and loss.
NN_TESTS = tests/nn/test_ops tests/nn/test_model tests/nn/test_overfit tests/nn/test_model_backend \
	tests/nn/test_model_half
check_PROGRAMS += $(NN_TESTS)
tests_nn_test_ops_SOURCES = tests/nn/test_ops.c tests/nn/gradcheck.h tests/tap.h
tests_nn_test_ops_LDADD = $(TEST_LIBS)
tests_nn_test_model_SOURCES = tests/nn/test_model.c tests/nn/gradcheck.h tests/tap.h
tests_nn_test_model_LDADD = $(TEST_LIBS)
tests_nn_test_overfit_SOURCES = tests/nn/test_overfit.c tests/tap.h
tests_nn_test_overfit_LDADD = $(TEST_LIBS)
tests_nn_test_model_backend_SOURCES = tests/nn/test_model_backend.c tests/nn/model_harness.h tests/tap.h
tests_nn_test_model_backend_LDADD = $(TEST_LIBS)
tests_nn_test_model_half_SOURCES = tests/nn/test_model_half.c tests/nn/model_harness.h tests/tap.h
tests_nn_test_model_half_LDADD = $(TEST_LIBS)
TESTS += $(NN_TESTS) tests/nn/model_cli.sh
EXTRA_DIST += tests/nn/model_cli.sh
SANITIZER_TESTS += tests/nn/test_ops tests/nn/test_model tests/nn/model_cli.sh
