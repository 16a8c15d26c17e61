# tests/train/local.mk -- tests of the optimizer, schedule, EMA and loss scaler.
check_PROGRAMS += tests/train/test_train tests/train/test_scaler_mpi tests/train/test_train_mpi
tests_train_test_train_SOURCES = tests/train/test_train.c tests/tap.h
tests_train_test_train_LDADD = $(TEST_LIBS)
tests_train_test_scaler_mpi_SOURCES = tests/train/test_scaler_mpi.c tests/tap.h
tests_train_test_scaler_mpi_LDADD = $(TEST_LIBS)
tests_train_test_train_mpi_SOURCES = tests/train/test_train_mpi.c tests/tap.h
tests_train_test_train_mpi_LDADD = $(TEST_LIBS)
TESTS += tests/train/test_train tests/train/scaler_mpi.sh tests/train/train_mpi.sh tests/train/bench_step_dist.sh
EXTRA_DIST += tests/train/scaler_mpi.sh tests/train/train_mpi.sh tests/train/bench_step_dist.sh
SANITIZER_TESTS += tests/train/test_train
