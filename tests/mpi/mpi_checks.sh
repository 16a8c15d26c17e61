# mpi_checks.sh -- run test_mpi_checks under mpirun with 1, 2 and 4 ranks.
. "$TOP_SRCDIR/tests/tap.sh"
for np in 1 2 4; do mpi_tap $np 10 test_mpi_checks "$TOP_BUILDDIR/tests/mpi/test_mpi_checks"; done
tap_done
