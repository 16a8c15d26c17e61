# acinclude.m4 -- dyolo's own configure macros: a pkg-config check that names the
# Debian package to install, and the optional CUDA/cuDNN/cuBLAS/NCCL detection.

# DY_PKG_REQUIRE(VAR, PKGCONFIG-NAME, DEBIAN-PACKAGE)
AC_DEFUN([DY_PKG_REQUIRE], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found (pkg-config module '$2').
    On Debian/Ubuntu: apt-get install $3])])
])

# DY_CUDA_HEADER_VERSION(VAR, HEADER, EXPR) -- evaluate a version macro of a header.
AC_DEFUN([DY_CUDA_HEADER_VERSION], [
  AC_COMPUTE_INT([$1], [$3], [#include <$2>], [$1=unknown])
])

# DY_CHECK_CUDA -- --with-cuda[=DIR] (default: auto-detect /usr/local/cuda).
# Sets dy_have_cuda, CUDA_CFLAGS, CUDA_LIBS, NVCC, NVCC_ARCH_FLAGS and the summary
# strings.  An explicit --with-cuda that cannot be satisfied is an error; auto
# detection that fails just builds the CPU-only program.
AC_DEFUN([DY_CHECK_CUDA], [
  AC_ARG_WITH([cuda],
    [AS_HELP_STRING([--with-cuda@<:@=DIR@:>@],
      [build the CUDA backend and NCCL transport (default: auto-detect /usr/local/cuda)])],
    [], [with_cuda=auto])
  AC_ARG_WITH([cuda-arch],
    [AS_HELP_STRING([--with-cuda-arch="80 90"],
      [GPU compute capabilities to compile for (default: "80 90")])],
    [dy_cuda_archs="$withval"], [dy_cuda_archs="80 90"])
  AC_ARG_VAR([NVCC], [CUDA compiler])
  dy_have_cuda=no
  dy_cuda_summary="disabled (--without-cuda)"
  dy_cudnn_version="-"
  dy_nccl_version="-"
  AS_CASE([$with_cuda],
    [no], [],
    [yes|auto], [dy_cuda_dir=/usr/local/cuda],
    [dy_cuda_dir=$with_cuda])
  AS_IF([test "x$with_cuda" != xno], [
    dy_cuda_why=""
    AS_IF([test -z "$NVCC"], [AS_IF([test -x "$dy_cuda_dir/bin/nvcc"], [NVCC="$dy_cuda_dir/bin/nvcc"])])
    AS_IF([test -z "$NVCC"], [dy_cuda_why="nvcc not found in $dy_cuda_dir/bin"])
    dy_save_CPPFLAGS=$CPPFLAGS; dy_save_LIBS=$LIBS; dy_save_LDFLAGS=$LDFLAGS
    CPPFLAGS="$CPPFLAGS -I$dy_cuda_dir/include"
    LDFLAGS="$LDFLAGS -L$dy_cuda_dir/lib64"
    AS_IF([test -z "$dy_cuda_why"], [AC_CHECK_HEADER([cuda_runtime_api.h], [], [dy_cuda_why="cuda_runtime_api.h not found"])])
    AS_IF([test -z "$dy_cuda_why"], [AC_CHECK_HEADER([cudnn.h], [], [dy_cuda_why="cudnn.h not found (install cuDNN)"])])
    AS_IF([test -z "$dy_cuda_why"], [AC_CHECK_HEADER([nccl.h], [], [dy_cuda_why="nccl.h not found (install NCCL)"])])
    AS_IF([test -z "$dy_cuda_why"], [AC_CHECK_HEADER([cublas_v2.h], [], [dy_cuda_why="cublas_v2.h not found"])])
    AS_IF([test -z "$dy_cuda_why"], [AC_CHECK_LIB([cudart], [cudaGetDeviceCount], [], [dy_cuda_why="libcudart not found"])])
    AS_IF([test -z "$dy_cuda_why"], [AC_CHECK_LIB([cublas], [cublasCreate_v2], [], [dy_cuda_why="libcublas not found"])])
    AS_IF([test -z "$dy_cuda_why"], [AC_CHECK_LIB([cudnn], [cudnnGetVersion], [], [dy_cuda_why="libcudnn not found"])])
    AS_IF([test -z "$dy_cuda_why"], [AC_CHECK_LIB([nccl], [ncclGetVersion], [], [dy_cuda_why="libnccl not found"])])
    AS_IF([test -z "$dy_cuda_why"], [
      DY_CUDA_HEADER_VERSION([dy_cudart_hdr], [cuda_runtime_api.h], [CUDART_VERSION])
      DY_CUDA_HEADER_VERSION([dy_cudnn_hdr], [cudnn.h], [CUDNN_MAJOR * 10000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL])
      DY_CUDA_HEADER_VERSION([dy_nccl_hdr], [nccl.h], [NCCL_VERSION_CODE])
      dy_have_cuda=yes
    ])
    CPPFLAGS=$dy_save_CPPFLAGS; LIBS=$dy_save_LIBS; LDFLAGS=$dy_save_LDFLAGS
    AS_IF([test "x$dy_have_cuda" = xyes], [
      CUDA_CFLAGS="-I$dy_cuda_dir/include"
      CUDA_LIBS="-L$dy_cuda_dir/lib64 -Wl,-rpath,$dy_cuda_dir/lib64 -lnccl -lcudnn -lcublas -lcudart -lstdc++"
      NVCC_ARCH_FLAGS=""
      for a in $dy_cuda_archs; do
        NVCC_ARCH_FLAGS="$NVCC_ARCH_FLAGS -gencode arch=compute_$a,code=sm_$a"
      done
      dy_cuda_summary="yes ($NVCC, runtime headers $dy_cudart_hdr)"
      dy_cudnn_version="$dy_cudnn_hdr"
      dy_nccl_version="$dy_nccl_hdr"
      AC_DEFINE([DY_HAVE_CUDA], [1], [Build the CUDA backend and NCCL transport])
    ], [
      AS_IF([test "x$with_cuda" = xauto],
        [AC_MSG_NOTICE([CUDA not enabled: $dy_cuda_why])
         dy_cuda_summary="no (auto-detect: $dy_cuda_why)"],
        [AC_MSG_ERROR([--with-cuda given but $dy_cuda_why (looked in $dy_cuda_dir)])])
    ])
  ])
  AS_IF([test "x$dy_have_cuda" != xyes], [dy_cuda_archs="-"])
  AC_SUBST([CUDA_CFLAGS])
  AC_SUBST([CUDA_LIBS])
  AC_SUBST([NVCC_ARCH_FLAGS])
])
