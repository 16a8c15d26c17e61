# train_mpi.sh -- run test_train_mpi under mpirun with 1, 2 and 4 ranks.
. "$TOP_SRCDIR/tests/tap.sh"
for np in 1 2 4; do mpi_tap $np 11 test_train_mpi "$TOP_BUILDDIR/tests/train/test_train_mpi"; done
tap_done
