/* cpu_kernels.h -- the CPU backend's element-wise kernels (batch-norm statistics,
 * fused affine + SiLU forward and backward) with AVX2/FMA versions chosen at run time
 * and portable fallbacks, and a fork-join helper that splits loops over channels,
 * rows or images across a persistent pool of the backend's threads.
 *
 * defines: cpu_parallel_fn, cpu_parallel, cpu_set_kernel_threads, cpu_bn_stats,
 *          cpu_affine_act, cpu_bn_bwd_reduce, cpu_bn_bwd_apply, cpu_kernel_threads,
 *          cpu_tconv_ws, cpu_tconv_fwd, cpu_tconv_bwd_data, cpu_tconv_bwd_filter,
 *          cpu_gconv_ws, cpu_gconv_fwd, cpu_gconv_bwd_data, cpu_gconv_bwd_filter,
 *          cpu_gconv_enable, the tn_cpu_* memory ops of backend_cpu_mem.c */
#ifndef DY_TENSOR_CPU_KERNELS_H
#define DY_TENSOR_CPU_KERNELS_H

#include <stddef.h>

#include "tensor/backend.h"

typedef void (*cpu_parallel_fn)(void *ctx, int lo, int hi);

void cpu_set_kernel_threads(int threads);
int cpu_kernel_threads(void);
/* Runs fn over [0, n) split into contiguous parts, one per thread; runs inline when
 * work (a rough element count) is small. */
void cpu_parallel(int n, size_t work, cpu_parallel_fn fn, void *ctx);

/* sum and sum of squares of x[0..m) in double */
void cpu_bn_stats(const float *x, size_t m, double *sum, double *sumsq);
/* out = act(x * sc + sh), act = SiLU when silu != 0 */
void cpu_affine_act(const float *x, size_t m, float sc, float sh, int silu, float *out);
/* gz = gout * act'(y * sc + sh); returns sum(gz) and sum(gz * (y - mean)) */
void cpu_bn_bwd_reduce(const float *y, const float *gout, size_t m, float sc, float sh, float mean,
                       int silu, float *gz, double *sum_gz, double *sum_gzx);
/* gz = k0 * (gz - db - (y - mean) * inv * dg) */
void cpu_bn_bwd_apply(const float *y, float *gz, size_t m, float mean, float inv, float k0, float db,
                      float dg);

/* Tiled, image-parallel convolution (conv_tiled.c); each returns -1 (doing nothing)
 * when ws_floats is below what cpu_tconv_ws asked for a single thread. */
size_t cpu_tconv_ws(const tn_conv_shape *s, int threads, size_t cap_floats);
int cpu_tconv_fwd(const tn_conv_shape *s, const float *x, const float *w, float *y, float *ws, size_t ws_floats);
int cpu_tconv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                       size_t ws_floats);
int cpu_tconv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, int accumulate,
                         float *ws, size_t ws_floats);

/* AVX2 implicit-GEMM convolution (conv_gemm.c), used by the tiled path when the CPU
 * has AVX2/FMA and groups = 1: cpu_gconv_ws is its workspace (0 when it does not
 * apply); the others return -1 (doing nothing) when it does not apply or ws_floats is
 * too small.  bwd_data accumulates into gx.  Stride 1 and 2; at stride 2 forward and
 * bwd_data only from 32 outputs per row (a rule on the shape alone, so that results
 * never depend on the batch). */
size_t cpu_gconv_ws(const tn_conv_shape *s, int threads, size_t cap_floats);
int cpu_gconv_fwd(const tn_conv_shape *s, const float *x, const float *w, float *y, float *ws, size_t ws_floats);
int cpu_gconv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                       size_t ws_floats);
/* gw = (accumulate ? gw : 0) + the filter gradient */
int cpu_gconv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, int accumulate,
                         float *ws, size_t ws_floats);
/* Which convolutions take the AVX2 path (tests and A/B benchmarks compare it with
 * OpenBLAS); returns the level in effect (OFF without AVX2/FMA).  The default is ALL.
 * The end-to-end mismatches once blamed on this path (learn_e2e.sh at mAP50 0.41 by
 * epoch 10 with BACKWARD, train_e2e.sh's 1/2/4-rank equivalence at 4e-4 with ALL)
 * came from the BN/SiLU passes, whose scalar row tails made activations depend on
 * the per-rank batch (fixed in cpu_kernels.c, pinned by tests/nn/test_ops.c); both
 * tests pass with ALL.  DYOLO_CONV_GEMM=off|backward|all in the environment selects
 * a level at start. */
enum { CPU_GCONV_OFF = 0, CPU_GCONV_BACKWARD = 1, CPU_GCONV_ALL = 2 };
int cpu_gconv_enable(int level);

/* Host memory and always-complete events (backend_cpu_mem.c). */
dy_status tn_cpu_alloc(size_t bytes, void **out);
void tn_cpu_free(void *p);
void tn_cpu_mem_stats(size_t *in_use, size_t *peak);
void tn_cpu_mem_reset_peak(void);
dy_status tn_cpu_host_alloc(size_t bytes, void **out);
void tn_cpu_host_free(void *p);
dy_status tn_cpu_upload_async(void *dst, const void *src, size_t bytes, tn_event *after, tn_event *done);
void tn_cpu_stream_wait(tn_event *e);
dy_status tn_cpu_upload(void *dst, const void *src, size_t bytes);
dy_status tn_cpu_download(void *dst, const void *src, size_t bytes);
void tn_cpu_copy(void *dst, const void *src, size_t bytes);
void tn_cpu_memset0(void *p, size_t bytes);
dy_status tn_cpu_status(void);
dy_status tn_cpu_event_create(tn_event **out);
void tn_cpu_event_destroy(tn_event *e);
void tn_cpu_event_record(tn_event *e);
dy_status tn_cpu_event_wait(tn_event *e);
int tn_cpu_event_done(tn_event *e);
void *tn_cpu_stream(void);

#endif
