/* cuda_check.h -- checked-call macros for CUDA runtime, cuDNN, cuBLAS and NCCL.
 * Same contract as src/core/check.h: on failure record "file:line: CALL failed:
 * <library's own error string>" and return a dy_status from the enclosing function.
 * defines: CUDA_CHECK, CUDNN_CHECK, CUBLAS_CHECK, NCCL_CHECK */
#ifndef DY_CUDA_CHECK_H
#define DY_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <nccl.h>

#include "core/err.h"

#define DY_LIB_CHECK(ok, call, msg)                                                        \
    do {                                                                                   \
        if (!(ok)) return err_set(DY_ECUDA, "%s:%d: %s failed: %s", __FILE__, __LINE__,    \
                                  call, msg);                                              \
    } while (0)

#define CUDA_CHECK(call)                                                                   \
    do {                                                                                   \
        cudaError_t cu_e_ = (call);                                                        \
        DY_LIB_CHECK(cu_e_ == cudaSuccess, #call, cudaGetErrorString(cu_e_));              \
    } while (0)

#define CUDNN_CHECK(call)                                                                  \
    do {                                                                                   \
        cudnnStatus_t dn_e_ = (call);                                                      \
        DY_LIB_CHECK(dn_e_ == CUDNN_STATUS_SUCCESS, #call, cudnnGetErrorString(dn_e_));    \
    } while (0)

#define CUBLAS_CHECK(call)                                                                 \
    do {                                                                                   \
        cublasStatus_t bl_e_ = (call);                                                     \
        DY_LIB_CHECK(bl_e_ == CUBLAS_STATUS_SUCCESS, #call, cublasGetStatusString(bl_e_)); \
    } while (0)

#define NCCL_CHECK(call)                                                                   \
    do {                                                                                   \
        ncclResult_t nc_e_ = (call);                                                       \
        DY_LIB_CHECK(nc_e_ == ncclSuccess, #call, ncclGetErrorString(nc_e_));              \
    } while (0)

#endif
