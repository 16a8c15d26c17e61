/* kernels.cu -- the CUDA backend's own kernels: fused batch norm + SiLU forward and
 * backward (batch and running statistics, the SyncBN hook), max-pool, nearest
 * upsample, the element-wise passes, u8 input conversion, binary16 casts, the
 * non-finite count, the fused optimizer / EMA / unscale passes, the sum of squares,
 * and the per-row sums that the convolution's bias gradient also uses.
 *
 * The arithmetic of every element is a TN_HD function of src/tensor/kernels_hd.h,
 * which the CPU test suite runs too (tests/tensor/test_kernels_hd.c); this file only
 * does the indexing and the launches.  All loops are grid-stride over size_t indices
 * (a 640 px batch of 64 has over 2^31 activation values in some layers' gradients),
 * and a launch with nothing to do is skipped (a zero grid is a launch error).
 *
 * Reductions are deterministic: every row (channel) is split into a fixed number of
 * chunks that depends only on the shape and the GPU's SM count; each block reduces
 * its chunk in double with a fixed tree and writes one partial; a second kernel adds
 * a row's partials in order.  No floating-point atomics, so two runs on the same GPU
 * give the same bits.  Sums are accumulated in double and stored as float, as the CPU
 * backend does, so the batch-norm scratch has the same values up to the order of the
 * double additions.
 *
 * defines: tc_k_* (the table's kernel ops, see backend_cuda_internal.h), tc_row_sum,
 *          tc_k_bias_add */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "backend_cuda_internal.h"
#include "tensor/kernels_hd.h"

/* ---- launch helpers ---- */

#define GRID_STRIDE(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)blockDim.x * gridDim.x)

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

/* Sum over the block (blockDim.x == TC_THREADS) with a fixed tree; every thread must
 * call it; the result is valid in thread 0. */
template <class T> __device__ T block_sum(T v, T *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = TC_THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    T r = sh[0];
    __syncthreads(); /* sh is reused by the caller's next call */
    return r;
}

/* Blocks in y for per-row kernels (rows loop with stride gridDim.y beyond that). */
static unsigned rows_grid(int rows)
{
    return (unsigned)(rows < 65535 ? rows : 65535);
}

/* Blocks in x for a per-row kernel over m values, keeping the whole grid moderate. */
static unsigned cols_grid(size_t m, int rows)
{
    unsigned gy = rows_grid(rows), gx = tc_blocks(m);
    unsigned cap = 65536u / gy;
    if (cap < 1) cap = 1;
    return gx < cap ? gx : cap;
}

#define ROW_STRIDE(i, m) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (m); i += (size_t)blockDim.x * gridDim.x)

/* ---- per-row (per-channel) reductions: partials, then an ordered finish ---- */

enum { RR_SUM = 0, RR_STATS = 1, RR_BNBWD = 2 };

typedef struct {
    const float *x;      /* rows x m: the values (BN: the conv output y) */
    const float *go;     /* RR_BNBWD: gradient of the BN output */
    float *gz;           /* RR_BNBWD: gradient through the activation (written) */
    const float *mean, *invstd, *gamma, *beta;
    int silu;
} rr_in;

/* Block (chunk j, row r) reduces x[r][j*len .. (j+1)*len) into part[(r*chunks+j)*2 + 0..1]. */
template <int MODE> __global__ void row_partial(int rows, size_t m, size_t len, rr_in a, double *part)
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
            float v = a.x[off + i];
            if (MODE == RR_SUM) {
                s0 += v;
            } else if (MODE == RR_STATS) {
                s0 += v;
                s1 += (double)v * v;
            } else {
                float g = tn_hd_bn_bwd_gz(v, a.go[off + i], sc, sh_, a.silu);
                a.gz[off + i] = g;
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
template <int MODE> static int row_reduce(int rows, size_t m, const rr_in &a, const rr_out &o)
{
    const int chunks = rr_chunks(rows, m);
    const size_t len = (m + (size_t)chunks - 1) / (size_t)chunks;
    double *part = (double *)tc_scratch((size_t)rows * chunks * 2 * sizeof(double));
    if (!part) return 0;
    dim3 g1((unsigned)chunks, rows_grid(rows));
    row_partial<MODE><<<g1, TC_THREADS, 0, tc.stream>>>(rows, m, len, a, part);
    if (!TC_LAUNCH("row_partial")) return 0;
    row_finish<MODE><<<tc_blocks((size_t)rows), TC_THREADS, 0, tc.stream>>>(rows, m, chunks, part, o);
    return TC_LAUNCH("row_finish");
}

void tc_row_sum(int rows, size_t m, const float *x, float *out, int accumulate)
{
    if (rows <= 0) return;
    rr_in a = {};
    a.x = x;
    rr_out o = {};
    o.out = out;
    o.accumulate = accumulate;
    row_reduce<RR_SUM>(rows, m, a, o);
}

static __global__ void bias_add_kernel(int rows, size_t m, const float *bias, float *y)
{
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
        const float b = bias[r];
        float *row = y + (size_t)r * m;
        ROW_STRIDE(i, m) row[i] += b;
    }
}

void tc_k_bias_add(int rows, size_t m, const float *bias, float *y)
{
    if (rows <= 0 || m == 0) return;
    dim3 g(cols_grid(m, rows), rows_grid(rows));
    bias_add_kernel<<<g, TC_THREADS, 0, tc.stream>>>(rows, m, bias, y);
    TC_LAUNCH("bias_add_kernel");
}

/* ---- fused batch norm + SiLU ---- */

static __global__ void bn_finalize_kernel(int c, const float *scratch, float eps, float momentum, float *mean,
                                   float *invstd, float *run_mean, float *run_var)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)c; i += (size_t)blockDim.x * gridDim.x)
        tn_hd_bn_finalize(scratch[i], scratch[c + i], scratch[2 * c], eps, momentum, &mean[i], &invstd[i],
                          &run_mean[i], &run_var[i]);
}

static __global__ void bn_norm_kernel(int c, size_t m, int training, int silu, float eps, const float *mean,
                               const float *invstd, const float *run_mean, const float *run_var,
                               const float *gamma, const float *beta, const float *y, float *out)
{
    for (int r = blockIdx.y; r < c; r += gridDim.y) {
        float sc, sh;
        tn_hd_bn_coef(training, training ? mean[r] : 0.f, training ? invstd[r] : 0.f, run_mean[r], run_var[r],
                      gamma[r], beta[r], eps, &sc, &sh);
        const float *yr = y + (size_t)r * m;
        float *orow = out + (size_t)r * m;
        ROW_STRIDE(i, m) orow[i] = tn_hd_bn_fwd_elem(yr[i], sc, sh, silu);
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

void tc_k_bn_act_fwd(tn_bn_args *a, const float *y, float *out)
{
    if (a->c <= 0) return;
    if (a->training) {
        rr_in in = {};
        in.x = y;
        rr_out o = {};
        o.scratch = a->scratch;
        if (!row_reduce<RR_STATS>(a->c, a->m, in, o)) return;
        if (!bn_call_reduce(a)) return;
        bn_finalize_kernel<<<tc_blocks((size_t)a->c), TC_THREADS, 0, tc.stream>>>(
            a->c, a->scratch, a->eps, a->momentum, a->mean, a->invstd, a->run_mean, a->run_var);
        if (!TC_LAUNCH("bn_finalize_kernel")) return;
    }
    if (a->m == 0) return;
    dim3 g(cols_grid(a->m, a->c), rows_grid(a->c));
    bn_norm_kernel<<<g, TC_THREADS, 0, tc.stream>>>(a->c, a->m, a->training, a->act, a->eps, a->mean, a->invstd,
                                                     a->run_mean, a->run_var, a->gamma, a->beta, y, out);
    TC_LAUNCH("bn_norm_kernel");
}

static __global__ void bn_apply_kernel(int c, size_t m, const float *scratch, const float *mean, const float *invstd,
                                const float *gamma, const float *y, float *gy)
{
    for (int r = blockIdx.y; r < c; r += gridDim.y) {
        float db, dg, mu = mean[r], inv = invstd[r], k0 = gamma[r] * inv;
        tn_hd_bn_bwd_coef(scratch[r], scratch[c + r], scratch[2 * c], &db, &dg);
        const float *yr = y + (size_t)r * m;
        float *gr = gy + (size_t)r * m;
        ROW_STRIDE(i, m) gr[i] = tn_hd_bn_bwd_apply(yr[i], gr[i], mu, inv, k0, db, dg);
    }
}

void tc_k_bn_act_bwd(tn_bn_args *a, const float *y, const float *gout, float *gy, float *ggamma, float *gbeta,
                     int accumulate)
{
    if (a->c <= 0) return;
    rr_in in = {};
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
    if (!row_reduce<RR_BNBWD>(a->c, a->m, in, o)) return;
    if (!bn_call_reduce(a)) return;
    if (a->m == 0) return;
    dim3 g(cols_grid(a->m, a->c), rows_grid(a->c));
    bn_apply_kernel<<<g, TC_THREADS, 0, tc.stream>>>(a->c, a->m, a->scratch, a->mean, a->invstd, a->gamma, y, gy);
    TC_LAUNCH("bn_apply_kernel");
}

/* ---- max-pool (odd k, stride 1, same padding) ---- */

/* grid: x over the plane's h*w outputs, y over planes (c * n). */
static __global__ void maxpool_fwd_kernel(size_t planes, int h, int w, int k, const float *x, float *y, int *argmax)
{
    const size_t hw = (size_t)h * w;
    for (size_t pl = blockIdx.y; pl < planes; pl += gridDim.y) {
        const float *xp = x + pl * hw;
        ROW_STRIDE(i, hw) {
            int at, oy = (int)(i / (size_t)w), ox = (int)(i % (size_t)w);
            float v = tn_hd_maxpool_at(xp, h, w, k, oy, ox, &at);
            if (y) y[pl * hw + i] = v;
            if (argmax) argmax[pl * hw + i] = at;
        }
    }
}

/* Gather form of "gx[argmax(o)] += gy[o]": each input adds the gradients of the
 * outputs whose first maximum it is, in the outputs' scan order -- the CPU's order,
 * so the result is bit-identical and needs no atomics. */
static __global__ void maxpool_bwd_kernel(size_t planes, int h, int w, int k, const int *argmax, const float *gy,
                                   float *gx)
{
    const size_t hw = (size_t)h * w;
    const int pd = k / 2;
    for (size_t pl = blockIdx.y; pl < planes; pl += gridDim.y) {
        const int *am = argmax + pl * hw;
        const float *gp = gy + pl * hw;
        ROW_STRIDE(i, hw) {
            const int iy = (int)(i / (size_t)w), ix = (int)(i % (size_t)w), self = (int)i;
            int y0 = iy - pd < 0 ? 0 : iy - pd, y1 = iy + pd >= h ? h - 1 : iy + pd;
            int x0 = ix - pd < 0 ? 0 : ix - pd, x1 = ix + pd >= w ? w - 1 : ix + pd;
            float acc = gx[pl * hw + i];
            for (int oy = y0; oy <= y1; oy++)
                for (int ox = x0; ox <= x1; ox++)
                    if (am[oy * w + ox] == self) acc += gp[oy * w + ox];
            gx[pl * hw + i] = acc;
        }
    }
}

static dim3 plane_grid(size_t planes, size_t per_plane)
{
    unsigned gy = (unsigned)(planes < 65535 ? planes : 65535);
    unsigned gx = tc_blocks(per_plane), cap = 65536u / gy;
    if (cap < 1) cap = 1;
    return dim3(gx < cap ? gx : cap, gy);
}

void tc_k_maxpool_fwd(int c, int n, int h, int w, int k, const float *x, float *y)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    maxpool_fwd_kernel<<<plane_grid(planes, hw), TC_THREADS, 0, tc.stream>>>(planes, h, w, k, x, y, NULL);
    TC_LAUNCH("maxpool_fwd_kernel");
}

void tc_k_maxpool_bwd(int c, int n, int h, int w, int k, const float *x, const float *gy, float *gx)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    int *am = (int *)tc_scratch(planes * hw * sizeof(int));
    if (!am) return;
    dim3 g = plane_grid(planes, hw);
    maxpool_fwd_kernel<<<g, TC_THREADS, 0, tc.stream>>>(planes, h, w, k, x, NULL, am);
    if (!TC_LAUNCH("maxpool_fwd_kernel (argmax)")) return;
    maxpool_bwd_kernel<<<g, TC_THREADS, 0, tc.stream>>>(planes, h, w, k, am, gy, gx);
    TC_LAUNCH("maxpool_bwd_kernel");
}

/* ---- nearest upsample x2 (h, w: the input plane) ---- */

static __global__ void up2_fwd_kernel(size_t planes, int h, int w, const float *x, float *y)
{
    const size_t hw = (size_t)h * w, ohw = 4 * hw;
    for (size_t pl = blockIdx.y; pl < planes; pl += gridDim.y)
        ROW_STRIDE(i, ohw) {
            int oy = (int)(i / (size_t)(2 * w)), ox = (int)(i % (size_t)(2 * w));
            y[pl * ohw + i] = tn_hd_up2_fwd_at(x + pl * hw, w, oy, ox);
        }
}

static __global__ void up2_bwd_kernel(size_t planes, int h, int w, const float *gy, float *gx)
{
    const size_t hw = (size_t)h * w;
    for (size_t pl = blockIdx.y; pl < planes; pl += gridDim.y)
        ROW_STRIDE(i, hw) {
            int iy = (int)(i / (size_t)w), ix = (int)(i % (size_t)w);
            gx[pl * hw + i] += tn_hd_up2_bwd_at(gy + pl * 4 * hw, w, iy, ix);
        }
}

void tc_k_upsample2_fwd(int c, int n, int h, int w, const float *x, float *y)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    up2_fwd_kernel<<<plane_grid(planes, 4 * hw), TC_THREADS, 0, tc.stream>>>(planes, h, w, x, y);
    TC_LAUNCH("up2_fwd_kernel");
}

void tc_k_upsample2_bwd(int c, int n, int h, int w, const float *gy, float *gx)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    up2_bwd_kernel<<<plane_grid(planes, hw), TC_THREADS, 0, tc.stream>>>(planes, h, w, gy, gx);
    TC_LAUNCH("up2_bwd_kernel");
}

/* ---- u8 NCHW -> f32 CNHW ---- */

/* Output plane q = ci * n + b (CNHW) reads input plane b * c + ci (NCHW). */
static __global__ void u8_kernel(int n, int c, size_t hw, const uint8_t *x, float *y)
{
    const size_t planes = (size_t)n * c;
    for (size_t q = blockIdx.y; q < planes; q += gridDim.y) {
        const size_t ci = q / (size_t)n, b = q % (size_t)n;
        const uint8_t *src = x + (b * (size_t)c + ci) * hw;
        float *dst = y + q * hw;
        ROW_STRIDE(i, hw) dst[i] = tn_hd_u8(src[i]);
    }
}

void tc_k_u8_to_f32(int n, int c, int h, int w, const uint8_t *x, float *y)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w;
    if (planes == 0 || hw == 0) return;
    u8_kernel<<<plane_grid(planes, hw), TC_THREADS, 0, tc.stream>>>(n, c, hw, x, y);
    TC_LAUNCH("u8_kernel");
}

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
