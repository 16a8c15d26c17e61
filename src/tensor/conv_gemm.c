/* conv_gemm.c -- an AVX2/FMA implicit-GEMM path for stride-1 convolutions (3x3 in
 * YOLOv5; groups = 1, at least 8 input channels).  The OpenBLAS path (conv_tiled.c)
 * writes an im2col tile, which OpenBLAS packs once more, repacks the weights for
 * every tile, zeroes C in a separate pass, and for backward-data scatters the
 * columns back with col2im; on the small channel counts of YOLOv5 (16..256) those
 * copies cost as much as the multiply.  Here the input is copied once into zero-
 * padded planes and read in place by the micro-kernels (see "stride 1 without
 * im2col" below): forward packs the weights once per call into 4-row panels and runs
 * a 4x24 register-blocked kernel; backward-data is the same forward pass over the
 * output gradient with the filters transposed and flipped, accumulating into the
 * input gradient; backward-filter runs a 6x16 kernel over a transposed copy of the
 * output gradient.  Opt-in (DYOLO_CONV_GEMM, see cpu_gconv_enable in cpu_kernels.h);
 * without AVX2/FMA, for other shapes or too small a workspace the callers use OpenBLAS.
 *
 * defines: cpu_gconv_ws, cpu_gconv_fwd, cpu_gconv_bwd_data, cpu_gconv_bwd_filter,
 *          cpu_gconv_enable */
#include <stdlib.h>
#include <string.h>

#include "tensor/cpu_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CG_X86 1
#define AVX2 __attribute__((target("avx2,fma")))
#endif

enum {
    MR = 4,      /* rows of the micro-kernel (output channels) */
    NR = 24,     /* columns of the micro-kernel (output positions) */
    KC_MAX = 192 /* depth of one micro-kernel call, so the A slice and B rows stay in L1 */
};

static size_t krows(const tn_conv_shape *s) { return (size_t)s->cin * s->k * s->k; }
static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

static size_t apack_floats(const tn_conv_shape *s)
{
    return round_up((size_t)s->cout, MR) * krows(s);
}

/* The stride-1 backward-data pass as a forward convolution: input = output gradient,
 * output = input gradient, padding k - 1 - pad.  Returns 0 when that does not apply. */
static int flipped_shape(const tn_conv_shape *s, tn_conv_shape *f)
{
    if (s->stride != 1 || s->pad > s->k - 1 || s->groups != 1) return 0;
    *f = (tn_conv_shape){.n = s->n, .cin = s->cout, .h = s->oh, .w = s->ow, .cout = s->cin, .k = s->k,
                         .stride = 1, .pad = s->k - 1 - s->pad, .groups = 1};
    tn_conv_shape_init(f);
    return f->oh == s->h && f->ow == s->w;
}

/* -1: not decided yet; else a CPU_GCONV_* level, set by cpu_gconv_enable or on
 * first use. */
static int enabled = -1;

#ifdef CG_X86
static int cpu_ok(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
static int cpu_ok(void) { return 0; }
#endif

/* The level in use: off unless DYOLO_CONV_GEMM=backward or =all is in the environment
 * (see cpu_kernels.h for why it is opt-in). */
static int level(void)
{
    if (enabled < 0) {
        const char *e = getenv("DYOLO_CONV_GEMM");
        int want = !e ? CPU_GCONV_OFF : !strcmp(e, "all") ? CPU_GCONV_ALL
                                    : !strcmp(e, "backward") ? CPU_GCONV_BACKWARD : CPU_GCONV_OFF;
        enabled = cpu_ok() ? want : CPU_GCONV_OFF;
    }
    return enabled;
}

static int have_avx2(void) { return level() != CPU_GCONV_OFF; }

int cpu_gconv_enable(int lvl)
{
    enabled = cpu_ok() ? lvl : CPU_GCONV_OFF;
    return enabled;
}

static size_t direct_ws(const tn_conv_shape *s, int threads);
static size_t bf_ws(const tn_conv_shape *s, int threads);
static int direct_ok(const tn_conv_shape *s);

/* The largest of what forward, backward-data and backward-filter need, each counted
 * only where it fits under cap_floats (above it they are left to OpenBLAS). */
size_t cpu_gconv_ws(const tn_conv_shape *s, int threads, size_t cap_floats)
{
    size_t ws = 0, d;
    tn_conv_shape f;
    if (!have_avx2() || !direct_ok(s)) return 0;
    if ((d = direct_ws(s, threads)) <= cap_floats && d > ws) ws = d;
    if ((d = bf_ws(s, threads)) <= cap_floats && d > ws) ws = d;
    if (flipped_shape(s, &f) && direct_ok(&f) && (d = direct_ws(&f, threads)) <= cap_floats && d > ws) ws = d;
    return ws;
}

/* ---- packing ---- */

/* A panels of MR rows: ap[i][p][r] = w[(MR i + r) * K + p], zero past the last row. */
static void pack_weights(const tn_conv_shape *s, const float *w, float *ap)
{
    const size_t K = krows(s);
    for (int i0 = 0; i0 < s->cout; i0 += MR, ap += MR * K)
        for (int r = 0; r < MR; r++) {
            const float *row = i0 + r < s->cout ? w + (size_t)(i0 + r) * K : NULL;
            for (size_t p = 0; p < K; p++) ap[p * MR + r] = row ? row[p] : 0.f;
        }
}

/* The same for the flipped, transposed filters of backward-data: row ci, column
 * (co, ki, kj) holds w[co][ci][k-1-ki][k-1-kj]; o is the original shape. */
static void pack_flipped(const tn_conv_shape *o, const float *w, float *ap)
{
    const int kk = o->k * o->k;
    const size_t K = (size_t)o->cout * kk;
    for (int i0 = 0; i0 < o->cin; i0 += MR, ap += MR * K)
        for (int r = 0; r < MR; r++) {
            int ci = i0 + r;
            for (int co = 0; co < o->cout; co++)
                for (int t = 0; t < kk; t++)
                    ap[((size_t)co * kk + t) * MR + r] =
                        ci < o->cin ? w[((size_t)co * o->cin + ci) * kk + (kk - 1 - t)] : 0.f;
        }
}

/* ---- micro-kernel and the tile GEMM ---- */
#ifdef CG_X86
/* c[4 x 24] (row stride NR) = (load ? c : 0) + a[kc][4] * B, where row p of B is the
 * 24 floats at b + off[p] (the padded input, see direct_part). */
AVX2 static void ukr_4x24_off(int kc, const float *a, const float *b, const int *off, float *c, int load)
{
    const size_t ldc = NR;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    for (int p = 0; p < kc; p++, a += MR) {
        const float *bq = b + off[p];
        __m256 b0 = _mm256_loadu_ps(bq), b1 = _mm256_loadu_ps(bq + 8), b2 = _mm256_loadu_ps(bq + 16);
        __m256 av = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        c02 = _mm256_fmadd_ps(av, b2, c02);
        av = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        c12 = _mm256_fmadd_ps(av, b2, c12);
        av = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        c22 = _mm256_fmadd_ps(av, b2, c22);
        av = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        c32 = _mm256_fmadd_ps(av, b2, c32);
    }
#define CG_ST(r, v0, v1, v2)                                                                        \
    do {                                                                                            \
        float *cr = c + (r) * ldc;                                                                  \
        if (load) {                                                                                 \
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr));                                            \
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));                                        \
            v2 = _mm256_add_ps(v2, _mm256_loadu_ps(cr + 16));                                       \
        }                                                                                           \
        _mm256_storeu_ps(cr, v0);                                                                   \
        _mm256_storeu_ps(cr + 8, v1);                                                               \
        _mm256_storeu_ps(cr + 16, v2);                                                              \
    } while (0)
    CG_ST(0, c00, c01, c02);
    CG_ST(1, c10, c11, c12);
    CG_ST(2, c20, c21, c22);
    CG_ST(3, c30, c31, c32);
#undef CG_ST
}

#else
/* never called: have_avx2() is 0 */
static void ukr_4x24_off(int kc, const float *a, const float *b, const int *off, float *c, int load)
{
    (void)kc; (void)a; (void)b; (void)off; (void)c; (void)load;
}
#endif

/* ---- stride 1 without im2col ----
 * The input is copied once into zero-padded planes of width wq = w + 2 pad.  On the
 * output grid q = oy * wq + ox (ox < wq), tap (ki, kj) of channel ci reads the padded
 * plane at q + ki * wq + kj: every row of the column matrix is a contiguous run of
 * that copy, so the micro-kernels load it in place through a table of K offsets.
 * Grid columns ox >= ow are computed and dropped (2 pad / wq of the work).  (The
 * same works at stride 2 with the input split into 4 phases, but measured slower
 * than OpenBLAS on Zen 3, so stride 2 stays with OpenBLAS.) */
typedef struct {
    int wq;
    size_t plane; /* floats per (channel, image), with slack for the last panel's reads */
} dgeom;

static dgeom direct_geom(const tn_conv_shape *s)
{
    dgeom g = {.wq = s->w + 2 * s->pad};
    g.plane = (size_t)(s->h + 2 * s->pad) * g.wq + NR + s->k;
    return g;
}

static size_t grid_panels(const tn_conv_shape *s)
{
    return ((size_t)s->oh * direct_geom(s).wq + NR - 1) / NR;
}

/* off[kk] for the K rows of the column matrix (kk >= K: 0, a harmless valid read). */
static void fill_offsets(const tn_conv_shape *s, int *off, size_t count)
{
    dgeom g = direct_geom(s);
    const size_t K = krows(s), kk2 = (size_t)s->k * s->k;
    for (size_t kk = 0; kk < count; kk++) {
        if (kk >= K) {
            off[kk] = 0;
            continue;
        }
        const int ci = (int)(kk / kk2), ki = (int)(kk % kk2) / s->k, kj = (int)(kk % kk2) % s->k;
        off[kk] = (int)((size_t)ci * s->n * g.plane + (size_t)ki * g.wq + (size_t)kj);
    }
}

/* workspace: packed weights, K offsets, padded input, per-thread C panel */
static size_t direct_ws(const tn_conv_shape *s, int threads)
{
    dgeom g = direct_geom(s);
    return apack_floats(s) + krows(s) + g.plane * s->cin * s->n + (size_t)(threads < 1 ? 1 : threads) *
           round_up((size_t)s->cout, MR) * NR;
}

static int direct_ok(const tn_conv_shape *s)
{
    dgeom g = direct_geom(s);
    return s->stride == 1 && s->groups == 1 && s->cin >= 8 && s->pad <= s->k - 1 &&
           g.plane * s->cin * s->n < ((size_t)1 << 30) && s->oh > 0 && s->ow > 0;
}

typedef struct {
    const tn_conv_shape *s;
    const float *x;
    float *xp;
} pad_job;

static void pad_part(void *p, int lo, int hi)
{
    const pad_job *j = p;
    const tn_conv_shape *s = j->s;
    dgeom g = direct_geom(s);
    const int pd = s->pad;
    for (int pl = lo; pl < hi; pl++) { /* plane = (ci, image) */
        const float *src = j->x + (size_t)pl * s->h * s->w;
        float *d = j->xp + (size_t)pl * g.plane;
        memset(d, 0, sizeof(float) * ((size_t)pd * g.wq + pd));
        for (int y = 0; y < s->h; y++) {
            float *row = d + (size_t)(y + pd) * g.wq + pd;
            memcpy(row, src + (size_t)y * s->w, sizeof(float) * (size_t)s->w);
            memset(row + s->w, 0, sizeof(float) * (size_t)(2 * pd)); /* right pad + next left pad */
        }
        size_t used = (size_t)(s->h + pd) * g.wq + pd;
        memset(d + used, 0, sizeof(float) * (g.plane - used));
    }
}

#ifdef CG_X86
/* y[r * ldy + i] (+)= c[r * NR + i] for rows r < m, columns i < n (n <= NR).  Whole
 * vectors where possible; the tail is scalar (masked stores are slow on AMD cores). */
AVX2 static void put_cols(const float *c, int m, float *y, size_t ldy, int n, int acc)
{
    const int nv = n / 8;
    for (int r = 0; r < m; r++, c += NR, y += ldy) {
        for (int v = 0; v < nv; v++) {
            __m256 x = _mm256_loadu_ps(c + 8 * v);
            if (acc) x = _mm256_add_ps(x, _mm256_loadu_ps(y + 8 * v));
            _mm256_storeu_ps(y + 8 * v, x);
        }
        for (int i = 8 * nv; i < n; i++) y[i] = acc ? y[i] + c[i] : c[i];
    }
}
#else
static void put_cols(const float *c, int m, float *y, size_t ldy, int n, int acc)
{
    (void)c; (void)m; (void)y; (void)ldy; (void)n; (void)acc; /* never called: have_avx2() is 0 */
}
#endif

typedef struct {
    const tn_conv_shape *s;
    const float *ap, *xp;
    const int *off;
    float *y, *cbuf;
    int acc, parts;
} djob;

/* Panels (image, grid panel) [lo, hi) of the flattened list, split over parts. */
static void direct_part(void *p, int lo, int hi)
{
    const djob *j = p;
    const tn_conv_shape *s = j->s;
    dgeom g = direct_geom(s);
    const size_t K = krows(s), np = grid_panels(s), total = np * s->n, ohw = (size_t)s->oh * s->ow;
    const size_t nohw = ohw * s->n, nkb = (K + KC_MAX - 1) / KC_MAX, kc0 = (K + nkb - 1) / nkb;
    const size_t mp = round_up((size_t)s->cout, MR);
    float *cb = j->cbuf + (size_t)lo * mp * NR;
    for (size_t t = total * (size_t)lo / (size_t)j->parts; t < total * (size_t)hi / (size_t)j->parts; t++) {
        const size_t b = t / np, q0 = (t % np) * NR;
        const float *base = j->xp + b * g.plane + q0;
        for (size_t p0 = 0; p0 < K; p0 += kc0) {
            const int kc = (int)(K - p0 < kc0 ? K - p0 : kc0);
            for (size_t i0 = 0; i0 < mp; i0 += MR)
                ukr_4x24_off(kc, j->ap + i0 * K + p0 * MR, base, j->off + p0, cb + i0 * NR, p0 > 0);
        }
        /* the valid grid columns form at most a few runs of consecutive outputs */
        int seg_c[NR], seg_d[NR], seg_n[NR], nseg = 0, oy = (int)(q0 / (size_t)g.wq), ox = (int)(q0 % (size_t)g.wq);
        for (int c = 0; c < NR; c++) {
            if (oy < s->oh && ox < s->ow) {
                if (nseg && seg_c[nseg - 1] + seg_n[nseg - 1] == c && seg_d[nseg - 1] + seg_n[nseg - 1] == oy * s->ow + ox)
                    seg_n[nseg - 1]++;
                else {
                    seg_c[nseg] = c;
                    seg_d[nseg] = oy * s->ow + ox;
                    seg_n[nseg++] = 1;
                }
            }
            if (++ox == g.wq) {
                ox = 0;
                oy++;
            }
        }
        float *yb = j->y + b * ohw;
        for (int e = 0; e < nseg; e++)
            put_cols(cb + seg_c[e], s->cout, yb + seg_d[e], nohw, seg_n[e], j->acc);
    }
}

/* ap already holds the packed weights at the start of ws. */
static int direct_run(const tn_conv_shape *s, const float *x, float *y, int acc, float *ws, size_t ws_floats)
{
    dgeom g = direct_geom(s);
    int p = cpu_kernel_threads();
    if (p < 1) p = 1;
    if (direct_ws(s, p) > ws_floats) return -1;
    const size_t K = krows(s);
    int *off = (int *)(ws + apack_floats(s));
    float *xp = ws + apack_floats(s) + K;
    fill_offsets(s, off, K);
    pad_job pj = {s, x, xp};
    cpu_parallel(s->cin * s->n, g.plane * s->cin * s->n, pad_part, &pj);
    djob j = {.s = s, .ap = ws, .xp = xp, .off = off, .y = y, .cbuf = xp + g.plane * s->cin * s->n, .acc = acc,
              .parts = p};
    cpu_parallel(p, (size_t)1 << 30, direct_part, &j);
    return 0;
}

/* ---- backward-filter of stride-1 convolutions ----
 * gw^T (K x cout) = X (K x grid) * gy^T (grid x cout), summed over the grid
 * positions of every image: row kk of X is again the padded input read in place at
 * offset off[kk], gy is transposed once into 16-channel panels with zeros in the
 * dropped grid columns, and a 6x16 micro-kernel (6 taps x 16 output channels)
 * accumulates per-thread partial sums that are added into gw at the end. */
enum { FR = 6, FC = 16, QC = 256 };

static size_t bf_grid(const tn_conv_shape *s) { return (size_t)s->oh * direct_geom(s).wq; }
static size_t bf_cp(const tn_conv_shape *s) { return ((size_t)s->cout + FC - 1) / FC; }
static size_t bf_acc_floats(const tn_conv_shape *s) { return round_up(krows(s), FR) * bf_cp(s) * FC; }

static size_t bf_ws(const tn_conv_shape *s, int threads)
{
    dgeom g = direct_geom(s);
    return g.plane * s->cin * s->n + bf_cp(s) * FC * s->n * bf_grid(s) + round_up(krows(s), FR) +
           (size_t)(threads < 1 ? 1 : threads) * bf_acc_floats(s);
}

#ifdef CG_X86
/* c[6 x 16] (row stride ldc) += sum over p < kc of x_r[p] * g[p][16]. */
AVX2 static void ukr_6x16(int kc, const float *x0, const float *x1, const float *x2, const float *x3,
                          const float *x4, const float *x5, const float *g, float *c, size_t ldc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int p = 0; p < kc; p++, g += FC) {
        __m256 b0 = _mm256_loadu_ps(g), b1 = _mm256_loadu_ps(g + 8), a = _mm256_broadcast_ss(x0 + p);
        c00 = _mm256_fmadd_ps(a, b0, c00);
        c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(x1 + p);
        c10 = _mm256_fmadd_ps(a, b0, c10);
        c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(x2 + p);
        c20 = _mm256_fmadd_ps(a, b0, c20);
        c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(x3 + p);
        c30 = _mm256_fmadd_ps(a, b0, c30);
        c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(x4 + p);
        c40 = _mm256_fmadd_ps(a, b0, c40);
        c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(x5 + p);
        c50 = _mm256_fmadd_ps(a, b0, c50);
        c51 = _mm256_fmadd_ps(a, b1, c51);
    }
#define CG_ACC(r, v0, v1)                                                                           \
    do {                                                                                            \
        float *cr = c + (r) * ldc;                                                                  \
        _mm256_storeu_ps(cr, _mm256_add_ps(v0, _mm256_loadu_ps(cr)));                               \
        _mm256_storeu_ps(cr + 8, _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8)));                       \
    } while (0)
    CG_ACC(0, c00, c01);
    CG_ACC(1, c10, c11);
    CG_ACC(2, c20, c21);
    CG_ACC(3, c30, c31);
    CG_ACC(4, c40, c41);
    CG_ACC(5, c50, c51);
#undef CG_ACC
}
#else
static void ukr_6x16(int kc, const float *x0, const float *x1, const float *x2, const float *x3,
                     const float *x4, const float *x5, const float *g, float *c, size_t ldc)
{
    (void)kc; (void)x0; (void)x1; (void)x2; (void)x3; (void)x4; (void)x5; (void)g; (void)c; (void)ldc;
}
#endif

typedef struct {
    const tn_conv_shape *s;
    const float *gy;
    float *gt;
} gt_job;

/* gt[jc][b][q][c] = gy[16 jc + c][b][oy][ox] on the padded grid q = oy * wp + ox,
 * zero for ox >= ow and for channels past cout; one (panel, image) per index. */
static void transpose_part(void *p, int lo, int hi)
{
    const gt_job *j = p;
    const tn_conv_shape *s = j->s;
    const int wp = direct_geom(s).wq;
    const size_t ohw = (size_t)s->oh * s->ow, nohw = ohw * s->n, grid = bf_grid(s);
    for (int t = lo; t < hi; t++) {
        const int jc = t / s->n, b = t % s->n, nc = s->cout - jc * FC < FC ? s->cout - jc * FC : FC;
        float *d = j->gt + (size_t)t * grid * FC;
        memset(d, 0, sizeof(float) * grid * FC);
        for (int c = 0; c < nc; c++) {
            const float *src = j->gy + (size_t)(jc * FC + c) * nohw + (size_t)b * ohw;
            for (int oy = 0; oy < s->oh; oy++)
                for (int ox = 0; ox < s->ow; ox++) d[((size_t)oy * wp + ox) * FC + c] = src[(size_t)oy * s->ow + ox];
        }
    }
}

typedef struct {
    const tn_conv_shape *s;
    const float *xp, *gt;
    const int *off;
    float *acc;
    int parts;
} bf_job;

static void bf_part(void *p, int lo, int hi)
{
    const bf_job *j = p;
    const tn_conv_shape *s = j->s;
    dgeom g = direct_geom(s);
    const size_t K6 = round_up(krows(s), FR), cp = bf_cp(s), ldc = cp * FC, grid = bf_grid(s);
    float *acc = j->acc + (size_t)lo * bf_acc_floats(s);
    /* One call may cover several parts (cpu_parallel runs them inline when it gets
     * fewer workers than parts): their images all go into part lo's sums, but bf_run
     * adds every part's partials, so the others must be zero, not stale workspace. */
    memset(acc, 0, sizeof(float) * bf_acc_floats(s) * (size_t)(hi - lo));
    for (int b = s->n * lo / j->parts; b < s->n * hi / j->parts; b++)
        for (size_t q0 = 0; q0 < grid; q0 += QC) {
            const int kc = (int)(grid - q0 < QC ? grid - q0 : QC);
            const float *xb = j->xp + (size_t)b * g.plane + q0;
            for (size_t jc = 0; jc < cp; jc++) {
                const float *gp = j->gt + ((jc * s->n + (size_t)b) * grid + q0) * FC;
                for (size_t i = 0; i < K6; i += FR) {
                    const int *o = j->off + i;
                    ukr_6x16(kc, xb + o[0], xb + o[1], xb + o[2], xb + o[3], xb + o[4], xb + o[5], gp,
                             acc + i * ldc + jc * FC, ldc);
                }
            }
        }
}

static int bf_run(const tn_conv_shape *s, const float *x, const float *gy, float *gw, int accumulate, float *ws)
{
    dgeom g = direct_geom(s);
    int p = cpu_kernel_threads();
    if (p > s->n) p = s->n;
    if (p < 1) p = 1;
    const size_t K = krows(s), K6 = round_up(K, FR), ldc = bf_cp(s) * FC;
    float *xp = ws, *gt = xp + g.plane * s->cin * s->n;
    int *off = (int *)(gt + bf_cp(s) * FC * s->n * bf_grid(s));
    float *acc = (float *)(off + K6);
    fill_offsets(s, off, K6);
    pad_job pj = {s, x, xp};
    cpu_parallel(s->cin * s->n, g.plane * s->cin * s->n, pad_part, &pj);
    gt_job tj = {s, gy, gt};
    cpu_parallel((int)bf_cp(s) * s->n, bf_cp(s) * FC * s->n * bf_grid(s), transpose_part, &tj);
    bf_job j = {.s = s, .xp = xp, .gt = gt, .off = off, .acc = acc, .parts = p};
    cpu_parallel(p, (size_t)1 << 30, bf_part, &j);
    for (int co = 0; co < s->cout; co++)
        for (size_t kk = 0; kk < K; kk++) {
            float v = accumulate ? gw[(size_t)co * K + kk] : 0.f;
            for (int t = 0; t < p; t++) v += acc[(size_t)t * bf_acc_floats(s) + kk * ldc + co];
            gw[(size_t)co * K + kk] = v;
        }
    return 0;
}

int cpu_gconv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, int accumulate,
                         float *ws, size_t ws_floats)
{
    if (!have_avx2() || !direct_ok(s) || bf_ws(s, cpu_kernel_threads()) > ws_floats) return -1;
    return bf_run(s, x, gy, gw, accumulate, ws);
}

int cpu_gconv_fwd(const tn_conv_shape *s, const float *x, const float *w, float *y, float *ws, size_t ws_floats)
{
    if (level() != CPU_GCONV_ALL || !direct_ok(s) || direct_ws(s, cpu_kernel_threads()) > ws_floats) return -1;
    pack_weights(s, w, ws);
    return direct_run(s, x, y, 0, ws, ws_floats);
}

int cpu_gconv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                       size_t ws_floats)
{
    tn_conv_shape f;
    if (!have_avx2() || !flipped_shape(s, &f) || !direct_ok(&f) || direct_ws(&f, cpu_kernel_threads()) > ws_floats)
        return -1;
    pack_flipped(s, w, ws);
    return direct_run(&f, gy, gx, 1, ws, ws_floats);
}
