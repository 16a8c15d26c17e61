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
 * The CUDA build compiles them with -fmad=false (NVCCFLAGS in Makefile.am) so that
 * nvcc does not contract a * b + c into a fused multiply-add: the device then rounds
 * every +, -, *, / and sqrtf exactly as the host does.  The one exception is expf
 * (CUDA's is within 2 ulp of glibc's), so SiLU and sigmoid agree only to a few ulp.
 *
 * defines: TN_HD, tn_hd_sgd, tn_hd_adamw, tn_hd_ema, tn_hd_unscale, tn_hd_isfinite,
 *          tn_hd_silu, tn_hd_sigmoid, tn_hd_act, tn_hd_bn_coef, tn_hd_bn_fwd_elem,
 *          tn_hd_bn_finalize, tn_hd_bn_bwd_gz, tn_hd_bn_bwd_coef, tn_hd_bn_bwd_apply,
 *          tn_hd_maxpool_at, tn_hd_up2_fwd_at, tn_hd_up2_bwd_at, tn_hd_u8,
 *          tn_hd_half_from_float, tn_hd_float_from_half, tn_hd_round_f16 */
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

/* ---- activations ---- */

/* SiLU z * sigmoid(z), written as the CPU backend's scalar path does. */
TN_HD float tn_hd_silu(float z)
{
    return z / (1.f + expf(-z));
}

TN_HD float tn_hd_sigmoid(float x)
{
    return 1.f / (1.f + expf(-x));
}

TN_HD float tn_hd_act(float z, int silu)
{
    return silu ? tn_hd_silu(z) : z;
}

/* ---- fused batch norm + activation (CNHW: one channel = one contiguous row) ---- */

/* Per-channel affine coefficients of the normalisation: out = act(y * sc + sh).
 * Training uses the saved batch statistics, eval the running ones. */
TN_HD void tn_hd_bn_coef(int training, float mean, float invstd, float run_mean, float run_var, float gamma,
                         float beta, float eps, float *sc, float *sh)
{
    float mu = training ? mean : run_mean;
    float inv = training ? invstd : 1.f / sqrtf(run_var + eps);
    *sc = gamma * inv;
    *sh = beta - mu * *sc;
}

TN_HD float tn_hd_bn_fwd_elem(float y, float sc, float sh, int silu)
{
    return tn_hd_act(y * sc + sh, silu);
}

/* Batch statistics of one channel from its (possibly all-reduced) sums: sum and sumsq
 * as stored in the float scratch, cnt the element count (scratch[2c]).  Updates the
 * running statistics with the unbiased variance (PyTorch's rule). */
TN_HD void tn_hd_bn_finalize(float sum, float sumsq, float cntf, float eps, float momentum, float *mean_out,
                             float *invstd_out, float *run_mean, float *run_var)
{
    double cnt = cntf;
    double mean = sum / cnt, var = sumsq / cnt - mean * mean;
    if (var < 0) var = 0;
    *mean_out = (float)mean;
    *invstd_out = (float)(1.0 / sqrt(var + eps));
    double unb = cnt > 1 ? var * cnt / (cnt - 1) : var;
    *run_mean = (1.f - momentum) * *run_mean + momentum * (float)mean;
    *run_var = (1.f - momentum) * *run_var + momentum * (float)unb;
}

/* Backward through the activation: gz = gout * act'(y * sc + sh). */
TN_HD float tn_hd_bn_bwd_gz(float y, float gout, float sc, float sh, int silu)
{
    float g = gout;
    if (silu) {
        float z = y * sc + sh, s = 1.f / (1.f + expf(-z));
        g *= s * (1.f + z * (1.f - s));
    }
    return g;
}

/* The per-channel means of the backward sums: db = sum(gz) / cnt and
 * dg = sum(gz (y - mean)) invstd / cnt (both sums as stored in the float scratch). */
TN_HD void tn_hd_bn_bwd_coef(float sum_gz, float sum_gzx_inv, float cntf, float *db, float *dg)
{
    double cnt = cntf;
    *db = (float)(sum_gz / cnt);
    *dg = (float)(sum_gzx_inv / cnt);
}

/* gy = k0 (gz - db - (y - mean) inv dg), k0 = gamma invstd. */
TN_HD float tn_hd_bn_bwd_apply(float y, float gz, float mean, float inv, float k0, float db, float dg)
{
    return k0 * (gz - db - (y - mean) * inv * dg);
}

/* ---- pooling and resampling (one plane of h x w values) ---- */

/* Max over the k x k window (k odd, stride 1, "same" padding: clipped at the borders)
 * centred on (oy, ox); *at gets the index of the FIRST maximum in row-major scan
 * order, which is where the backward pass sends the gradient (as PyTorch does). */
TN_HD float tn_hd_maxpool_at(const float *xp, int h, int w, int k, int oy, int ox, int *at)
{
    const int pd = k / 2;
    int y0 = oy - pd < 0 ? 0 : oy - pd, y1 = oy + pd >= h ? h - 1 : oy + pd;
    int x0 = ox - pd < 0 ? 0 : ox - pd, x1 = ox + pd >= w ? w - 1 : ox + pd;
    int a = y0 * w + x0;
    float mx = xp[a];
    for (int iy = y0; iy <= y1; iy++)
        for (int ix = x0; ix <= x1; ix++)
            if (xp[iy * w + ix] > mx) {
                mx = xp[iy * w + ix];
                a = iy * w + ix;
            }
    *at = a;
    return mx;
}

/* Nearest x2 upsample: output (oy, ox) of a 2h x 2w plane reads input (oy/2, ox/2)
 * of the h x w plane xp (w = input width). */
TN_HD float tn_hd_up2_fwd_at(const float *xp, int w, int oy, int ox)
{
    return xp[(oy >> 1) * w + (ox >> 1)];
}

/* Its gradient at input (iy, ix): the four output gradients of the 2h x 2w plane gp,
 * summed in the CPU backend's order (w = input width). */
TN_HD float tn_hd_up2_bwd_at(const float *gp, int w, int iy, int ix)
{
    const float *r0 = gp + (size_t)(2 * iy) * 2 * w, *r1 = r0 + 2 * w;
    return r0[2 * ix] + r0[2 * ix + 1] + r1[2 * ix] + r1[2 * ix + 1];
}

/* ---- input conversion and binary16 ---- */

TN_HD float tn_hd_u8(uint8_t v)
{
    return v * (1.f / 255.f);
}

/* IEEE binary32 -> binary16, round to nearest even, overflow to infinity, subnormals
 * kept, NaN stays NaN (quiet bit set): the same bits as tn_half_from_float. */
TN_HD uint16_t tn_hd_half_from_float(float f)
{
    union { float f; uint32_t u; } v;
    v.f = f;
    uint32_t x = v.u, sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax < 0x38800000u) {                                  /* below 2^-14: subnormal */
        union { uint32_t u; float f; } a;
        a.u = ax;
        return (uint16_t)(sign | (uint32_t)rintf(a.f * 16777216.f)); /* exact scaling, then RNE */
    }
    uint32_t h = ((((ax >> 23) - 112u) << 10) | ((ax & 0x7fffffu) >> 13));
    uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

TN_HD float tn_hd_float_from_half(uint16_t hv)
{
    uint32_t sign = (uint32_t)(hv & 0x8000u) << 16, e = (hv >> 10) & 0x1fu, mant = hv & 0x3ffu, x;
    if (e == 0) {
        float f = (float)mant * 5.9604644775390625e-8f; /* mant * 2^-24, exact */
        return sign ? -f : f;
    }
    if (e == 31) x = sign | 0x7f800000u | (mant << 13);
    else x = sign | ((e + 112u) << 23) | (mant << 13);
    union { uint32_t u; float f; } v;
    v.u = x;
    return v.f;
}

TN_HD float tn_hd_round_f16(float x)
{
    return tn_hd_float_from_half(tn_hd_half_from_float(x));
}

#endif
