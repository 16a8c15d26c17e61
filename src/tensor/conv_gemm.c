/* conv_gemm.c -- an AVX2/FMA implicit-GEMM path for convolutions that need im2col
 * (groups = 1).  OpenBLAS repacks the weights for every row tile, zeroes C in a
 * separate pass and packs the column tile once more after our im2col; on the small
 * output-channel counts of YOLOv5 (16..256 rows) those copies and its kernel's
 * row-edge handling cost a third of the GEMM time.  Here the weights are packed once
 * per call into 4-row panels, im2col writes straight into 24-column packed panels,
 * and a 4x24 register-blocked micro-kernel accumulates into the output.  Backward-
 * data of a stride-1 convolution is the same forward pass over the output gradient
 * with the filters transposed and flipped, accumulating into the input gradient, so
 * it needs no col2im either.  Everything is chosen at run time: without AVX2/FMA,
 * for groups > 1 or too small a workspace the callers fall back to OpenBLAS.
 *
 * defines: cpu_gconv_ws, cpu_gconv_fwd, cpu_gconv_bwd_data, cpu_gconv_enable */
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
    KC_MAX = 192  /* depth of one micro-kernel call: a 24-column B slice (18 KB) stays in L1 */
};

/* Target floats of packed columns per row tile (256 KB). */
#define TILE_TARGET ((size_t)64 << 10)

static size_t krows(const tn_conv_shape *s) { return (size_t)s->cin * s->k * s->k; }
static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

/* Output positions per tile: whole NR panels, about TILE_TARGET packed floats.
 * Tiles run over the flattened (image, row, column) positions of the whole batch,
 * which are contiguous in a CNHW output row, so only the last tile is partial. */
static size_t tile_len(const tn_conv_shape *s)
{
    size_t l = TILE_TARGET / krows(s) / NR * NR;
    return l < NR ? NR : l;
}

static size_t tile_floats(const tn_conv_shape *s)
{
    return krows(s) * tile_len(s);
}

static size_t ntiles(const tn_conv_shape *s)
{
    return ((size_t)s->n * s->oh * s->ow + tile_len(s) - 1) / tile_len(s);
}

static size_t apack_floats(const tn_conv_shape *s)
{
    return round_up((size_t)s->cout, MR) * krows(s);
}

/* Gather offsets are 32-bit: one input channel of the batch must have fewer than 2^30
 * values.  With very few input channels (the 3-channel stem) the per-tap offset set-up
 * is not amortised and OpenBLAS is faster. */
static int usable(const tn_conv_shape *s)
{
    return s->groups == 1 && s->cin >= 8 && s->ow > 0 && s->oh > 0 &&
           (size_t)s->n * s->h * s->w < ((size_t)1 << 30);
}

static size_t shape_ws(const tn_conv_shape *s, int threads)
{
    size_t p = (size_t)(threads < 1 ? 1 : threads);
    return apack_floats(s) + (p < ntiles(s) ? p : ntiles(s)) * tile_floats(s);
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

/* -1: not decided yet; set by cpu_gconv_enable or on first use. */
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

static int have_avx2(void)
{
    if (enabled < 0) {
        const char *e = getenv("DYOLO_CONV_GEMM"); /* "blas": OpenBLAS only, for A/B runs */
        enabled = cpu_ok() && !(e && !strcmp(e, "blas"));
    }
    return enabled;
}

int cpu_gconv_enable(int on)
{
    enabled = on && cpu_ok();
    return enabled;
}

static size_t direct_ws(const tn_conv_shape *s, int threads);
static int direct_ok(const tn_conv_shape *s);

/* The largest of what forward and backward-data need, counting the padded-input
 * variant only where it fits under cap_floats (the gathered one is the fallback). */
size_t cpu_gconv_ws(const tn_conv_shape *s, int threads, size_t cap_floats)
{
    if (!have_avx2() || !usable(s)) return 0;
    size_t ws = shape_ws(s, threads), d;
    if (direct_ok(s) && (d = direct_ws(s, threads)) <= cap_floats && d > ws) ws = d;
    tn_conv_shape f;
    if (flipped_shape(s, &f) && usable(&f)) {
        size_t wf = shape_ws(&f, threads);
        if (wf > ws) ws = wf;
        if (direct_ok(&f) && (d = direct_ws(&f, threads)) <= cap_floats && d > ws) ws = d;
    }
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

#ifdef CG_X86
/* Column-matrix panel j of a tile: for every kernel tap the 24 source offsets (within
 * one input channel of the batch) are computed once and reused for all channels;
 * runs inside one input row become three plain loads, the rest (row ends, padding,
 * stride 2) a masked gather, which reads zero where the tap falls outside the input. */
AVX2 static void pack_panel(const tn_conv_shape *s, const float *x, size_t q, int n, float *bp)
{
    const int k = s->k, st = s->stride, ow = s->ow;
    const size_t hw = (size_t)s->h * s->w, ohw = (size_t)s->oh * ow, plane = hw * s->n;
    int base[NR], iy0[NR], ix0[NR];
    for (int c = 0; c < NR; c++, q++) {
        size_t r = q % ohw;
        base[c] = (int)(q / ohw * hw);
        iy0[c] = c < n ? (int)(r / (size_t)ow) * st - s->pad : -(1 << 20);
        ix0[c] = (int)(r % (size_t)ow) * st - s->pad;
    }
    for (int ki = 0; ki < k; ki++)
        for (int kj = 0; kj < k; kj++) {
            int idx[NR], ok[NR], contiguous = 1;
            for (int c = 0; c < NR; c++) {
                int iy = iy0[c] + ki, ix = ix0[c] + kj;
                ok[c] = iy >= 0 && iy < s->h && ix >= 0 && ix < s->w ? -1 : 0;
                idx[c] = ok[c] ? base[c] + iy * s->w + ix : 0;
                contiguous &= ok[c] && idx[c] == idx[0] + c;
            }
            float *d = bp + (size_t)(ki * k + kj) * NR;
            const float *xc = x;
            if (contiguous) {
                for (int ci = 0; ci < s->cin; ci++, d += (size_t)k * k * NR, xc += plane) {
                    const float *src = xc + idx[0];
                    _mm256_storeu_ps(d, _mm256_loadu_ps(src));
                    _mm256_storeu_ps(d + 8, _mm256_loadu_ps(src + 8));
                    _mm256_storeu_ps(d + 16, _mm256_loadu_ps(src + 16));
                }
                continue;
            }
            __m256i i0 = _mm256_loadu_si256((const __m256i *)idx), i1 = _mm256_loadu_si256((const __m256i *)(idx + 8)),
                    i2 = _mm256_loadu_si256((const __m256i *)(idx + 16));
            __m256 m0 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)ok)),
                   m1 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(ok + 8))),
                   m2 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(ok + 16))), z = _mm256_setzero_ps();
            for (int ci = 0; ci < s->cin; ci++, d += (size_t)k * k * NR, xc += plane) {
                _mm256_storeu_ps(d, _mm256_mask_i32gather_ps(z, xc, i0, m0, 4));
                _mm256_storeu_ps(d + 8, _mm256_mask_i32gather_ps(z, xc, i1, m1, 4));
                _mm256_storeu_ps(d + 16, _mm256_mask_i32gather_ps(z, xc, i2, m2, 4));
            }
        }
}
#else
static void pack_panel(const tn_conv_shape *s, const float *x, size_t q, int n, float *bp)
{
    (void)s; (void)x; (void)q; (void)n; (void)bp; /* never called: have_avx2() is 0 */
}
#endif

/* im2col of batch positions [q0, q1) (q = (image * oh + oy) * ow + ox) into NR-column
 * panels bp[j][kk][c] (position q0 + j * NR + c), zero-padded to whole panels. */
static void pack_cols(const tn_conv_shape *s, const float *x, size_t q0, size_t q1, float *bp)
{
    const size_t K = krows(s);
    for (size_t q = q0; q < q1; q += NR, bp += K * NR)
        pack_panel(s, x, q, q1 - q < NR ? (int)(q1 - q) : NR, bp);
}

/* ---- micro-kernel and the tile GEMM ---- */
#ifdef CG_X86
/* c[4 x 24] (row stride ldc) = (load ? c : 0) + a[kc][4] * B, where row p of B
 * (24 floats) is b + 24 p (packed panel) or, when off is given, b + off[p] (a
 * padded input, see direct_part). */
AVX2 static inline __attribute__((always_inline)) void
ukr_body(int kc, const float *a, const float *b, const int *off, float *c, size_t ldc, int load)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    for (int p = 0; p < kc; p++, a += MR) {
        const float *bq = off ? b + off[p] : b + (size_t)p * NR;
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

AVX2 static void ukr_4x24(int kc, const float *a, const float *b, float *c, size_t ldc, int load)
{
    ukr_body(kc, a, b, NULL, c, ldc, load);
}

AVX2 static void ukr_4x24_off(int kc, const float *a, const float *b, const int *off, float *c, int load)
{
    ukr_body(kc, a, b, off, c, NR, load);
}
#else
/* never called: have_avx2() is 0 */
static void ukr_4x24(int kc, const float *a, const float *b, float *c, size_t ldc, int load)
{
    (void)kc; (void)a; (void)b; (void)c; (void)ldc; (void)load;
}

static void ukr_4x24_off(int kc, const float *a, const float *b, const int *off, float *c, int load)
{
    (void)kc; (void)a; (void)b; (void)off; (void)c; (void)load;
}
#endif

/* c[m x len] (row stride ldc) (+)= A * B over K from the packed panels. */
static void gemm_tile(int m, size_t K, const float *ap, const float *bp, int len, float *c, size_t ldc, int acc)
{
    const int npan = (len + NR - 1) / NR;
    const size_t nkb = (K + KC_MAX - 1) / KC_MAX, kc0 = (K + nkb - 1) / nkb;
    for (int j = 0; j < npan; j++) {
        const int nr = len - j * NR < NR ? len - j * NR : NR;
        for (size_t p0 = 0; p0 < K; p0 += kc0) {
            const int kc = (int)(K - p0 < kc0 ? K - p0 : kc0), load = acc || p0 > 0;
            const float *b = bp + ((size_t)j * K + p0) * NR;
            for (int i0 = 0; i0 < m; i0 += MR) {
                const float *a = ap + (size_t)i0 * K + p0 * MR;
                float *cc = c + (size_t)i0 * ldc + (size_t)j * NR;
                const int mr = m - i0 < MR ? m - i0 : MR;
                if (mr == MR && nr == NR) {
                    ukr_4x24(kc, a, b, cc, ldc, load);
                    continue;
                }
                float t[MR * NR];
                ukr_4x24(kc, a, b, t, NR, 0);
                for (int r = 0; r < mr; r++)
                    for (int q = 0; q < nr; q++) cc[r * ldc + q] = (load ? cc[r * ldc + q] : 0.f) + t[r * NR + q];
            }
        }
    }
}

/* ---- driver: images over threads, row tiles inside each image ---- */
typedef struct {
    const tn_conv_shape *s;
    const float *x, *ap;
    float *y, *tiles;
    int acc, parts;
} gjob;

static void gconv_part(void *p, int lo, int hi)
{
    const gjob *j = p;
    const tn_conv_shape *s = j->s;
    const size_t K = krows(s), nohw = (size_t)s->n * s->oh * s->ow, L = tile_len(s), nt = ntiles(s);
    float *bp = j->tiles + (size_t)lo * tile_floats(s); /* part lo's own tile buffer */
    for (size_t t = nt * (size_t)lo / (size_t)j->parts; t < nt * (size_t)hi / (size_t)j->parts; t++) {
        size_t q0 = t * L, q1 = q0 + L > nohw ? nohw : q0 + L;
        pack_cols(s, j->x, q0, q1, bp);
        gemm_tile(s->cout, K, j->ap, bp, (int)(q1 - q0), j->y + q0, nohw, j->acc);
    }
}

static int run(const tn_conv_shape *s, const float *x, const float *ap, float *y, int acc, float *ws,
               size_t ws_floats)
{
    int p = cpu_kernel_threads();
    if ((size_t)p > ntiles(s)) p = (int)ntiles(s);
    if (p < 1) p = 1;
    while (p > 1 && apack_floats(s) + (size_t)p * tile_floats(s) > ws_floats) p--;
    if (apack_floats(s) + tile_floats(s) > ws_floats) return -1;
    gjob j = {.s = s, .x = x, .ap = ap, .y = y, .tiles = ws + apack_floats(s), .acc = acc, .parts = p};
    cpu_parallel(p, (size_t)1 << 30, gconv_part, &j);
    return 0;
}

/* ---- stride 1 without im2col ----
 * The input is copied once into zero-padded planes of width wp = w + 2 pad.  On the
 * output grid q = oy * wp + ox (ox < wp), tap (ki, kj) of channel ci reads the padded
 * plane at q + ki * wp + kj: every row of the column matrix is a contiguous run of
 * the padded input, so the micro-kernel loads it in place through a table of K
 * offsets.  Grid columns ox >= ow are computed and dropped (2 pad / wp of the work). */
typedef struct {
    const tn_conv_shape *s;
    int wp;
    size_t plane; /* floats per padded plane, with slack for the last panel's reads */
} dgeom;

static dgeom direct_geom(const tn_conv_shape *s)
{
    dgeom g = {.s = s, .wp = s->w + 2 * s->pad};
    g.plane = (size_t)(s->h + 2 * s->pad) * g.wp + NR + s->k;
    return g;
}

static size_t grid_panels(const tn_conv_shape *s)
{
    return ((size_t)s->oh * (s->w + 2 * s->pad) + NR - 1) / NR;
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
           g.plane * s->cin * s->n < ((size_t)1 << 30) && s->oh == s->h + 2 * s->pad - s->k + 1;
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
        memset(d, 0, sizeof(float) * ((size_t)pd * g.wp + pd));
        for (int y = 0; y < s->h; y++) {
            float *row = d + (size_t)(y + pd) * g.wp + pd;
            memcpy(row, src + (size_t)y * s->w, sizeof(float) * (size_t)s->w);
            memset(row + s->w, 0, sizeof(float) * (size_t)(2 * pd)); /* right pad + next left pad */
        }
        size_t used = (size_t)(s->h + pd) * g.wp + pd;
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
        int seg_c[NR], seg_d[NR], seg_n[NR], nseg = 0, oy = (int)(q0 / (size_t)g.wp), ox = (int)(q0 % (size_t)g.wp);
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
            if (++ox == g.wp) {
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
    for (int ci = 0; ci < s->cin; ci++)
        for (int ki = 0; ki < s->k; ki++)
            for (int kj = 0; kj < s->k; kj++)
                off[(ci * s->k + ki) * s->k + kj] = (int)((size_t)ci * s->n * g.plane + (size_t)ki * g.wp + kj);
    pad_job pj = {s, x, xp};
    cpu_parallel(s->cin * s->n, g.plane * s->cin * s->n, pad_part, &pj);
    djob j = {.s = s, .ap = ws, .xp = xp, .off = off, .y = y, .cbuf = xp + g.plane * s->cin * s->n, .acc = acc,
              .parts = p};
    cpu_parallel(p, (size_t)1 << 30, direct_part, &j);
    return 0;
}

static int fits(const tn_conv_shape *s, size_t ws_floats)
{
    return have_avx2() && usable(s) && apack_floats(s) + tile_floats(s) <= ws_floats;
}

int cpu_gconv_fwd(const tn_conv_shape *s, const float *x, const float *w, float *y, float *ws, size_t ws_floats)
{
    if (have_avx2() && direct_ok(s) && direct_ws(s, cpu_kernel_threads()) <= ws_floats) {
        pack_weights(s, w, ws);
        return direct_run(s, x, y, 0, ws, ws_floats);
    }
    if (!fits(s, ws_floats)) return -1;
    pack_weights(s, w, ws);
    return run(s, x, ws, y, 0, ws, ws_floats);
}

int cpu_gconv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                       size_t ws_floats)
{
    tn_conv_shape f;
    if (!flipped_shape(s, &f)) return -1;
    if (have_avx2() && direct_ok(&f) && direct_ws(&f, cpu_kernel_threads()) <= ws_floats) {
        pack_flipped(s, w, ws);
        return direct_run(&f, gy, gx, 1, ws, ws_floats);
    }
    if (!fits(&f, ws_floats)) return -1;
    pack_flipped(s, w, ws);
    return run(&f, gy, ws, gx, 1, ws, ws_floats);
}
