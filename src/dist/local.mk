# src/dist/local.mk -- distributed runtime: MPI start-up and communicators, device
# mapping, backend + transport selection (runtime.c), the communication interface
# (MPI transport; NCCL in cuda/), DDP buckets.
libdyolo_a_SOURCES += \
	src/dist/dist.c src/dist/dist.h \
	src/dist/comm.c src/dist/comm.h src/dist/comm_impl.h src/dist/comm_types.h \
	src/dist/comm_mpi.c src/dist/comm_nccl.c src/dist/ddp.c src/dist/ddp.h \
	src/dist/dist_config.c src/dist/dist_config.h src/dist/runtime.c src/dist/runtime.h \
	src/dist/watchdog.c src/dist/watchdog.h src/dist/mpi_watch.c
EXTRA_DIST += benchmarks/run-allreduce.sh benchmarks/allreduce.md
