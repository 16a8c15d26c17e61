# src/tensor/local.mk -- tensors and the backend interface with its CPU backend.
libdyolo_a_SOURCES += src/tensor/backend.h src/tensor/backend_cpu.c src/tensor/backend_staged.c \
	src/tensor/half.c \
	src/tensor/cpu_kernels.h src/tensor/cpu_kernels.c src/tensor/conv_tiled.c \
	src/tensor/conv_gemm.c src/tensor/conv_shape.c \
	src/tensor/backend_cpu_mem.c src/tensor/kernels_hd.h \
	src/tensor/memtrack.h src/tensor/memtrack.c src/tensor/backend_cpu_half.c
