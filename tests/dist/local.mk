# tests/dist/local.mk -- tests of the distributed runtime, comm interface and DDP.
check_PROGRAMS += tests/dist/test_devmap tests/dist/test_dist_mpi tests/dist/test_watchdog tests/dist/test_scaling_model
tests_dist_test_scaling_model_SOURCES = tests/dist/test_scaling_model.c tests/tap.h src/bench/scaling_model.c
tests_dist_test_scaling_model_LDADD = -lm
tests_dist_test_devmap_SOURCES = tests/dist/test_devmap.c tests/tap.h
tests_dist_test_devmap_LDADD = $(TEST_LIBS)
tests_dist_test_dist_mpi_SOURCES = tests/dist/test_dist_mpi.c tests/tap.h
tests_dist_test_dist_mpi_LDADD = $(TEST_LIBS)
tests_dist_test_watchdog_SOURCES = tests/dist/test_watchdog.c
tests_dist_test_watchdog_LDADD = $(TEST_LIBS)
TESTS += tests/dist/bind.sh tests/dist/test_devmap tests/dist/dist_mpi.sh tests/dist/watchdog.sh tests/dist/bench.sh \
	tests/dist/test_scaling_model tests/dist/scaling.sh
EXTRA_DIST += tests/dist/bind.sh tests/dist/dist_mpi.sh tests/dist/watchdog.sh tests/dist/bench.sh tests/dist/scaling.sh
SANITIZER_TESTS += tests/dist/test_devmap
