/* conv_tiled.c -- the fast path of the CPU convolution for kernels that need im2col:
 * every thread takes whole images (so backward-data never races on the input
 * gradient) and walks them in row tiles whose column matrix stays in the L2 cache,
 * calling a single-threaded SGEMM per tile.  Unlike one big im2col over the batch,
 * the column matrix never goes to DRAM and back, which matters for the wide, shallow
 * early layers (e.g. 3 -> 16 channels at 160 x 160, where the batch-wide column
 * matrix is 88 MB).  Filter gradients are summed from per-thread partials.
 *
 * defines: cpu_tconv_ws, cpu_tconv_fwd, cpu_tconv_bwd_filter, cpu_tconv_bwd_data */
#include <cblas.h>
#include <string.h>

#include "tensor/cpu_kernels.h"

/* Column-tile size per thread, in floats (1 MB: half of this machine's 2 MB L2;
 * 256 KB and 2 MB tiles were slower in benchmarks/run-step.sh). */
#define TILE_FLOATS ((size_t)256 << 10)

static size_t krows(const tn_conv_shape *s) { return (size_t)s->cin * s->k * s->k; }

/* Output columns [*lo, *hi) whose input column ox * stride + off lies inside [0, w). */
static void valid_cols(int w, int ow, int stride, int off, int *lo, int *hi)
{
    int l = off < 0 ? (-off + stride - 1) / stride : 0;
    int h = w - off <= 0 ? 0 : (w - off + stride - 1) / stride;
    if (h > ow) h = ow;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

static size_t tile_floats(const tn_conv_shape *s)
{
    size_t row = krows(s) * (size_t)s->ow;
    return row > TILE_FLOATS ? row : (TILE_FLOATS / row) * row;
}

static size_t per_thread(const tn_conv_shape *s)
{
    return tile_floats(s) + (size_t)s->cout * (s->cin / s->groups) * s->k * s->k;
}

size_t cpu_tconv_ws(const tn_conv_shape *s, int threads, size_t cap_floats)
{
    int p = threads < s->n ? threads : s->n;
    size_t ws = (size_t)(p < 1 ? 1 : p) * per_thread(s), g = cpu_gconv_ws(s, threads, cap_floats);
    return g > ws ? g : ws;
}

/* im2col of output rows [oy0, oy1) of image b; row length (oy1 - oy0) * ow. */
static void im2col_tile(const tn_conv_shape *s, const float *x, int b, int oy0, int oy1, float *col)
{
    const int k = s->k, ow = s->ow, h = s->h, w = s->w;
    const size_t len = (size_t)(oy1 - oy0) * ow, hw = (size_t)h * w;
    for (int ci = 0; ci < s->cin; ci++) {
        const float *xp = x + ((size_t)ci * s->n + b) * hw;
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                float *row = col + ((size_t)(ci * k + ki) * k + kj) * len;
                int off = kj - s->pad;
                for (int oy = oy0; oy < oy1; oy++) {
                    int iy = oy * s->stride - s->pad + ki;
                    float *out = row + (size_t)(oy - oy0) * ow;
                    if (iy < 0 || iy >= h) {
                        memset(out, 0, sizeof(float) * (size_t)ow);
                        continue;
                    }
                    const float *xr = xp + (size_t)iy * w;
                    const int st = s->stride;
                    int lo, hi;
                    valid_cols(w, ow, st, off, &lo, &hi);
                    for (int ox = 0; ox < lo; ox++) out[ox] = 0.f;
                    if (st == 1) memcpy(out + lo, xr + lo + off, sizeof(float) * (size_t)(hi - lo));
                    else if (st == 2)
                        for (int ox = lo; ox < hi; ox++) out[ox] = xr[2 * ox + off];
                    else
                        for (int ox = lo; ox < hi; ox++) out[ox] = xr[ox * st + off];
                    for (int ox = hi; ox < ow; ox++) out[ox] = 0.f;
                }
            }
    }
}

static void col2im_tile(const tn_conv_shape *s, const float *col, int b, int oy0, int oy1, float *gx)
{
    const int k = s->k, ow = s->ow, h = s->h, w = s->w;
    const size_t len = (size_t)(oy1 - oy0) * ow, hw = (size_t)h * w;
    for (int ci = 0; ci < s->cin; ci++) {
        float *gp = gx + ((size_t)ci * s->n + b) * hw;
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                const float *row = col + ((size_t)(ci * k + ki) * k + kj) * len;
                for (int oy = oy0; oy < oy1; oy++) {
                    int iy = oy * s->stride - s->pad + ki;
                    if (iy < 0 || iy >= h) continue;
                    const float *in = row + (size_t)(oy - oy0) * ow;
                    float *gr = gp + (size_t)iy * w;
                    const int st = s->stride, off = kj - s->pad;
                    int lo, hi;
                    valid_cols(w, ow, st, off, &lo, &hi);
                    if (st == 1)
                        for (int ox = lo; ox < hi; ox++) gr[ox + off] += in[ox];
                    else
                        for (int ox = lo; ox < hi; ox++) gr[ox * st + off] += in[ox];
                }
            }
    }
}

enum { T_FWD, T_BWD_FILTER, T_BWD_DATA };

typedef struct {
    int mode, parts;
    const tn_conv_shape *s;
    const float *x, *w, *gy;
    float *y, *gx, *ws;
} tjob;

static void tile_loop(void *p, int lo, int hi)
{
    const tjob *j = p;
    const tn_conv_shape *s = j->s;
    const int g = s->groups, cog = s->cout / g, kk = s->k * s->k;
    const size_t ohw = (size_t)s->oh * s->ow, nohw = ohw * s->n, kg = (size_t)(s->cin / g) * kk;
    const int rows = (int)(tile_floats(s) / (krows(s) * (size_t)s->ow));
    for (int t = lo; t < hi; t++) {
        float *col = j->ws + (size_t)t * per_thread(s), *gwp = col + tile_floats(s);
        if (j->mode == T_BWD_FILTER) memset(gwp, 0, sizeof(float) * (size_t)s->cout * kg);
        for (int b = t; b < s->n; b += j->parts)
            for (int oy0 = 0; oy0 < s->oh; oy0 += rows) {
                int oy1 = oy0 + rows > s->oh ? s->oh : oy0 + rows;
                int len = (oy1 - oy0) * s->ow;
                size_t coff = (size_t)b * ohw + (size_t)oy0 * s->ow;
                if (j->mode != T_BWD_DATA) im2col_tile(s, j->x, b, oy0, oy1, col);
                for (int gi = 0; gi < g; gi++) {
                    const float *wg = j->w ? j->w + gi * cog * kg : NULL;
                    if (j->mode == T_FWD)
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, len, (int)kg, 1.f, wg,
                                    (int)kg, col + gi * kg * len, len, 0.f, j->y + gi * cog * nohw + coff,
                                    (int)nohw);
                    else if (j->mode == T_BWD_FILTER)
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cog, (int)kg, len, 1.f,
                                    j->gy + gi * cog * nohw + coff, (int)nohw, col + gi * kg * len, len, 1.f,
                                    gwp + gi * cog * kg, (int)kg);
                    else
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kg, len, cog, 1.f, wg, (int)kg,
                                    j->gy + gi * cog * nohw + coff, (int)nohw, 0.f, col + gi * kg * len, len);
                }
                if (j->mode == T_BWD_DATA) col2im_tile(s, col, b, oy0, oy1, j->gx);
            }
    }
}

/* Runs one mode; returns 0, or -1 when the workspace is too small for this path. */
static int run(tjob *j, size_t ws_floats)
{
    int threads = cpu_kernel_threads();
    int p = threads < j->s->n ? threads : j->s->n;
    while (p > 1 && (size_t)p * per_thread(j->s) > ws_floats) p--;
    if (per_thread(j->s) > ws_floats) return -1;
    j->parts = p;
    cpu_parallel(p, (size_t)1 << 30, tile_loop, j);
    return 0;
}

int cpu_tconv_fwd(const tn_conv_shape *s, const float *x, const float *w, float *y, float *ws, size_t ws_floats)
{
    if (cpu_gconv_fwd(s, x, w, y, ws, ws_floats) == 0) return 0;
    tjob j = {.mode = T_FWD, .s = s, .x = x, .w = w, .y = y, .ws = ws};
    return run(&j, ws_floats);
}

int cpu_tconv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                       size_t ws_floats)
{
    if (cpu_gconv_bwd_data(s, w, gy, gx, ws, ws_floats) == 0) return 0;
    tjob j = {.mode = T_BWD_DATA, .s = s, .w = w, .gy = gy, .gx = gx, .ws = ws};
    return run(&j, ws_floats);
}

int cpu_tconv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, int accumulate,
                         float *ws, size_t ws_floats)
{
    if (cpu_gconv_bwd_filter(s, x, gy, gw, accumulate, ws, ws_floats) == 0) return 0;
    tjob j = {.mode = T_BWD_FILTER, .s = s, .x = x, .gy = gy, .ws = ws};
    if (run(&j, ws_floats)) return -1;
    size_t n = (size_t)s->cout * (s->cin / s->groups) * s->k * s->k;
    for (size_t i = 0; i < n; i++) {
        float acc = accumulate ? gw[i] : 0.f;
        for (int t = 0; t < j.parts; t++) acc += ws[(size_t)t * per_thread(s) + tile_floats(s) + i];
        gw[i] = acc;
    }
    return 0;
}
