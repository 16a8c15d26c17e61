/* kernels.cu -- the CUDA backend's element-wise kernels on f32 buffers: the
 * element-wise passes, binary16 casts, the non-finite count, the fused optimizer /
 * EMA / unscale passes and the sum of squares.  The activation kernels (batch norm,
 * pooling, upsampling, input conversion, per-row sums), for f32 and half storage,
 * are in kernels_act.cu.
 *
 * The arithmetic of every element is a TN_HD function of src/tensor/kernels_hd.h,
 * which the CPU test suite runs too (tests/tensor/test_kernels_hd.c); this file only
 * does the indexing and the launches.  All loops are grid-stride over size_t indices
 * (a 640 px batch of 64 has over 2^31 activation values in some layers' gradients),
 * and a launch with nothing to do is skipped (a zero grid is a launch error).
 *
 * Reductions are deterministic: the sum of squares uses a block count that depends
 * only on n and adds the block partials in order; the non-finite count uses integer
 * atomics (exact in any order).
 *
 * defines: the element-wise tc_k_* ops of the table (see backend_cuda_internal.h) */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels_common.cuh"
#include "tensor/kernels_hd.h"

/* ---- launch helpers ---- */

template <class F> __global__ void ew_kernel(size_t n, F f)
{
    GRID_STRIDE(i, n) f(i);
}

/* One element-wise pass of functor f over [0, n) on the compute stream. */
template <class F> static void ew_run(size_t n, F f, const char *file, int line, const char *name)
{
    if (n == 0) return;
    ew_kernel<<<tc_blocks(n), TC_THREADS, 0, tc.stream>>>(n, f);
    tc_cuda_ok(cudaGetLastError(), file, line, name);
}
#define EW(n, f, name) ew_run((n), (f), __FILE__, __LINE__, "launch of " name)

/* ---- element-wise passes (functors run by ew_kernel) ---- */

struct f_add {
    const float *a, *b;
    float *y;
    __device__ void operator()(size_t i) const { y[i] = a[i] + b[i]; }
};
struct f_acc {
    const float *x;
    float *y;
    __device__ void operator()(size_t i) const { y[i] += x[i]; }
};
struct f_scale {
    float alpha;
    const float *x;
    float *y;
    __device__ void operator()(size_t i) const { y[i] = alpha * x[i]; }
};
struct f_fill {
    float v;
    float *y;
    __device__ void operator()(size_t i) const { y[i] = v; }
};
struct f_sigmoid {
    const float *x;
    float *y;
    __device__ void operator()(size_t i) const { y[i] = tn_hd_sigmoid(x[i]); }
};
struct f_to_f16 {
    const float *x;
    uint16_t *y;
    __device__ void operator()(size_t i) const { y[i] = tn_hd_half_from_float(x[i]); }
};
struct f_from_f16 {
    const uint16_t *x;
    float *y;
    __device__ void operator()(size_t i) const { y[i] = tn_hd_float_from_half(x[i]); }
};
struct f_round_f16 {
    float *x;
    __device__ void operator()(size_t i) const { x[i] = tn_hd_round_f16(x[i]); }
};
struct f_sgd {
    float *p, *mom;
    const float *g;
    float lr, momentum, wd;
    int nesterov;
    __device__ void operator()(size_t i) const { tn_hd_sgd(&p[i], g[i], &mom[i], lr, momentum, wd, nesterov); }
};
struct f_adamw {
    float *p, *m, *v;
    const float *g;
    float lr, b1, b2, eps, decay, bc1, sbc2;
    __device__ void operator()(size_t i) const
    {
        tn_hd_adamw(&p[i], g[i], &m[i], &v[i], lr, b1, b2, eps, decay, bc1, sbc2);
    }
};
struct f_ema {
    float d, w;
    const float *src;
    float *ema;
    __device__ void operator()(size_t i) const { ema[i] = tn_hd_ema(ema[i], src[i], d, w); }
};

void tc_k_add(size_t n, const float *a, const float *b, float *y) { EW(n, (f_add{a, b, y}), "f_add"); }
void tc_k_acc(size_t n, const float *x, float *y) { EW(n, (f_acc{x, y}), "f_acc"); }
void tc_k_scale(size_t n, float alpha, const float *x, float *y) { EW(n, (f_scale{alpha, x, y}), "f_scale"); }
void tc_k_fill(size_t n, float v, float *y) { EW(n, (f_fill{v, y}), "f_fill"); }
void tc_k_sigmoid(size_t n, const float *x, float *y) { EW(n, (f_sigmoid{x, y}), "f_sigmoid"); }
void tc_k_cast_f32_f16(size_t n, const float *x, uint16_t *y) { EW(n, (f_to_f16{x, y}), "f_to_f16"); }
void tc_k_cast_f16_f32(size_t n, const uint16_t *x, float *y) { EW(n, (f_from_f16{x, y}), "f_from_f16"); }
void tc_k_round_f16(size_t n, float *x) { EW(n, (f_round_f16{x}), "f_round_f16"); }

/* f32 activation storage: the act_* ops are the element-wise ones */
void tc_k_act_add(size_t n, const void *a, const void *b, void *y)
{
    tc_k_add(n, (const float *)a, (const float *)b, (float *)y);
}
void tc_k_act_acc(size_t n, const void *x, void *y) { tc_k_acc(n, (const float *)x, (float *)y); }
void tc_k_act_from_f32(size_t n, float alpha, const float *x, void *y) { tc_k_scale(n, alpha, x, (float *)y); }
void tc_k_act_to_f32(size_t n, const void *x, float *y)
{
    if (n && x != y) TC_CUDA(cudaMemcpyAsync(y, x, n * sizeof(float), cudaMemcpyDeviceToDevice, tc.stream));
}

void tc_k_sgd_update(size_t n, float *p, const float *g, float *mom, float lr, float momentum, float wd,
                     int nesterov)
{
    EW(n, (f_sgd{p, mom, g, lr, momentum, wd, nesterov}), "f_sgd");
}

void tc_k_adamw_update(size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
                       float eps, float wd, float bc1, float bc2)
{
    /* the same host-side constants as the CPU backend */
    float decay = 1.0f - lr * wd, sbc2 = sqrtf(bc2);
    EW(n, (f_adamw{p, m, v, g, lr, b1, b2, eps, decay, bc1, sbc2}), "f_adamw");
}

void tc_k_ema_update(size_t n, float d, float w, const float *src, float *ema)
{
    EW(n, (f_ema{d, w, src, ema}), "f_ema");
}

/* ---- reductions to the host: non-finite count, unscale, sum of squares ---- */

/* Counts non-finite values (after g *= inv when g is non-NULL); one integer atomic
 * per block, exact in any order. */
static __global__ void count_kernel(size_t n, const float *x, float *g, float inv, unsigned long long *count)
{
    __shared__ unsigned long long sh[TC_THREADS];
    unsigned long long bad = 0;
    GRID_STRIDE(i, n)
    {
        if (g) bad += (unsigned long long)tn_hd_unscale(&g[i], inv);
        else bad += (unsigned long long)!tn_hd_isfinite(x[i]);
    }
    bad = block_sum(bad, sh);
    if (threadIdx.x == 0 && bad) atomicAdd(count, bad);
}

/* Returns the count, or n (everything suspect) after recording a failure, so that
 * a caller that checks only the count skips the step rather than applying garbage. */
static size_t count_run(size_t n, const float *x, float *g, float inv)
{
    if (n == 0) return 0;
    unsigned long long *d = (unsigned long long *)tc_scratch(sizeof *d);
    if (!d || !TC_CUDA(cudaMemsetAsync(d, 0, sizeof *d, tc.stream))) return n;
    count_kernel<<<tc_blocks(n), TC_THREADS, 0, tc.stream>>>(n, x, g, inv, d);
    if (!TC_LAUNCH("count_kernel")) return n;
    if (!TC_CUDA(cudaMemcpyAsync(tc.host, d, sizeof *d, cudaMemcpyDeviceToHost, tc.stream))) return n;
    if (!TC_CUDA(cudaStreamSynchronize(tc.stream))) return n;
    return (size_t)tc.host[0];
}

size_t tc_k_nonfinite(size_t n, const float *x) { return count_run(n, x, NULL, 1.f); }
size_t tc_k_unscale(size_t n, float inv, float *g) { return count_run(n, NULL, g, inv); }

enum { SUMSQ_BLOCKS = 1024 };

static __global__ void sumsq_partial(size_t n, const float *x, double *part)
{
    __shared__ double sh[TC_THREADS];
    double s = 0;
    GRID_STRIDE(i, n) s += (double)x[i] * x[i];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

static __global__ void sumsq_finish(int nb, double *part)
{
    if (threadIdx.x != 0 || blockIdx.x != 0) return;
    double s = 0;
    for (int b = 0; b < nb; b++) s += part[b];
    part[SUMSQ_BLOCKS] = s;
}

/* Deterministic: the block count depends on n only. */
double tc_k_sumsq(size_t n, const float *x)
{
    if (n == 0) return 0;
    size_t nb = (n + TC_THREADS - 1) / TC_THREADS;
    if (nb > SUMSQ_BLOCKS) nb = SUMSQ_BLOCKS;
    double *part = (double *)tc_scratch((SUMSQ_BLOCKS + 1) * sizeof(double));
    if (!part) return NAN;
    sumsq_partial<<<(unsigned)nb, TC_THREADS, 0, tc.stream>>>(n, x, part);
    if (!TC_LAUNCH("sumsq_partial")) return NAN;
    sumsq_finish<<<1, 32, 0, tc.stream>>>((int)nb, part);
    if (!TC_LAUNCH("sumsq_finish")) return NAN;
    if (!TC_CUDA(cudaMemcpyAsync(tc.host, part + SUMSQ_BLOCKS, sizeof(double), cudaMemcpyDeviceToHost, tc.stream)))
        return NAN;
    if (!TC_CUDA(cudaStreamSynchronize(tc.stream))) return NAN;
    double r;
    memcpy(&r, tc.host, sizeof r);
    return r;
}
