/* kernels_act.cu -- the CUDA backend's activation kernels, each one template over the
 * activation storage T (float, or __half for AMP's half storage): per-row reductions
 * (batch-norm statistics, the BN backward sums, the convolution's bias gradient),
 * bias add, fused batch norm + SiLU forward and backward, max-pool, nearest
 * upsample, u8 input conversion, and the act_* element-wise ops.  Arithmetic is f32
 * (sums in double) whatever T is: values are widened on load and rounded on store
 * (ldv/stv), as PyTorch's autocast does for these ops.  BN statistics, running
 * buffers, parameters and their gradients are always f32.
 *
 * The element arithmetic is kernels_hd.h's, which the CPU tests run too.  Reductions
 * are deterministic: every row (channel) is split into a fixed number of chunks that
 * depends only on the shape and the GPU's SM count; each block reduces its chunk in
 * double with a fixed tree and writes one partial; a second kernel adds a row's
 * partials in order.  No floating-point atomics, so two runs on the same GPU give the
 * same bits; sums are stored as float, as the CPU backend does.
 *
 * defines: tc_row_sum, tc_h_row_sum, tc_k_bias_add, tc_h_bias_add, tc_k_bn_act_*,
 *          tc_h_bn_act_*, tc_k_maxpool_*, tc_h_maxpool_*, tc_k_upsample2_*,
 *          tc_h_upsample2_*, tc_k_u8_to_f32, tc_h_u8_to_f32, tc_h_act_*,
 *          tc_h_weights_to_half, tc_h_add_to_f32 */
#include <math.h>
#include <stdint.h>

#include "kernels_common.cuh"
#include "tensor/kernels_hd.h"

/* ---- per-row (per-channel) reductions: partials, then an ordered finish ---- */

enum { RR_SUM = 0, RR_STATS = 1, RR_BNBWD = 2 };

template <class T> struct rr_in {
    const T *x;          /* rows x m: the values (BN: the conv output y) */
    const T *go;         /* RR_BNBWD: gradient of the BN output */
    T *gz;               /* RR_BNBWD: gradient through the activation (written) */
    const float *mean, *invstd, *gamma, *beta;
    int silu;
};

/* Block (chunk j, row r) reduces x[r][j*len .. (j+1)*len) into part[(r*chunks+j)*2 + 0..1]. */
template <int MODE, class T> __global__ void row_partial(int rows, size_t m, size_t len, rr_in<T> a, double *part)
{
    __shared__ double sh[TC_THREADS];
    const int chunks = gridDim.x;
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
        const size_t off = (size_t)r * m, lo = (size_t)blockIdx.x * len;
        const size_t hi = lo + len < m ? lo + len : m;
        double s0 = 0, s1 = 0;
        float sc = 0.f, sh_ = 0.f, mu = 0.f;
        if (MODE == RR_BNBWD) {
            mu = a.mean[r];
            tn_hd_bn_coef(1, mu, a.invstd[r], 0.f, 0.f, a.gamma[r], a.beta[r], 0.f, &sc, &sh_);
        }
        for (size_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
            float v = ldv(a.x, off + i);
            if (MODE == RR_SUM) {
                s0 += v;
            } else if (MODE == RR_STATS) {
                s0 += v;
                s1 += (double)v * v;
            } else {
                float g = tn_hd_bn_bwd_gz(v, ldv(a.go, off + i), sc, sh_, a.silu);
                stv(a.gz, off + i, g);
                s0 += g;
                s1 += (double)g * (v - mu);
            }
        }
        s0 = block_sum(s0, sh);
        if (MODE != RR_SUM) s1 = block_sum(s1, sh);
        if (threadIdx.x == 0) {
            part[((size_t)r * chunks + blockIdx.x) * 2] = s0;
            part[((size_t)r * chunks + blockIdx.x) * 2 + 1] = s1;
        }
    }
}

typedef struct {
    float *out;       /* RR_SUM: per-row result */
    float *scratch;   /* RR_STATS / RR_BNBWD: the tn_bn_args scratch [2 rows + 1] */
    const float *invstd;
    float *ggamma, *gbeta;
    int accumulate;
} rr_out;

/* One thread per row adds its partials in chunk order (deterministic). */
template <int MODE> __global__ void row_finish(int rows, size_t m, int chunks, const double *part, rr_out o)
{
    for (size_t r = (size_t)blockIdx.x * blockDim.x + threadIdx.x; r < (size_t)rows;
         r += (size_t)blockDim.x * gridDim.x) {
        double s0 = 0, s1 = 0;
        for (int j = 0; j < chunks; j++) {
            s0 += part[(r * chunks + j) * 2];
            s1 += part[(r * chunks + j) * 2 + 1];
        }
        if (MODE == RR_SUM) {
            o.out[r] = (float)s0 + (o.accumulate ? o.out[r] : 0.f);
        } else if (MODE == RR_STATS) {
            o.scratch[r] = (float)s0;
            o.scratch[rows + r] = (float)s1;
        } else {
            float sb = (float)s0, sg = (float)(s1 * o.invstd[r]);
            o.scratch[r] = sb;
            o.scratch[rows + r] = sg;
            o.gbeta[r] = sb + (o.accumulate ? o.gbeta[r] : 0.f);
            o.ggamma[r] = sg + (o.accumulate ? o.ggamma[r] : 0.f);
        }
        if (MODE != RR_SUM && r == 0) o.scratch[2 * rows] = (float)m; /* the count, last */
    }
}

/* Chunks per row: enough blocks to fill the GPU, at least ~4 values per thread. */
static int rr_chunks(int rows, size_t m)
{
    size_t target = (size_t)(tc.sms > 0 ? tc.sms : 80) * 8;
    size_t c = (target + (size_t)rows - 1) / (size_t)rows;
    size_t maxc = (m + 4 * TC_THREADS - 1) / (4 * TC_THREADS);
    if (c > maxc) c = maxc;
    if (c > 4096) c = 4096;
    return c < 1 ? 1 : (int)c;
}

/* Runs both passes; returns 0 after recording a failure. */
template <int MODE, class T> static int row_reduce(int rows, size_t m, const rr_in<T> &a, const rr_out &o)
{
    const int chunks = rr_chunks(rows, m);
    const size_t len = (m + (size_t)chunks - 1) / (size_t)chunks;
    double *part = (double *)tc_scratch((size_t)rows * chunks * 2 * sizeof(double));
    if (!part) return 0;
    dim3 g1((unsigned)chunks, rows_grid(rows));
    row_partial<MODE, T><<<g1, TC_THREADS, 0, tc.stream>>>(rows, m, len, a, part);
    if (!TC_LAUNCH("row_partial")) return 0;
    row_finish<MODE><<<tc_blocks((size_t)rows), TC_THREADS, 0, tc.stream>>>(rows, m, chunks, part, o);
    return TC_LAUNCH("row_finish");
}

template <class T> static void row_sum(int rows, size_t m, const T *x, float *out, int accumulate)
{
    if (rows <= 0) return;
    rr_in<T> a = {};
    a.x = x;
    rr_out o = {};
    o.out = out;
    o.accumulate = accumulate;
    row_reduce<RR_SUM, T>(rows, m, a, o);
}

void tc_row_sum(int rows, size_t m, const float *x, float *out, int accumulate) { row_sum(rows, m, x, out, accumulate); }
void tc_h_row_sum(int rows, size_t m, const void *x, float *out, int accumulate)
{
    row_sum(rows, m, (const __half *)x, out, accumulate);
}

template <class T> __global__ void bias_add_kernel(int rows, size_t m, const float *bias, T *y)
{
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
        const float b = bias[r];
        T *row = y + (size_t)r * m;
        ROW_STRIDE(i, m) stv(row, i, ldv(row, i) + b);
    }
}

template <class T> static void bias_add(int rows, size_t m, const float *bias, T *y)
{
    if (rows <= 0 || m == 0) return;
    dim3 g(cols_grid(m, rows), rows_grid(rows));
    bias_add_kernel<T><<<g, TC_THREADS, 0, tc.stream>>>(rows, m, bias, y);
    TC_LAUNCH("bias_add_kernel");
}

void tc_k_bias_add(int rows, size_t m, const float *bias, float *y) { bias_add(rows, m, bias, y); }
void tc_h_bias_add(int rows, size_t m, const float *bias, void *y) { bias_add(rows, m, bias, (__half *)y); }

/* ---- fused batch norm + SiLU ---- */

static __global__ void bn_finalize_kernel(int c, const float *scratch, float eps, float momentum, float *mean,
                                          float *invstd, float *run_mean, float *run_var)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)c; i += (size_t)blockDim.x * gridDim.x)
        tn_hd_bn_finalize(scratch[i], scratch[c + i], scratch[2 * c], eps, momentum, &mean[i], &invstd[i],
                          &run_mean[i], &run_var[i]);
}

template <class T>
__global__ void bn_norm_kernel(int c, size_t m, int training, int silu, float eps, const float *mean,
                               const float *invstd, const float *run_mean, const float *run_var, const float *gamma,
                               const float *beta, const T *y, T *out)
{
    for (int r = blockIdx.y; r < c; r += gridDim.y) {
        float sc, sh;
        tn_hd_bn_coef(training, training ? mean[r] : 0.f, training ? invstd[r] : 0.f, run_mean[r], run_var[r],
                      gamma[r], beta[r], eps, &sc, &sh);
        const T *yr = y + (size_t)r * m;
        T *orow = out + (size_t)r * m;
        ROW_STRIDE(i, m) stv(orow, i, tn_hd_bn_fwd_elem(ldv(yr, i), sc, sh, silu));
    }
}

/* The SyncBN hook runs on the host with the device scratch: everything queued so far
 * must be finished before it reads the buffer, and it must return with the reduced
 * sums in place (a transport on another stream synchronises before returning). */
static int bn_call_reduce(tn_bn_args *a)
{
    if (!a->reduce) return 1;
    if (!TC_CUDA(cudaStreamSynchronize(tc.stream))) return 0;
    a->reduce(a->scratch, 2 * a->c + 1, a->reduce_user);
    return 1;
}

template <class T> static void bn_fwd(tn_bn_args *a, const T *y, T *out)
{
    if (a->c <= 0) return;
    if (a->training) {
        rr_in<T> in = {};
        in.x = y;
        rr_out o = {};
        o.scratch = a->scratch;
        if (!row_reduce<RR_STATS, T>(a->c, a->m, in, o)) return;
        if (!bn_call_reduce(a)) return;
        bn_finalize_kernel<<<tc_blocks((size_t)a->c), TC_THREADS, 0, tc.stream>>>(
            a->c, a->scratch, a->eps, a->momentum, a->mean, a->invstd, a->run_mean, a->run_var);
        if (!TC_LAUNCH("bn_finalize_kernel")) return;
    }
    if (a->m == 0) return;
    dim3 g(cols_grid(a->m, a->c), rows_grid(a->c));
    bn_norm_kernel<T><<<g, TC_THREADS, 0, tc.stream>>>(a->c, a->m, a->training, a->act, a->eps, a->mean, a->invstd,
                                                        a->run_mean, a->run_var, a->gamma, a->beta, y, out);
    TC_LAUNCH("bn_norm_kernel");
}

template <class T>
__global__ void bn_apply_kernel(int c, size_t m, const float *scratch, const float *mean, const float *invstd,
                                const float *gamma, const T *y, T *gy)
{
    for (int r = blockIdx.y; r < c; r += gridDim.y) {
        float db, dg, mu = mean[r], inv = invstd[r], k0 = gamma[r] * inv;
        tn_hd_bn_bwd_coef(scratch[r], scratch[c + r], scratch[2 * c], &db, &dg);
        const T *yr = y + (size_t)r * m;
        T *gr = gy + (size_t)r * m;
        ROW_STRIDE(i, m) stv(gr, i, tn_hd_bn_bwd_apply(ldv(yr, i), ldv(gr, i), mu, inv, k0, db, dg));
    }
}

template <class T>
static void bn_bwd(tn_bn_args *a, const T *y, const T *gout, T *gy, float *ggamma, float *gbeta, int accumulate)
{
    if (a->c <= 0) return;
    rr_in<T> in = {};
    in.x = y;
    in.go = gout;
    in.gz = gy;
    in.mean = a->mean;
    in.invstd = a->invstd;
    in.gamma = a->gamma;
    in.beta = a->beta;
    in.silu = a->act;
    rr_out o = {};
    o.scratch = a->scratch;
    o.invstd = a->invstd;
    o.ggamma = ggamma;
    o.gbeta = gbeta;
    o.accumulate = accumulate;
    /* parameter gradients are local (DDP averages them); the input gradient uses the
     * global sums when the statistics were global (SyncBN) -- as the CPU backend */
    if (!row_reduce<RR_BNBWD, T>(a->c, a->m, in, o)) return;
    if (!bn_call_reduce(a)) return;
    if (a->m == 0) return;
    dim3 g(cols_grid(a->m, a->c), rows_grid(a->c));
    bn_apply_kernel<T><<<g, TC_THREADS, 0, tc.stream>>>(a->c, a->m, a->scratch, a->mean, a->invstd, a->gamma, y, gy);
    TC_LAUNCH("bn_apply_kernel");
}

void tc_k_bn_act_fwd(tn_bn_args *a, const float *y, float *out) { bn_fwd(a, y, out); }
void tc_k_bn_act_bwd(tn_bn_args *a, const float *y, const float *gout, float *gy, float *ggamma, float *gbeta,
                     int accumulate)
{
    bn_bwd(a, y, gout, gy, ggamma, gbeta, accumulate);
}
void tc_h_bn_act_fwd(tn_bn_args *a, const float *y, float *out) { bn_fwd(a, (const __half *)y, (__half *)out); }
void tc_h_bn_act_bwd(tn_bn_args *a, const float *y, const float *gout, float *gy, float *ggamma, float *gbeta,
                     int accumulate)
{
    bn_bwd(a, (const __half *)y, (const __half *)gout, (__half *)gy, ggamma, gbeta, accumulate);
}

/* ---- max-pool (odd k, stride 1, same padding) ---- */

/* tn_hd_maxpool_at over storage T: the first maximum in scan order. */
template <class T> __device__ float maxpool_at(const T *xp, int h, int w, int k, int oy, int ox, int *at)
{
    const int pd = k / 2;
    int y0 = oy - pd < 0 ? 0 : oy - pd, y1 = oy + pd >= h ? h - 1 : oy + pd;
    int x0 = ox - pd < 0 ? 0 : ox - pd, x1 = ox + pd >= w ? w - 1 : ox + pd;
    int a = y0 * w + x0;
    float mx = ldv(xp, (size_t)a);
    for (int iy = y0; iy <= y1; iy++)
        for (int ix = x0; ix <= x1; ix++) {
            float v = ldv(xp, (size_t)(iy * w + ix));
            if (v > mx) {
                mx = v;
                a = iy * w + ix;
            }
        }
    *at = a;
    return mx;
}

/* grid: x over the plane's h*w outputs, y over planes (c * n). */
template <class T> __global__ void maxpool_fwd_kernel(size_t planes, int h, int w, int k, const T *x, T *y, int *argmax)
{
    const size_t hw = (size_t)h * w;
    for (size_t pl = blockIdx.y; pl < planes; pl += gridDim.y) {
        const T *xp = x + pl * hw;
        ROW_STRIDE(i, hw) {
            int at, oy = (int)(i / (size_t)w), ox = (int)(i % (size_t)w);
            float v = maxpool_at(xp, h, w, k, oy, ox, &at);
            if (y) stv(y, pl * hw + i, v);
            if (argmax) argmax[pl * hw + i] = at;
        }
    }
}

/* Gather form of "gx[argmax(o)] += gy[o]": each input adds the gradients of the
 * outputs whose first maximum it is, in the outputs' scan order -- the CPU's order,
 * so the result is bit-identical and needs no atomics. */
template <class T> __global__ void maxpool_bwd_kernel(size_t planes, int h, int w, int k, const int *argmax, const T *gy, T *gx)
{
    const size_t hw = (size_t)h * w;
    const int pd = k / 2;
    for (size_t pl = blockIdx.y; pl < planes; pl += gridDim.y) {
        const int *am = argmax + pl * hw;
        const T *gp = gy + pl * hw;
        ROW_STRIDE(i, hw) {
            const int iy = (int)(i / (size_t)w), ix = (int)(i % (size_t)w), self = (int)i;
            int y0 = iy - pd < 0 ? 0 : iy - pd, y1 = iy + pd >= h ? h - 1 : iy + pd;
            int x0 = ix - pd < 0 ? 0 : ix - pd, x1 = ix + pd >= w ? w - 1 : ix + pd;
            float acc = ldv(gx, pl * hw + i);
            for (int oy = y0; oy <= y1; oy++)
                for (int ox = x0; ox <= x1; ox++)
                    if (am[oy * w + ox] == self) acc += ldv(gp, (size_t)(oy * w + ox));
            stv(gx, pl * hw + i, acc);
        }
    }
}

template <class T> static void maxpool_fwd(int c, int n, int h, int w, int k, const T *x, T *y)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    maxpool_fwd_kernel<T><<<plane_grid(planes, hw), TC_THREADS, 0, tc.stream>>>(planes, h, w, k, x, y, NULL);
    TC_LAUNCH("maxpool_fwd_kernel");
}

template <class T> static void maxpool_bwd(int c, int n, int h, int w, int k, const T *x, const T *gy, T *gx)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    int *am = (int *)tc_scratch(planes * hw * sizeof(int));
    if (!am) return;
    dim3 g = plane_grid(planes, hw);
    maxpool_fwd_kernel<T><<<g, TC_THREADS, 0, tc.stream>>>(planes, h, w, k, x, (T *)NULL, am);
    if (!TC_LAUNCH("maxpool_fwd_kernel (argmax)")) return;
    maxpool_bwd_kernel<T><<<g, TC_THREADS, 0, tc.stream>>>(planes, h, w, k, am, gy, gx);
    TC_LAUNCH("maxpool_bwd_kernel");
}

void tc_k_maxpool_fwd(int c, int n, int h, int w, int k, const float *x, float *y) { maxpool_fwd(c, n, h, w, k, x, y); }
void tc_k_maxpool_bwd(int c, int n, int h, int w, int k, const float *x, const float *gy, float *gx)
{
    maxpool_bwd(c, n, h, w, k, x, gy, gx);
}
void tc_h_maxpool_fwd(int c, int n, int h, int w, int k, const float *x, float *y)
{
    maxpool_fwd(c, n, h, w, k, (const __half *)x, (__half *)y);
}
void tc_h_maxpool_bwd(int c, int n, int h, int w, int k, const float *x, const float *gy, float *gx)
{
    maxpool_bwd(c, n, h, w, k, (const __half *)x, (const __half *)gy, (__half *)gx);
}

/* ---- nearest upsample x2 (h, w: the input plane) ---- */

template <class T> __global__ void up2_fwd_kernel(size_t planes, int h, int w, const T *x, T *y)
{
    const size_t hw = (size_t)h * w, ohw = 4 * hw;
    for (size_t pl = blockIdx.y; pl < planes; pl += gridDim.y)
        ROW_STRIDE(i, ohw) {
            int oy = (int)(i / (size_t)(2 * w)), ox = (int)(i % (size_t)(2 * w));
            y[pl * ohw + i] = x[pl * hw + (size_t)((oy >> 1) * w + (ox >> 1))]; /* a copy: exact in any width */
        }
}

/* The four output gradients summed in the CPU backend's order (tn_hd_up2_bwd_at). */
template <class T> __global__ void up2_bwd_kernel(size_t planes, int h, int w, const T *gy, T *gx)
{
    const size_t hw = (size_t)h * w;
    for (size_t pl = blockIdx.y; pl < planes; pl += gridDim.y)
        ROW_STRIDE(i, hw) {
            int iy = (int)(i / (size_t)w), ix = (int)(i % (size_t)w);
            const T *r0 = gy + pl * 4 * hw + (size_t)(2 * iy) * 2 * w, *r1 = r0 + 2 * w;
            float s = ldv(r0, 2 * ix) + ldv(r0, 2 * ix + 1) + ldv(r1, 2 * ix) + ldv(r1, 2 * ix + 1);
            stv(gx, pl * hw + i, ldv(gx, pl * hw + i) + s);
        }
}

template <class T> static void up2_fwd(int c, int n, int h, int w, const T *x, T *y)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    up2_fwd_kernel<T><<<plane_grid(planes, 4 * hw), TC_THREADS, 0, tc.stream>>>(planes, h, w, x, y);
    TC_LAUNCH("up2_fwd_kernel");
}

template <class T> static void up2_bwd(int c, int n, int h, int w, const T *gy, T *gx)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    up2_bwd_kernel<T><<<plane_grid(planes, hw), TC_THREADS, 0, tc.stream>>>(planes, h, w, gy, gx);
    TC_LAUNCH("up2_bwd_kernel");
}

void tc_k_upsample2_fwd(int c, int n, int h, int w, const float *x, float *y) { up2_fwd(c, n, h, w, x, y); }
void tc_k_upsample2_bwd(int c, int n, int h, int w, const float *gy, float *gx) { up2_bwd(c, n, h, w, gy, gx); }
void tc_h_upsample2_fwd(int c, int n, int h, int w, const float *x, float *y)
{
    up2_fwd(c, n, h, w, (const __half *)x, (__half *)y);
}
void tc_h_upsample2_bwd(int c, int n, int h, int w, const float *gy, float *gx)
{
    up2_bwd(c, n, h, w, (const __half *)gy, (__half *)gx);
}

/* ---- u8 NCHW -> activation CNHW, normalised on the device ---- */

/* Output plane q = ci * n + b (CNHW) reads input plane b * c + ci (NCHW). */
template <class T> __global__ void u8_kernel(int n, int c, size_t hw, const uint8_t *x, T *y)
{
    const size_t planes = (size_t)n * c;
    for (size_t q = blockIdx.y; q < planes; q += gridDim.y) {
        const size_t ci = q / (size_t)n, b = q % (size_t)n;
        const uint8_t *src = x + (b * (size_t)c + ci) * hw;
        T *dst = y + q * hw;
        ROW_STRIDE(i, hw) stv(dst, i, tn_hd_u8(src[i]));
    }
}

template <class T> static void u8_to(int n, int c, int h, int w, const uint8_t *x, T *y)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    u8_kernel<T><<<plane_grid(planes, hw), TC_THREADS, 0, tc.stream>>>(n, c, hw, x, y);
    TC_LAUNCH("u8_kernel");
}

void tc_k_u8_to_f32(int n, int c, int h, int w, const uint8_t *x, float *y) { u8_to(n, c, h, w, x, y); }
void tc_h_u8_to_f32(int n, int c, int h, int w, const uint8_t *x, float *y) { u8_to(n, c, h, w, x, (__half *)y); }

/* ---- element-wise ops on half storage and the f32 <-> half boundaries ---- */

static __global__ void h_add_kernel(size_t n, const __half *a, const __half *b, __half *y)
{
    GRID_STRIDE(i, n) stv(y, i, ldv(a, i) + ldv(b, i));
}
static __global__ void h_acc_kernel(size_t n, const __half *x, __half *y)
{
    GRID_STRIDE(i, n) stv(y, i, ldv(y, i) + ldv(x, i));
}
static __global__ void h_from_f32_kernel(size_t n, float alpha, const float *x, __half *y)
{
    GRID_STRIDE(i, n) stv(y, i, alpha * x[i]);
}
static __global__ void h_to_f32_kernel(size_t n, const __half *x, float *y, int accumulate)
{
    GRID_STRIDE(i, n) y[i] = ldv(x, i) + (accumulate ? y[i] : 0.f);
}

#define H_LAUNCH(kernel, n, ...)                                                        \
    do {                                                                                \
        if ((n) == 0) break;                                                            \
        kernel<<<tc_blocks(n), TC_THREADS, 0, tc.stream>>>((n), __VA_ARGS__);           \
        TC_LAUNCH(#kernel);                                                             \
    } while (0)

void tc_h_act_add(size_t n, const void *a, const void *b, void *y)
{
    H_LAUNCH(h_add_kernel, n, (const __half *)a, (const __half *)b, (__half *)y);
}
void tc_h_act_acc(size_t n, const void *x, void *y) { H_LAUNCH(h_acc_kernel, n, (const __half *)x, (__half *)y); }
void tc_h_act_from_f32(size_t n, float alpha, const float *x, void *y)
{
    H_LAUNCH(h_from_f32_kernel, n, alpha, x, (__half *)y);
}
void tc_h_act_to_f32(size_t n, const void *x, float *y) { H_LAUNCH(h_to_f32_kernel, n, (const __half *)x, y, 0); }
/* The f32 master weights as the half copy a half convolution reads (autocast's cast). */
void tc_h_weights_to_half(size_t n, const float *w, void *hw) { H_LAUNCH(h_from_f32_kernel, n, 1.f, w, (__half *)hw); }
/* A half weight gradient into the f32 gradient buffer (written or accumulated). */
void tc_h_add_to_f32(size_t n, const void *x, float *y, int accumulate)
{
    H_LAUNCH(h_to_f32_kernel, n, (const __half *)x, y, accumulate);
}
