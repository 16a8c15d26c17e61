# cuda/local.mk -- CUDA sources (compiled by nvcc when configured with CUDA) and
# their CPU-only stand-ins.  The CUDA backend (backend_cuda.cu, conv_cudnn.cu,
# kernels.cu) replaces src/tensor/backend_cuda_none.c in CUDA builds.
EXTRA_DIST += cuda/gpu_info.cu cuda/cuda_check.h src/core/gpu_none.c \
	cuda/backend_cuda.cu cuda/backend_cuda_internal.h cuda/conv_cudnn.cu cuda/kernels.cu \
	cuda/kernels_act.cu cuda/kernels_common.cuh \
	cuda/comm_nccl.cu cuda/comm_nccl.h src/dist/comm_nccl_none.c \
	src/tensor/backend_cuda_none.c
if HAVE_CUDA
libdyolo_a_SOURCES += cuda/gpu_info.cu cuda/cuda_check.h cuda/comm_nccl.cu cuda/comm_nccl.h \
	cuda/backend_cuda.cu cuda/backend_cuda_internal.h cuda/conv_cudnn.cu cuda/kernels.cu \
	cuda/kernels_act.cu cuda/kernels_common.cuh
else
libdyolo_a_SOURCES += src/core/gpu_none.c src/dist/comm_nccl_none.c cuda/comm_nccl.h \
	src/tensor/backend_cuda_none.c
endif
