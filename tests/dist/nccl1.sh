# nccl1.sh -- test_nccl1 under `mpirun -np 1` (run-mpi: time-limited, as root); its
# TAP goes straight to the driver so "SKIP: no usable GPU (...)" shows in CI logs.
exec "$RUN_MPI" 1 "$TOP_BUILDDIR/tests/dist/test_nccl1"
