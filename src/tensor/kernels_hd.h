/* kernels_hd.h -- the arithmetic of the element-wise and per-row kernels, written
 * once as functions that compile both as CUDA __host__ __device__ code (the CUDA
 * backend's kernels call them per element) and as plain C (the CPU backend and the
 * CPU test suite call them).  So every CI run on a machine without a GPU exercises
 * the exact arithmetic the GPU kernels perform; only the indexing and launch code
 * differ.  Each function computes one element (or one small row) and touches nothing
 * else: no loops over the whole range, no threads, no allocation.
 *
 * Order of float operations matters: the CPU backend's results are bit-identical to
 * what they were before this header existed, so keep expressions as they are.
 *
 * defines: TN_HD, tn_hd_sgd, tn_hd_adamw, tn_hd_ema, tn_hd_unscale, tn_hd_isfinite */
#ifndef DY_TENSOR_KERNELS_HD_H
#define DY_TENSOR_KERNELS_HD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define TN_HD static __host__ __device__ __forceinline__
#else
#define TN_HD static inline
#endif

/* IEEE finiteness without the libm macro (same on host and device, and under
 * -ffast-math): exponent bits all ones means Inf or NaN. */
TN_HD int tn_hd_isfinite(float x)
{
    union { float f; uint32_t u; } v;
    v.f = x;
    return (v.u & 0x7f800000u) != 0x7f800000u;
}

/* SGD with momentum and decoupled-into-gradient weight decay (PyTorch's SGD):
 * g' = g + wd p; m = mom m + g'; p -= lr (nesterov ? g' + mom m : m). */
TN_HD void tn_hd_sgd(float *p, float g, float *m, float lr, float mom, float wd, int nesterov)
{
    float gi = g + wd * *p;
    float b = mom * *m + gi;
    *m = b;
    *p -= lr * (nesterov ? gi + mom * b : b);
}

/* AdamW (PyTorch's, with bias corrections bc1, bc2 and sqrt(bc2) precomputed). */
TN_HD void tn_hd_adamw(float *p, float g, float *m, float *v, float lr, float b1, float b2, float eps,
                       float decay, float bc1, float sbc2)
{
    float mi = b1 * *m + (1 - b1) * g;
    float vi = b2 * *v + (1 - b2) * g * g;
    *m = mi;
    *v = vi;
    *p = *p * decay - lr * (mi / bc1) / (sqrtf(vi) / sbc2 + eps);
}

/* Exponential moving average: e = d e + w x (w = 1 - d computed once by the caller). */
TN_HD float tn_hd_ema(float e, float x, float d, float w)
{
    return d * e + w * x;
}

/* Loss-scaler unscale of one gradient; returns 1 when the result is not finite. */
TN_HD int tn_hd_unscale(float *g, float inv)
{
    float v = *g * inv;
    *g = v;
    return !tn_hd_isfinite(v);
}

#endif
