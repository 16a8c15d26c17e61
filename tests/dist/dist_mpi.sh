# dist_mpi.sh -- run test_dist_mpi under mpirun with 1, 2 and 4 ranks.
. "$TOP_SRCDIR/tests/tap.sh"
for np in 1 2 4; do mpi_tap $np 30 test_dist_mpi "$TOP_BUILDDIR/tests/dist/test_dist_mpi"; done
tap_done
