/* backend_cuda_internal.h -- what the CUDA backend's three files share: the one
 * per-process context (device, compute stream, cuDNN and cuBLAS handles bound to it,
 * the sticky error status, small device/pinned scratch), the recording checks that
 * turn a failed CUDA/cuDNN/cuBLAS call or kernel launch into the sticky status, launch
 * geometry helpers, and the cross-file entry points (ops defined in conv_cudnn.cu and
 * kernels.cu, collected into the table by backend_cuda.cu).
 *
 * Why recording checks and not cuda_check.h's returning macros: the backend ops
 * return void (they are only queued on the stream), so a failure cannot travel back
 * as a value; it is kept (first one wins, with file:line and the library's own
 * message) and handed out by status()/sync().  Functions that do return dy_status
 * (open, alloc, upload, ...) use cuda_check.h.
 *
 * defines: tc_ctx, tc, tc_fail, tc_cuda_ok, tc_cudnn_ok, tc_cublas_ok, TC_CUDA,
 *          TC_CUDNN, TC_CUBLAS, TC_LAUNCH, TC_THREADS, tc_blocks, tc_scratch,
 *          tc_conv_*, tc_h_conv_*, tc_k_* / tc_h_* (kernel ops), tc_row_sum, tc_h_row_sum,
 *          tc_conv_cache_clear */
#ifndef DY_CUDA_BACKEND_CUDA_INTERNAL_H
#define DY_CUDA_BACKEND_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "core/err.h"
#include "tensor/backend.h"
#include "tensor/memtrack.h"
}

struct tc_ctx {
    int open, device, deterministic, sms;
    size_t ws_limit;            /* per-convolution workspace limit, bytes */
    cudaStream_t stream;        /* every op is queued here */
    cudaStream_t copy;          /* input uploads (upload_async) overlap the compute here */
    cudnnHandle_t cudnn;
    cublasHandle_t cublas;
    dy_status status;           /* sticky: first failure since open */
    char msg[768];
    void *scratch;              /* device scratch for reductions and pool argmax, grown on demand */
    size_t scratch_bytes;
    unsigned long long *host;   /* pinned host words for reduction results */
    tn_memtrack mem;            /* every device allocation, scratch included */
};

extern tc_ctx tc;

/* Records a failure unless one is already recorded; clears CUDA's last error so the
 * next launch check does not report it again. */
void tc_fail(dy_status code, const char *file, int line, const char *call, const char *what);

/* Each returns 1 when the call succeeded, else records and returns 0. */
int tc_cuda_ok(cudaError_t e, const char *file, int line, const char *call);
int tc_cudnn_ok(cudnnStatus_t e, const char *file, int line, const char *call);
int tc_cublas_ok(cublasStatus_t e, const char *file, int line, const char *call);

#define TC_CUDA(call) tc_cuda_ok((call), __FILE__, __LINE__, #call)
#define TC_CUDNN(call) tc_cudnn_ok((call), __FILE__, __LINE__, #call)
#define TC_CUBLAS(call) tc_cublas_ok((call), __FILE__, __LINE__, #call)
/* After every kernel launch: a bad configuration or an earlier asynchronous fault. */
#define TC_LAUNCH(name) tc_cuda_ok(cudaGetLastError(), __FILE__, __LINE__, "launch of " name)

enum { TC_THREADS = 256, TC_MAX_BLOCKS = 8192 };

/* Blocks for a grid-stride loop over n items (n > 0), at most TC_MAX_BLOCKS. */
static inline unsigned tc_blocks(size_t n)
{
    size_t b = (n + TC_THREADS - 1) / TC_THREADS;
    return (unsigned)(b < 1 ? 1 : (b > TC_MAX_BLOCKS ? TC_MAX_BLOCKS : b));
}

/* At least `bytes` of device scratch (grown with a stream synchronisation, so only
 * the first steps pay); NULL after recording a failure. */
void *tc_scratch(size_t bytes);

/* conv_cudnn.cu */
size_t tc_conv_workspace(const tn_conv_shape *s, size_t cap_floats);
void tc_conv_fwd(const tn_conv_shape *s, const float *x, const float *w, const float *bias, float *y,
                 float *ws, size_t ws_floats);
void tc_conv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                      size_t ws_floats);
void tc_conv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, float *gbias,
                        int accumulate, float *ws, size_t ws_floats);
void tc_conv_cache_clear(void);
/* The same on half activation storage (cuDNN/cuBLAS in half with f32 accumulation on
 * tensor cores; weights cast to half in the workspace, weight gradients added to the
 * f32 buffer): the half table's convolution ops. */
size_t tc_h_conv_workspace(const tn_conv_shape *s, size_t cap_floats);
void tc_h_conv_fwd(const tn_conv_shape *s, const float *x, const float *w, const float *bias, float *y,
                   float *ws, size_t ws_floats);
void tc_h_conv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                        size_t ws_floats);
void tc_h_conv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, float *gbias,
                          int accumulate, float *ws, size_t ws_floats);

/* kernels_act.cu: activation kernels; tc_k_* on f32 storage, tc_h_* on half storage
 * (their float pointers to activations point at __half values) */
void tc_k_bias_add(int rows, size_t m, const float *bias, float *y);
void tc_h_bias_add(int rows, size_t m, const float *bias, void *y);
/* out[r] = (float)(sum of row r in double) + (accumulate ? out[r] : 0) */
void tc_row_sum(int rows, size_t m, const float *x, float *out, int accumulate);
void tc_h_row_sum(int rows, size_t m, const void *x, float *out, int accumulate);
void tc_h_bn_act_fwd(tn_bn_args *a, const float *y, float *out);
void tc_h_bn_act_bwd(tn_bn_args *a, const float *y, const float *gout, float *gy, float *ggamma, float *gbeta,
                     int accumulate);
void tc_h_maxpool_fwd(int c, int n, int h, int w, int k, const float *x, float *y);
void tc_h_maxpool_bwd(int c, int n, int h, int w, int k, const float *x, const float *gy, float *gx);
void tc_h_upsample2_fwd(int c, int n, int h, int w, const float *x, float *y);
void tc_h_upsample2_bwd(int c, int n, int h, int w, const float *gy, float *gx);
void tc_h_u8_to_f32(int n, int c, int h, int w, const uint8_t *x, float *y);
void tc_h_act_add(size_t n, const void *a, const void *b, void *y);
void tc_h_act_acc(size_t n, const void *x, void *y);
void tc_h_act_from_f32(size_t n, float alpha, const float *x, void *y);
void tc_h_act_to_f32(size_t n, const void *x, float *y);
void tc_h_weights_to_half(size_t n, const float *w, void *hw);
void tc_h_add_to_f32(size_t n, const void *x, float *y, int accumulate);
/* kernels.cu: the element-wise and reduction ops on f32 buffers */
void tc_k_bn_act_fwd(tn_bn_args *a, const float *y, float *out);
void tc_k_bn_act_bwd(tn_bn_args *a, const float *y, const float *gout, float *gy, float *ggamma, float *gbeta,
                     int accumulate);
void tc_k_maxpool_fwd(int c, int n, int h, int w, int k, const float *x, float *y);
void tc_k_maxpool_bwd(int c, int n, int h, int w, int k, const float *x, const float *gy, float *gx);
void tc_k_upsample2_fwd(int c, int n, int h, int w, const float *x, float *y);
void tc_k_upsample2_bwd(int c, int n, int h, int w, const float *gy, float *gx);
void tc_k_add(size_t n, const float *a, const float *b, float *y);
void tc_k_acc(size_t n, const float *x, float *y);
void tc_k_scale(size_t n, float alpha, const float *x, float *y);
void tc_k_fill(size_t n, float v, float *y);
void tc_k_sigmoid(size_t n, const float *x, float *y);
void tc_k_u8_to_f32(int n, int c, int h, int w, const uint8_t *x, float *y);
void tc_k_cast_f32_f16(size_t n, const float *x, uint16_t *y);
void tc_k_cast_f16_f32(size_t n, const uint16_t *x, float *y);
void tc_k_round_f16(size_t n, float *x);
size_t tc_k_nonfinite(size_t n, const float *x);
void tc_k_act_add(size_t n, const void *a, const void *b, void *y);
void tc_k_act_acc(size_t n, const void *x, void *y);
void tc_k_act_from_f32(size_t n, float alpha, const float *x, void *y);
void tc_k_act_to_f32(size_t n, const void *x, float *y);
void tc_k_sgd_update(size_t n, float *p, const float *g, float *mom, float lr, float momentum, float wd,
                     int nesterov);
void tc_k_adamw_update(size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
                       float eps, float wd, float bc1, float bc2);
void tc_k_ema_update(size_t n, float d, float w, const float *src, float *ema);
size_t tc_k_unscale(size_t n, float inv, float *g);
double tc_k_sumsq(size_t n, const float *x);

#endif
