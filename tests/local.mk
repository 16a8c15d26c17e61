# tests/local.mk -- unit, CLI and MPI tests of the core and CLI.
check_PROGRAMS += tests/unit/test_core tests/unit/test_config tests/unit/test_affinity tests/unit/test_autoanchor \
	tests/mpi/test_mpi_checks
tests_unit_test_core_SOURCES = tests/unit/test_core.c tests/tap.h
tests_unit_test_core_LDADD = $(TEST_LIBS)
tests_unit_test_config_SOURCES = tests/unit/test_config.c tests/tap.h
tests_unit_test_config_LDADD = $(TEST_LIBS)
tests_unit_test_affinity_SOURCES = tests/unit/test_affinity.c tests/tap.h
tests_unit_test_affinity_LDADD = $(TEST_LIBS)
tests_unit_test_autoanchor_SOURCES = tests/unit/test_autoanchor.c tests/tap.h
tests_unit_test_autoanchor_LDADD = $(TEST_LIBS)
tests_mpi_test_mpi_checks_SOURCES = tests/mpi/test_mpi_checks.c tests/tap.h
tests_mpi_test_mpi_checks_LDADD = $(TEST_LIBS)

UNIT_TESTS = tests/unit/test_core tests/unit/test_config tests/unit/test_affinity tests/unit/test_autoanchor
TESTS += $(UNIT_TESTS) tests/cli/version.sh tests/cli/config_errors.sh tests/cli/run_inputs.sh \
	tests/mpi/mpi_checks.sh tests/cli/device_select.sh
EXTRA_DIST += tests/cli/version.sh tests/cli/config_errors.sh tests/cli/run_inputs.sh tests/mpi/mpi_checks.sh \
	tests/cli/device_select.sh \
	tests/run-mpi.in
SANITIZER_TESTS = $(UNIT_TESTS) tests/cli/version.sh tests/cli/config_errors.sh

include $(srcdir)/tests/tensor/local.mk
include $(srcdir)/tests/tensor/parity.mk
include $(srcdir)/tests/dist/nccl1.mk
