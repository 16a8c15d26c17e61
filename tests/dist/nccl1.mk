# tests/dist/nccl1.mk -- the one-rank NCCL transport test on device buffers (SKIP with
# the reason without a GPU).  Its own fragment so it merges beside tests/dist/local.mk.
check_PROGRAMS += tests/dist/test_nccl1
tests_dist_test_nccl1_SOURCES = tests/dist/test_nccl1.c tests/dist/nccl1_devmem.h tests/tap.h
if HAVE_CUDA
tests_dist_test_nccl1_SOURCES += tests/dist/nccl1_devmem.cu
else
tests_dist_test_nccl1_SOURCES += tests/dist/nccl1_devmem_none.c
endif
tests_dist_test_nccl1_LDADD = $(TEST_LIBS)
TESTS += tests/dist/nccl1.sh
EXTRA_DIST += tests/dist/nccl1.sh tests/dist/nccl1_devmem.cu tests/dist/nccl1_devmem_none.c
