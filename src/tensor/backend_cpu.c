/* backend_cpu.c -- the CPU implementation of the backend interface: convolutions as
 * im2col + OpenBLAS SGEMM over CNHW batches (1x1 stride-1 convolutions are a single
 * GEMM on the activation itself), fused batch norm + SiLU, pooling, upsampling, casts
 * and the flat-range helpers.  OpenBLAS does the threading of the GEMMs; the
 * element-wise passes are memory bound and stay single-threaded.  Its memory is host
 * memory (backend_cpu_mem.c: alloc, copies, events that are always complete).
 *
 * defines: tn_backend_cpu, tn_cpu_blas_fix_coretype, tn_cpu_blas_corename */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tensor/backend.h"
#include "tensor/cpu_kernels.h"
#include "tensor/kernels_hd.h"

static int conv_is_pointwise(const tn_conv_shape *s)
{
    return s->k == 1 && s->stride == 1 && s->pad == 0;
}

/* Rows of the im2col matrix (all groups). */
static size_t conv_krows(const tn_conv_shape *s)
{
    return (size_t)s->cin * s->k * s->k;
}

/* Images per im2col chunk so that the column buffer stays within ws floats. */
static int conv_chunk(const tn_conv_shape *s, size_t ws_floats)
{
    size_t per = conv_krows(s) * (size_t)s->oh * s->ow;
    int nb = per ? (int)(ws_floats / per) : s->n;
    if (nb < 1) nb = 1;
    return nb > s->n ? s->n : nb;
}

static size_t cpu_conv_workspace(const tn_conv_shape *s, size_t cap_floats)
{
    if (conv_is_pointwise(s)) return 0;
    /* the tiled path (conv_tiled.c) needs little; planned for the current threads */
    size_t tiled = cpu_tconv_ws(s, cpu_kernel_threads(), cap_floats);
    if (tiled <= cap_floats) return tiled;
    size_t per = conv_krows(s) * (size_t)s->oh * s->ow;
    size_t all = per * (size_t)s->n;
    if (all <= cap_floats) return all;
    return per > cap_floats ? per : (cap_floats / per) * per;
}

/* All parallelism is ours (images, output rows, channels); OpenBLAS runs single-
 * threaded inside each part.  Letting OpenBLAS thread as well made its idle workers
 * spin on the cores our element-wise passes needed. */
static void cpu_set_threads(int threads)
{
    openblas_set_num_threads(1);
    cpu_set_kernel_threads(threads);
}

enum { PW_FWD, PW_BWD_FILTER, PW_BWD_DATA };

typedef struct {
    int mode, accumulate;
    const tn_conv_shape *s;
    const float *x, *w, *gy;
    float *y, *gx, *gw;
} pw_job;

/* Backward-filter of a 1x1 stride-1 convolution over the whole batch, rows [lo, hi)
 * of the filter gradient (output channels), group by group. */
static void pw_part(void *p, int lo, int hi)
{
    const pw_job *j = p;
    const tn_conv_shape *s = j->s;
    const int g = s->groups, cog = s->cout / g, cig = s->cin / g;
    const int nohw = s->n * s->oh * s->ow;
    for (int gi = 0; gi < g; gi++) {
        int r0 = lo > gi * cog ? lo : gi * cog, r1 = hi < (gi + 1) * cog ? hi : (gi + 1) * cog;
        if (r0 >= r1) continue;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, cig, nohw, 1.f, j->gy + (size_t)r0 * nohw, nohw,
                    j->x + (size_t)gi * cig * nohw, nohw, j->accumulate ? 1.f : 0.f, j->gw + (size_t)r0 * cig, cig);
    }
}

/* Forward and backward-data of a 1x1 convolution, images [lo, hi): one GEMM per
 * image and group with all rows.  Why per image: OpenBLAS's AVX2 (Haswell/Zen)
 * SGEMM rounds an element differently depending on the matrix sizes and where
 * the element falls in them, so a GEMM over the whole batch (or a split of the
 * rows over threads) made an image's activations depend on the batch size, the
 * thread count and its neighbours -- and `dyolo val` on 1 and 3 ranks disagreed.
 * With the same call shape for every image the result is a function of the
 * image alone. */
static void pw_images(void *p, int lo, int hi)
{
    const pw_job *j = p;
    const tn_conv_shape *s = j->s;
    const int g = s->groups, cog = s->cout / g, cig = s->cin / g;
    const int ohw = s->oh * s->ow, nohw = s->n * ohw;
    for (int b = lo; b < hi; b++)
        for (int gi = 0; gi < g; gi++) {
            size_t in = (size_t)gi * cig * nohw + (size_t)b * ohw, out = (size_t)gi * cog * nohw + (size_t)b * ohw;
            if (j->mode == PW_FWD)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, ohw, cig, 1.f,
                            j->w + (size_t)gi * cog * cig, cig, j->x + in, nohw, 0.f, j->y + out, nohw);
            else
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cig, ohw, cog, 1.f, j->w + (size_t)gi * cog * cig,
                            cig, j->gy + out, nohw, 1.f, j->gx + in, nohw);
        }
}

static void pointwise(pw_job *j)
{
    const tn_conv_shape *s = j->s;
    size_t work = (size_t)s->cin * s->cout * s->n * s->oh * s->ow;
    if (j->mode != PW_BWD_FILTER) {
        cpu_parallel(s->n, work, pw_images, j);
        return;
    }
    cpu_parallel(s->cout, work, pw_part, j); /* a reduction over the batch: rows split */
}

/* One output row of im2col: out[ox] = x[iy][ox*stride - pad + kj] or 0 outside. */
static void im2col_row(const float *xr, int w, int ow, int stride, int off, float *out)
{
    if (stride == 1) {
        int lo = off < 0 ? -off : 0, hi = w - off;
        if (hi > ow) hi = ow;
        if (hi < lo) hi = lo;
        for (int ox = 0; ox < lo; ox++) out[ox] = 0.f;
        memcpy(out + lo, xr + lo + off, sizeof(float) * (size_t)(hi - lo));
        for (int ox = hi; ox < ow; ox++) out[ox] = 0.f;
        return;
    }
    for (int ox = 0; ox < ow; ox++) {
        int ix = ox * stride + off;
        out[ox] = (ix >= 0 && ix < w) ? xr[ix] : 0.f;
    }
}

typedef struct {
    const tn_conv_shape *s;
    const float *x;
    float *col;
    int n0, nb;
} col_job;

static void im2col_part(void *p, int lo, int hi)
{
    const col_job *j = p;
    const tn_conv_shape *s = j->s;
    const float *x = j->x;
    float *col = j->col;
    const int k = s->k, oh = s->oh, ow = s->ow, h = s->h, w = s->w, n0 = j->n0, nb = j->nb;
    const size_t len = (size_t)nb * oh * ow, hw = (size_t)h * w;
    for (int ci = lo; ci < hi; ci++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                float *row = col + ((size_t)(ci * k + ki) * k + kj) * len;
                for (int b = 0; b < nb; b++) {
                    const float *xp = x + ((size_t)ci * s->n + n0 + b) * hw;
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * s->stride - s->pad + ki;
                        float *out = row + ((size_t)b * oh + oy) * ow;
                        if (iy < 0 || iy >= h) memset(out, 0, sizeof(float) * (size_t)ow);
                        else im2col_row(xp + (size_t)iy * w, w, ow, s->stride, kj - s->pad, out);
                    }
                }
            }
}

static void im2col(const tn_conv_shape *s, const float *x, int n0, int nb, float *col)
{
    col_job j = {s, x, col, n0, nb};
    cpu_parallel(s->cin, conv_krows(s) * (size_t)nb * s->oh * s->ow, im2col_part, &j);
}

static void col2im_part(void *p, int lo, int hi)
{
    const col_job *j = p;
    const tn_conv_shape *s = j->s;
    const float *col = j->x;
    float *gx = j->col;
    const int k = s->k, oh = s->oh, ow = s->ow, h = s->h, w = s->w, n0 = j->n0, nb = j->nb;
    const size_t len = (size_t)nb * oh * ow, hw = (size_t)h * w;
    for (int ci = lo; ci < hi; ci++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                const float *row = col + ((size_t)(ci * k + ki) * k + kj) * len;
                for (int b = 0; b < nb; b++) {
                    float *gp = gx + ((size_t)ci * s->n + n0 + b) * hw;
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * s->stride - s->pad + ki;
                        if (iy < 0 || iy >= h) continue;
                        const float *in = row + ((size_t)b * oh + oy) * ow;
                        float *gr = gp + (size_t)iy * w;
                        for (int ox = 0; ox < ow; ox++) {
                            int ix = ox * s->stride - s->pad + kj;
                            if (ix >= 0 && ix < w) gr[ix] += in[ox];
                        }
                    }
                }
            }
}

/* gx (per input channel) += the columns of col; channels are independent. */
static void col2im(const tn_conv_shape *s, const float *col, int n0, int nb, float *gx)
{
    col_job j = {s, col, gx, n0, nb};
    cpu_parallel(s->cin, conv_krows(s) * (size_t)nb * s->oh * s->ow, col2im_part, &j);
}

static void cpu_conv_fwd(const tn_conv_shape *s, const float *x, const float *w, const float *bias,
                         float *y, float *ws, size_t ws_floats)
{
    const int g = s->groups, cog = s->cout / g, cig = s->cin / g, kk = s->k * s->k;
    const size_t ohw = (size_t)s->oh * s->ow, nohw = ohw * s->n, kg = (size_t)cig * kk;
    if (conv_is_pointwise(s)) {
        pw_job j = {.mode = PW_FWD, .s = s, .x = x, .w = w, .y = y};
        pointwise(&j);
    } else if (cpu_tconv_fwd(s, x, w, y, ws, ws_floats) != 0) {
        int nb = conv_chunk(s, ws_floats);
        for (int n0 = 0; n0 < s->n; n0 += nb) {
            int cnt = n0 + nb > s->n ? s->n - n0 : nb;
            size_t len = (size_t)cnt * ohw;
            im2col(s, x, n0, cnt, ws);
            for (int gi = 0; gi < g; gi++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, (int)len, (int)kg, 1.f,
                            w + gi * cog * kg, (int)kg, ws + gi * kg * len, (int)len, 0.f,
                            y + gi * cog * nohw + n0 * ohw, (int)nohw);
        }
    }
    if (bias)
        for (int co = 0; co < s->cout; co++) {
            float b = bias[co], *row = y + co * nohw;
            for (size_t i = 0; i < nohw; i++) row[i] += b;
        }
}

static void cpu_conv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx,
                              float *ws, size_t ws_floats)
{
    const int g = s->groups, cog = s->cout / g, cig = s->cin / g, kk = s->k * s->k;
    const size_t ohw = (size_t)s->oh * s->ow, nohw = ohw * s->n, kg = (size_t)cig * kk;
    if (conv_is_pointwise(s)) {
        pw_job j = {.mode = PW_BWD_DATA, .s = s, .w = w, .gy = gy, .gx = gx};
        pointwise(&j);
        return;
    }
    if (cpu_tconv_bwd_data(s, w, gy, gx, ws, ws_floats) == 0) return;
    int nb = conv_chunk(s, ws_floats);
    for (int n0 = 0; n0 < s->n; n0 += nb) {
        int cnt = n0 + nb > s->n ? s->n - n0 : nb;
        size_t len = (size_t)cnt * ohw;
        for (int gi = 0; gi < g; gi++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kg, (int)len, cog, 1.f,
                        w + gi * cog * kg, (int)kg, gy + gi * cog * nohw + n0 * ohw, (int)nohw, 0.f,
                        ws + gi * kg * len, (int)len);
        col2im(s, ws, n0, cnt, gx);
    }
}

static void cpu_conv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw,
                                float *gbias, int accumulate, float *ws, size_t ws_floats)
{
    const int g = s->groups, cog = s->cout / g, cig = s->cin / g, kk = s->k * s->k;
    const size_t ohw = (size_t)s->oh * s->ow, nohw = ohw * s->n, kg = (size_t)cig * kk;
    if (conv_is_pointwise(s)) {
        pw_job j = {.mode = PW_BWD_FILTER, .accumulate = accumulate, .s = s, .x = x, .gy = gy, .gw = gw};
        pointwise(&j);
    } else if (cpu_tconv_bwd_filter(s, x, gy, gw, accumulate, ws, ws_floats) != 0) {
        int nb = conv_chunk(s, ws_floats);
        for (int n0 = 0; n0 < s->n; n0 += nb) {
            int cnt = n0 + nb > s->n ? s->n - n0 : nb;
            size_t len = (size_t)cnt * ohw;
            float beta = (accumulate || n0 > 0) ? 1.f : 0.f;
            im2col(s, x, n0, cnt, ws);
            for (int gi = 0; gi < g; gi++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cog, (int)kg, (int)len, 1.f,
                            gy + gi * cog * nohw + n0 * ohw, (int)nohw, ws + gi * kg * len, (int)len,
                            beta, gw + gi * cog * kg, (int)kg);
        }
    }
    if (gbias)
        for (int co = 0; co < s->cout; co++) {
            const float *row = gy + co * nohw;
            double acc = 0;
            for (size_t i = 0; i < nohw; i++) acc += row[i];
            gbias[co] = (float)acc + (accumulate ? gbias[co] : 0.f);
        }
}

typedef struct {
    tn_bn_args *a;
    const float *y, *gout;
    float *out, *gy;
} bn_job;

static void bn_stats_part(void *p, int lo, int hi)
{
    bn_job *j = p;
    for (int c = lo; c < hi; c++) {
        double s, q;
        cpu_bn_stats(j->y + c * j->a->m, j->a->m, &s, &q);
        j->a->scratch[c] = (float)s;
        j->a->scratch[j->a->c + c] = (float)q;
    }
}

static void bn_norm_part(void *p, int lo, int hi)
{
    bn_job *j = p;
    tn_bn_args *a = j->a;
    for (int c = lo; c < hi; c++) {
        float mean = a->training ? a->mean[c] : a->run_mean[c];
        float inv = a->training ? a->invstd[c] : 1.f / sqrtf(a->run_var[c] + a->eps);
        float sc = a->gamma[c] * inv, sh = a->beta[c] - mean * sc;
        cpu_affine_act(j->y + c * a->m, a->m, sc, sh, a->act, j->out + c * a->m);
    }
}

static void cpu_bn_act_fwd(tn_bn_args *a, const float *y, float *out)
{
    bn_job j = {.a = a, .y = y, .out = out};
    size_t work = (size_t)a->c * a->m;
    if (a->training) {
        float *buf = a->scratch;
        cpu_parallel(a->c, work, bn_stats_part, &j);
        buf[2 * a->c] = (float)a->m;
        if (a->reduce) a->reduce(buf, 2 * a->c + 1, a->reduce_user);
        double cnt = buf[2 * a->c];
        for (int c = 0; c < a->c; c++) {
            double mean = buf[c] / cnt, var = buf[a->c + c] / cnt - mean * mean;
            if (var < 0) var = 0;
            a->mean[c] = (float)mean;
            a->invstd[c] = (float)(1.0 / sqrt(var + a->eps));
            double unb = cnt > 1 ? var * cnt / (cnt - 1) : var;
            a->run_mean[c] = (1.f - a->momentum) * a->run_mean[c] + a->momentum * (float)mean;
            a->run_var[c] = (1.f - a->momentum) * a->run_var[c] + a->momentum * (float)unb;
        }
    }
    cpu_parallel(a->c, work, bn_norm_part, &j);
}

static void bn_bwd_reduce_part(void *p, int lo, int hi)
{
    bn_job *j = p;
    tn_bn_args *a = j->a;
    for (int c = lo; c < hi; c++) {
        float mean = a->mean[c], inv = a->invstd[c];
        float sc = a->gamma[c] * inv, sh = a->beta[c] - mean * sc;
        double sb, sg;
        cpu_bn_bwd_reduce(j->y + c * a->m, j->gout + c * a->m, a->m, sc, sh, mean, a->act, j->gy + c * a->m,
                          &sb, &sg);
        a->scratch[c] = (float)sb;
        a->scratch[a->c + c] = (float)(sg * inv);
    }
}

static void bn_bwd_apply_part(void *p, int lo, int hi)
{
    bn_job *j = p;
    tn_bn_args *a = j->a;
    double cnt = a->scratch[2 * a->c];
    for (int c = lo; c < hi; c++)
        cpu_bn_bwd_apply(j->y + c * a->m, j->gy + c * a->m, a->m, a->mean[c], a->invstd[c],
                         a->gamma[c] * a->invstd[c], (float)(a->scratch[c] / cnt),
                         (float)(a->scratch[a->c + c] / cnt));
}

static void cpu_bn_act_bwd(tn_bn_args *a, const float *y, const float *gout, float *gy,
                           float *ggamma, float *gbeta, int accumulate)
{
    bn_job j = {.a = a, .y = y, .gout = gout, .gy = gy};
    size_t work = (size_t)a->c * a->m;
    float *buf = a->scratch;
    cpu_parallel(a->c, work, bn_bwd_reduce_part, &j);
    /* parameter gradients are local (DDP averages them); the input gradient needs the
     * global sums when batch statistics were global (SyncBN) */
    for (int c = 0; c < a->c; c++) {
        gbeta[c] = buf[c] + (accumulate ? gbeta[c] : 0.f);
        ggamma[c] = buf[a->c + c] + (accumulate ? ggamma[c] : 0.f);
    }
    buf[2 * a->c] = (float)a->m;
    if (a->reduce) a->reduce(buf, 2 * a->c + 1, a->reduce_user);
    cpu_parallel(a->c, work, bn_bwd_apply_part, &j);
}

/* Max over a k-wide window (clipped at the borders) of n values with stride 1. */
static void window_max(const float *x, int n, int step, int k, float *y, int ystep)
{
    const int p = k / 2;
    for (int o = 0; o < n; o++) {
        int lo = o - p < 0 ? 0 : o - p, hi = o + p >= n ? n - 1 : o + p;
        float mx = x[lo * step];
        for (int i = lo + 1; i <= hi; i++) mx = x[i * step] > mx ? x[i * step] : mx;
        y[o * ystep] = mx;
    }
}

typedef struct {
    int h, w, k;
    const float *x, *gy;
    float *y, *gx;
} pool_job;

/* Separable: max over rows, then over columns (same result as the k x k window). */
static void maxpool_part(void *p, int lo, int hi)
{
    const pool_job *j = p;
    const size_t hw = (size_t)j->h * j->w;
    float tmp[4096];
    for (int pl = lo; pl < hi; pl++) {
        const float *xp = j->x + pl * hw;
        float *yp = j->y + pl * hw, *t = hw <= 4096 ? tmp : yp;
        for (int r = 0; r < j->h; r++) window_max(xp + (size_t)r * j->w, j->w, 1, j->k, t + (size_t)r * j->w, 1);
        if (t == yp) { /* large plane: columns in place through a row copy */
            float col[4096];
            for (int c = 0; c < j->w; c++) {
                for (int r = 0; r < j->h && r < 4096; r++) col[r] = yp[(size_t)r * j->w + c];
                window_max(col, j->h, 1, j->k, yp + c, j->w);
            }
        } else
            for (int c = 0; c < j->w; c++) window_max(t + c, j->h, j->w, j->k, yp + c, j->w);
    }
}

static void cpu_maxpool_fwd(int c, int n, int h, int w, int k, const float *x, float *y)
{
    pool_job j = {h, w, k, x, NULL, y, NULL};
    cpu_parallel(c * n, (size_t)c * n * h * w * 8, maxpool_part, &j);
}

/* The gradient goes to the first maximum in scan order (as PyTorch does). */
static void maxpool_bwd_part(void *p, int lo, int hi)
{
    const pool_job *j = p;
    const int h = j->h, w = j->w, pd = j->k / 2;
    for (int pl = lo; pl < hi; pl++) {
        const float *xp = j->x + (size_t)pl * h * w, *gp = j->gy + (size_t)pl * h * w;
        float *gxp = j->gx + (size_t)pl * h * w;
        for (int oy = 0; oy < h; oy++)
            for (int ox = 0; ox < w; ox++) {
                int y0 = oy - pd < 0 ? 0 : oy - pd, y1 = oy + pd >= h ? h - 1 : oy + pd;
                int x0 = ox - pd < 0 ? 0 : ox - pd, x1 = ox + pd >= w ? w - 1 : ox + pd;
                int at = y0 * w + x0;
                float mx = xp[at];
                for (int iy = y0; iy <= y1; iy++)
                    for (int ix = x0; ix <= x1; ix++)
                        if (xp[iy * w + ix] > mx) {
                            mx = xp[iy * w + ix];
                            at = iy * w + ix;
                        }
                gxp[at] += gp[oy * w + ox];
            }
    }
}

static void cpu_maxpool_bwd(int c, int n, int h, int w, int k, const float *x, const float *gy,
                            float *gx)
{
    pool_job j = {h, w, k, x, gy, NULL, gx};
    cpu_parallel(c * n, (size_t)c * n * h * w * 25, maxpool_bwd_part, &j);
}

static void cpu_upsample2_fwd(int c, int n, int h, int w, const float *x, float *y)
{
    for (size_t pl = 0; pl < (size_t)c * n; pl++) {
        const float *xp = x + pl * h * w;
        float *yp = y + pl * 4 * h * w;
        for (int iy = 0; iy < h; iy++) {
            float *r0 = yp + (size_t)(2 * iy) * 2 * w;
            for (int ix = 0; ix < w; ix++) r0[2 * ix] = r0[2 * ix + 1] = xp[iy * w + ix];
            memcpy(r0 + 2 * w, r0, sizeof(float) * 2 * (size_t)w);
        }
    }
}

static void cpu_upsample2_bwd(int c, int n, int h, int w, const float *gy, float *gx)
{
    for (size_t pl = 0; pl < (size_t)c * n; pl++) {
        const float *gp = gy + pl * 4 * h * w;
        float *gxp = gx + pl * h * w;
        for (int iy = 0; iy < h; iy++) {
            const float *r0 = gp + (size_t)(2 * iy) * 2 * w, *r1 = r0 + 2 * w;
            for (int ix = 0; ix < w; ix++)
                gxp[iy * w + ix] += r0[2 * ix] + r0[2 * ix + 1] + r1[2 * ix] + r1[2 * ix + 1];
        }
    }
}

/* Element-wise passes over activations run on all threads in chunks of EW_CHUNK
 * floats (zeroing and summing gradients were the longest serial stretches of a
 * step); small ones run inline (cpu_parallel's threshold). */
enum { EW_ADD, EW_ACC, EW_SCALE, EW_FILL, EW_CHUNK = 1 << 14 };

typedef struct {
    int op;
    size_t n;
    float v;
    const float *a, *b;
    float *y;
} ew_job;

static void ew_part(void *p, int lo, int hi)
{
    const ew_job *j = p;
    const size_t i0 = (size_t)lo * EW_CHUNK, i1 = (size_t)hi * EW_CHUNK < j->n ? (size_t)hi * EW_CHUNK : j->n;
    float *y = j->y;
    if (j->op == EW_ADD)
        for (size_t i = i0; i < i1; i++) y[i] = j->a[i] + j->b[i];
    else if (j->op == EW_ACC)
        for (size_t i = i0; i < i1; i++) y[i] += j->a[i];
    else if (j->op == EW_SCALE)
        for (size_t i = i0; i < i1; i++) y[i] = j->v * j->a[i];
    else
        for (size_t i = i0; i < i1; i++) y[i] = j->v;
}

static void ew_run(int op, size_t n, float v, const float *a, const float *b, float *y)
{
    ew_job j = {op, n, v, a, b, y};
    size_t chunks = (n + EW_CHUNK - 1) / EW_CHUNK;
    cpu_parallel((int)chunks, n, ew_part, &j);
}

static void cpu_add(size_t n, const float *a, const float *b, float *y) { ew_run(EW_ADD, n, 0.f, a, b, y); }
static void cpu_acc(size_t n, const float *x, float *y) { ew_run(EW_ACC, n, 0.f, x, NULL, y); }
static void cpu_scale(size_t n, float alpha, const float *x, float *y) { ew_run(EW_SCALE, n, alpha, x, NULL, y); }
static void cpu_fill(size_t n, float v, float *y) { ew_run(EW_FILL, n, v, NULL, NULL, y); }

static void cpu_sigmoid(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = tn_hd_sigmoid(x[i]);
}

static void cpu_u8_to_f32(int n, int c, int h, int w, const uint8_t *x, float *y)
{
    const size_t hw = (size_t)h * w;
    for (int b = 0; b < n; b++)
        for (int ci = 0; ci < c; ci++) {
            const uint8_t *src = x + ((size_t)b * c + ci) * hw;
            float *dst = y + ((size_t)ci * n + b) * hw;
            for (size_t i = 0; i < hw; i++) dst[i] = tn_hd_u8(src[i]);
        }
}

static void cpu_cast_f32_f16(size_t n, const float *x, uint16_t *y)
{
    for (size_t i = 0; i < n; i++) y[i] = tn_hd_half_from_float(x[i]);
}

static void cpu_cast_f16_f32(size_t n, const uint16_t *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = tn_hd_float_from_half(x[i]);
}

static void cpu_round_f16(size_t n, float *x)
{
    for (size_t i = 0; i < n; i++) x[i] = tn_hd_round_f16(x[i]);
}

static size_t cpu_nonfinite(size_t n, const float *x)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !tn_hd_isfinite(x[i]);
    return bad;
}

static void cpu_sgd_update(size_t n, float *p, const float *g, float *mom, float lr, float momentum,
                           float wd, int nesterov)
{
    for (size_t i = 0; i < n; i++) tn_hd_sgd(&p[i], g[i], &mom[i], lr, momentum, wd, nesterov);
}

static void cpu_adamw_update(size_t n, float *p, const float *g, float *m, float *v, float lr, float b1,
                             float b2, float eps, float wd, float bc1, float bc2)
{
    float decay = 1.0f - lr * wd, sbc2 = sqrtf(bc2);
    for (size_t i = 0; i < n; i++) tn_hd_adamw(&p[i], g[i], &m[i], &v[i], lr, b1, b2, eps, decay, bc1, sbc2);
}

static void cpu_ema_update(size_t n, float d, float w, const float *src, float *ema)
{
    for (size_t i = 0; i < n; i++) ema[i] = tn_hd_ema(ema[i], src[i], d, w);
}

static size_t cpu_unscale(size_t n, float inv, float *g)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += (size_t)tn_hd_unscale(&g[i], inv);
    return bad;
}

static double cpu_sumsq(size_t n, const float *x)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    return ss;
}

/* f32 activation storage: the act_* ops are the plain element-wise ones */
static void cpu_act_add(size_t n, const void *a, const void *b, void *y) { cpu_add(n, a, b, y); }
static void cpu_act_acc(size_t n, const void *x, void *y) { cpu_acc(n, x, y); }
static void cpu_act_from_f32(size_t n, float alpha, const float *x, void *y) { cpu_scale(n, alpha, x, y); }
static void cpu_act_to_f32(size_t n, const void *x, float *y) { tn_cpu_copy(y, x, n * sizeof(float)); }

static const tn_backend cpu_backend = {
    .name = "cpu",
    .device = TN_CPU,
    .host_mem = 1,
    .set_threads = cpu_set_threads,
    .alloc = tn_cpu_alloc,
    .free = tn_cpu_free,
    .mem_stats = tn_cpu_mem_stats,
    .mem_reset_peak = tn_cpu_mem_reset_peak,
    .upload = tn_cpu_upload,
    .download = tn_cpu_download,
    .copy = tn_cpu_copy,
    .memset0 = tn_cpu_memset0,
    .sync = tn_cpu_status,
    .status = tn_cpu_status,
    .event_create = tn_cpu_event_create,
    .event_destroy = tn_cpu_event_destroy,
    .event_record = tn_cpu_event_record,
    .event_wait = tn_cpu_event_wait,
    .event_done = tn_cpu_event_done,
    .stream = tn_cpu_stream,
    .host_alloc = tn_cpu_host_alloc,
    .host_free = tn_cpu_host_free,
    .upload_async = tn_cpu_upload_async,
    .stream_wait = tn_cpu_stream_wait,
    .conv_workspace = cpu_conv_workspace,
    .conv_fwd = cpu_conv_fwd,
    .conv_bwd_data = cpu_conv_bwd_data,
    .conv_bwd_filter = cpu_conv_bwd_filter,
    .bn_act_fwd = cpu_bn_act_fwd,
    .bn_act_bwd = cpu_bn_act_bwd,
    .maxpool_fwd = cpu_maxpool_fwd,
    .maxpool_bwd = cpu_maxpool_bwd,
    .upsample2_fwd = cpu_upsample2_fwd,
    .upsample2_bwd = cpu_upsample2_bwd,
    .add = cpu_add,
    .acc = cpu_acc,
    .scale = cpu_scale,
    .fill = cpu_fill,
    .sigmoid = cpu_sigmoid,
    .u8_to_f32 = cpu_u8_to_f32,
    .cast_f32_f16 = cpu_cast_f32_f16,
    .cast_f16_f32 = cpu_cast_f16_f32,
    .round_f16 = cpu_round_f16,
    .nonfinite = cpu_nonfinite,
    .sgd_update = cpu_sgd_update,
    .adamw_update = cpu_adamw_update,
    .ema_update = cpu_ema_update,
    .act_dtype = TN_F32,
    .half_acts = NULL, /* AMP on the CPU rounds f32 values (cheaper than converting) */
    .act_add = cpu_act_add,
    .act_acc = cpu_act_acc,
    .act_from_f32 = cpu_act_from_f32,
    .act_to_f32 = cpu_act_to_f32,
    .unscale = cpu_unscale,
    .sumsq = cpu_sumsq,
};

const tn_backend *tn_backend_cpu(void)
{
    return &cpu_backend;
}

const char *tn_cpu_blas_corename(void)
{
    return openblas_get_corename();
}

void tn_cpu_blas_fix_coretype(char **argv)
{
    if (getenv("OPENBLAS_CORETYPE")) return;
    const char *core = openblas_get_corename();
    if (!core || (strcmp(core, "Prescott") && strcmp(core, "Core2") && strcmp(core, "Nehalem"))) return;
    const char *want = NULL;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2")) want = "Haswell";
#endif
    if (!want || setenv("OPENBLAS_CORETYPE", want, 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* exec failed: go on with the slow kernels */
}
