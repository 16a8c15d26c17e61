/* conv_gemm.c -- an AVX2/FMA implicit-GEMM path for the convolutions that need
 * im2col (3x3 at stride 1 and 2 and the 6x6 stride-2 stem in YOLOv5; groups = 1, at
 * least 72 column rows).  The OpenBLAS path (conv_tiled.c) writes an im2col tile,
 * which OpenBLAS packs once more, repacks the weights for every tile, zeroes C in a
 * separate pass, and for backward-data scatters the columns back with col2im; on the
 * small channel counts of YOLOv5 (16..256) those copies cost as much as the multiply.
 * Here each band of an image is copied once into zero-padded (at stride 2: phase-
 * split) planes that stay in L2 and are read in place by the micro-kernels (see
 * "convolutions without im2col" below): forward packs the weights once per call into
 * 4-row panels and runs a 4x24 register-blocked kernel; backward-data at stride 1 is
 * the same forward pass over the output gradient with the filters transposed and
 * flipped, at stride 2 four such passes, one per phase of the input gradient;
 * backward-filter runs a 6x16 kernel over a transposed copy of the output gradient.
 * On by default (DYOLO_CONV_GEMM, see cpu_gconv_enable in cpu_kernels.h); without
 * AVX2/FMA, for other shapes or too small a workspace the callers use OpenBLAS.
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

/* The level in use: all, unless DYOLO_CONV_GEMM=off or =backward is in the
 * environment (A/B benchmarks against OpenBLAS). */
static int level(void)
{
    if (enabled < 0) {
        const char *e = getenv("DYOLO_CONV_GEMM");
        int want = !e ? CPU_GCONV_ALL : !strcmp(e, "off") ? CPU_GCONV_OFF
                                    : !strcmp(e, "backward") ? CPU_GCONV_BACKWARD : CPU_GCONV_ALL;
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
static int phase_shape(const tn_conv_shape *s, tn_conv_shape *f);
static size_t phase_ws(const tn_conv_shape *o, const tn_conv_shape *f, int threads);

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
    if (phase_shape(s, &f) && (d = phase_ws(s, &f, threads)) <= cap_floats && d > ws) ws = d;
    return ws;
}

/* ---- packing ---- */

/* Packing runs on all threads (cpu_parallel over panels of MR rows): alone it was a
 * serial stretch of every call, as long as the weights of the layer are. */
typedef struct {
    const tn_conv_shape *s;
    const float *w;
    float *ap;
} pack_job;

/* A panels of MR rows: ap[i][p][r] = w[(MR i + r) * K + p], zero past the last row. */
static void pack_weights_part(void *p, int lo, int hi)
{
    const pack_job *j = p;
    const tn_conv_shape *s = j->s;
    const size_t K = krows(s);
    for (int i0 = lo * MR; i0 < hi * MR; i0 += MR)
        for (int r = 0; r < MR; r++) {
            const float *row = i0 + r < s->cout ? j->w + (size_t)(i0 + r) * K : NULL;
            float *ap = j->ap + (size_t)i0 * K;
            for (size_t q = 0; q < K; q++) ap[q * MR + r] = row ? row[q] : 0.f;
        }
}

static void pack_weights(const tn_conv_shape *s, const float *w, float *ap)
{
    pack_job j = {s, w, ap};
    cpu_parallel((s->cout + MR - 1) / MR, apack_floats(s), pack_weights_part, &j);
}

/* The same for the flipped, transposed filters of backward-data: row ci, column
 * (co, ki, kj) holds w[co][ci][k-1-ki][k-1-kj]; s is the original shape. */
static void pack_flipped_part(void *p, int lo, int hi)
{
    const pack_job *j = p;
    const tn_conv_shape *o = j->s;
    const int kk = o->k * o->k;
    const size_t K = (size_t)o->cout * kk;
    for (int i0 = lo * MR; i0 < hi * MR; i0 += MR)
        for (int r = 0; r < MR; r++) {
            const int ci = i0 + r;
            float *ap = j->ap + (size_t)i0 * K;
            for (int co = 0; co < o->cout; co++)
                for (int t = 0; t < kk; t++)
                    ap[((size_t)co * kk + t) * MR + r] =
                        ci < o->cin ? j->w[((size_t)co * o->cin + ci) * kk + (kk - 1 - t)] : 0.f;
        }
}

static void pack_flipped(const tn_conv_shape *o, const float *w, float *ap)
{
    pack_job j = {o, w, ap};
    cpu_parallel((o->cin + MR - 1) / MR, round_up((size_t)o->cin, MR) * o->cout * o->k * o->k, pack_flipped_part, &j);
}

/* ---- micro-kernel and the tile GEMM ---- */
#ifdef CG_X86
/* c[4 x 24] (row stride ldc) = (load ? c : 0) + a[kc][4] * B, where row p of B is
 * the 24 floats at b + off[p] (the padded input, see direct_part). */
AVX2 static void ukr_4x24_off(int kc, const float *a, const float *b, const int *off, float *c, size_t ldc,
                              int load)
{
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
static void ukr_4x24_off(int kc, const float *a, const float *b, const int *off, float *c, size_t ldc, int load)
{
    (void)kc; (void)a; (void)b; (void)off; (void)c; (void)ldc; (void)load;
}
#endif

/* ---- convolutions without im2col ----
 * Each image is copied into zero-padded planes, split by stride phase: at stride st,
 * phase (py, px) of channel ci holds padded pixel (st r + py, st c + px) at (r, c),
 * in planes of width wq = ceil((w + 2 pad) / st) (w + pad at stride 1, see
 * direct_geom).  On the output grid q = oy * wq + ox
 * (ox < wq), tap (ki, kj) of channel ci then reads phase (ki % st, kj % st) at
 * q + (ki / st) * wq + kj / st: every row of the column matrix is a contiguous run of
 * that copy, so the micro-kernels load it in place through a table of K offsets.
 * Grid columns ox >= ow are computed and dropped (a few columns of wq).  The copy is
 * made per image, by the thread that then runs all of that image's panels, so the
 * planes are read from that core's L2 rather than from memory; padding the whole
 * batch first left 40% of a core's peak on the 80 x 80 maps. */
typedef struct {
    int wq, hq, rows; /* phase plane width and height; output rows per band */
    size_t plane;     /* floats per (channel, phase) of a band, with slack for the last panel's reads */
} dgeom;

/* A band's copy is at most about this many floats (256 KB: half of a Zen core's L2),
 * unless that leaves fewer than 4 output rows. */
enum { BAND_FLOATS = 64 << 10 };

static dgeom direct_geom(const tn_conv_shape *s)
{
    const int st = s->stride, halo = (s->k - 1) / st;
    /* At stride 1 a row's right padding is the next row's left padding (rows of pad
     * zeros then w pixels): one dropped grid column per row instead of two. */
    dgeom g = {.wq = st == 1 ? s->w + s->pad : (s->w + 2 * s->pad + st - 1) / st,
               .hq = (s->h + 2 * s->pad + st - 1) / st};
    const size_t per_row = (size_t)s->cin * st * st * (size_t)g.wq;
    long rows = (long)(BAND_FLOATS / per_row) - halo;
    if (rows < 4) rows = 4;
    g.rows = (int)(rows > s->oh ? s->oh : rows);
    g.plane = (size_t)(g.rows + halo) * g.wq + NR + s->k;
    return g;
}

static size_t band_floats(const tn_conv_shape *s)
{
    return (size_t)s->cin * s->stride * s->stride * direct_geom(s).plane;
}

/* output rows in the band starting at oy0, and its grid panels */
static int band_rows(const tn_conv_shape *s, int oy0)
{
    const int r = direct_geom(s).rows;
    return s->oh - oy0 < r ? s->oh - oy0 : r;
}

static size_t band_panels(const tn_conv_shape *s, int oy0)
{
    return ((size_t)band_rows(s, oy0) * direct_geom(s).wq + NR - 1) / NR;
}

/* off[kk] for the K rows of the column matrix (kk >= K: 0, a harmless valid read). */
static void fill_offsets(const tn_conv_shape *s, int *off, size_t count)
{
    dgeom g = direct_geom(s);
    const int st = s->stride;
    const size_t K = krows(s), kk2 = (size_t)s->k * s->k;
    for (size_t kk = 0; kk < count; kk++) {
        if (kk >= K) {
            off[kk] = 0;
            continue;
        }
        const int ci = (int)(kk / kk2), ki = (int)(kk % kk2) / s->k, kj = (int)(kk % kk2) % s->k;
        const size_t ph = (size_t)ci * st * st + (size_t)(ki % st) * st + (size_t)(kj % st);
        off[kk] = (int)(ph * g.plane + (size_t)(ki / st) * g.wq + (size_t)(kj / st));
    }
}

/* Grid panels computed together, one K block at a time, so that the block of packed
 * weights they share is read from L2 once for all of them: their C panels together
 * take about 128 KB.  (Panel by panel, the weights of a 128 -> 128 3x3, 590 KB,
 * streamed from L3 for every 24 outputs.) */
static size_t panel_group(const tn_conv_shape *s)
{
    size_t g = ((size_t)32 << 10) / (round_up((size_t)s->cout, MR) * NR);
    return g < 1 ? 1 : g > 16 ? 16 : g;
}

static size_t cbuf_floats(const tn_conv_shape *s)
{
    return panel_group(s) * round_up((size_t)s->cout, MR) * NR;
}

/* workspace: packed weights, K offsets, then per thread a padded band and C panels */
static size_t direct_part_floats(const tn_conv_shape *s)
{
    return band_floats(s) + 2 * cbuf_floats(s);
}

static size_t direct_ws(const tn_conv_shape *s, int threads)
{
    return apack_floats(s) + krows(s) + (size_t)(threads < 1 ? 1 : threads) * direct_part_floats(s);
}

/* Stride 1 or 2, at least 72 column rows (8 channels of a 3x3; the 3-channel 6x6
 * stem has 108); fewer leave the micro-kernel too little depth. */
static int direct_ok(const tn_conv_shape *s)
{
    return (s->stride == 1 || s->stride == 2) && s->groups == 1 && krows(s) >= 72 && s->pad <= s->k - 1 &&
           band_floats(s) < ((size_t)1 << 30) && s->oh > 0 && s->ow > 0;
}

#ifdef CG_X86
/* e[c] = t[2 c], o[c] = t[2 c + 1] for c < n (a multiple of 8). */
AVX2 static void deinterleave(const float *t, int n, float *e, float *o)
{
    for (int c = 0; c < n; c += 8, t += 16) {
        __m256 a = _mm256_loadu_ps(t), b = _mm256_loadu_ps(t + 8);
        __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        __m256 od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
        _mm256_storeu_ps(e + c, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xd8)));
        _mm256_storeu_ps(o + c, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xd8)));
    }
}
#else
static void deinterleave(const float *t, int n, float *e, float *o)
{
    for (int c = 0; c < n; c++) {
        e[c] = t[2 * c];
        o[c] = t[2 * c + 1];
    }
}
#endif

/* Phase rows (py, 0) and (py, 1) of one padded row at stride 2 (NULL src: a padding
 * row).  Padded column 2 c + p holds src[2 c + p - pad], so the even pixels of src
 * all land in one phase row and the odd ones in the other, each a run starting at a
 * fixed column: split straight from src (it is read from memory once, and no
 * temporary copy of the row is made), zeros elsewhere. */
static void pad_row_s2(const float *src, int w, int pad, int wq, float *e, float *o)
{
    memset(e, 0, sizeof(float) * (size_t)wq);
    memset(o, 0, sizeof(float) * (size_t)wq);
    if (!src) return;
    const int pe = pad & 1;                 /* phase of the even pixels */
    float *de = (pe ? o : e) + (pad - pe) / 2, *dd = (pe ? e : o) + (pad + pe) / 2;
    const int nv = w / 16 * 8;              /* pixel pairs split 8 at a time */
    deinterleave(src, nv, de, dd);
    for (int x = 2 * nv; x < w; x++) {
        if (x % 2) dd[x / 2] = src[x];
        else de[x / 2] = src[x];
    }
}

/* Software prefetches, in volatile asm: GCC deletes a call to a function that only
 * runs __builtin_prefetch or _mm_prefetch, as having no effect.  prefetch_line is
 * PREFETCHW (for lines about to be written; a no-op on cores without it). */
#ifdef CG_X86
static void prefetch_line(const float *p) { __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p)); }
static void prefetch_read(const float *p) { __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p)); }
#else
static void prefetch_line(const float *p) { (void)p; }
static void prefetch_read(const float *p) { (void)p; }
#endif

/* pad_band reads rows [lo, hi) (in floats) of each channel plane of an image, one
 * channel after the other; while it copies the n floats at `at` of channel ci this
 * asks for those AHEAD floats further on (in the next channel past hi).  The
 * hardware prefetcher loses the stream at every page and every channel: without
 * this the stride-2 copy of 16 channels at 160 px waited on memory for 17% of the
 * forward time. */
enum { AHEAD = 2048 };

static void prefetch_src(const tn_conv_shape *s, const float *x, int b, int ci, size_t lo, size_t hi, size_t at,
                         size_t n)
{
    size_t t = at + AHEAD;
    if (t >= hi) {
        if (++ci >= s->cin) return;
        t = lo + (t - hi);
        if (t >= hi) return;
    }
    const float *p = x + ((size_t)ci * s->n + b) * s->h * s->w + t;
    const size_t m = hi - t < n ? hi - t : n;
    for (size_t i = 0; i < m; i += 16) prefetch_read(p + i);
}

/* The padded, phase-split planes of the band of image b of x (layout [c][n][h][w])
 * whose output rows start at oy0: phase rows oy0 .. oy0 + rows + halo - 1, into d. */
static void pad_band(const tn_conv_shape *s, const float *x, int b, int oy0, float *d)
{
    dgeom g = direct_geom(s);
    const int st = s->stride, pd = s->pad, nr = g.rows + (s->k - 1) / st;
    const size_t hw = (size_t)nr * g.wq;
    /* the source rows of the band */
    const int ylo = st * oy0 - pd < 0 ? 0 : st * oy0 - pd, yhi = st * (oy0 + nr) - pd;
    const size_t lo = (size_t)ylo * s->w, hi = (size_t)(yhi < s->h ? yhi : s->h) * s->w;
    for (int ci = 0; ci < s->cin; ci++, d += (size_t)st * st * g.plane) {
        const float *src = x + ((size_t)ci * s->n + b) * s->h * s->w;
        /* rows in the order of the source (the hardware prefetcher follows it) */
        for (int r = 0; r < nr; r++)
            for (int py = 0; py < st; py++) {
                const int y = st * (oy0 + r) + py - pd;
                const float *sr = y < 0 || y >= s->h || oy0 + r >= g.hq ? NULL : src + (size_t)y * s->w;
                float *row = d + (size_t)py * st * g.plane + (size_t)r * g.wq;
                if (sr) prefetch_src(s, x, b, ci, lo, hi, (size_t)y * s->w, (size_t)s->w);
                if (st == 2) {
                    pad_row_s2(sr, s->w, pd, g.wq, row, row + g.plane);
                    continue;
                }
                memset(row, 0, sizeof(float) * (size_t)g.wq);
                if (sr) memcpy(row + pd, sr, sizeof(float) * (size_t)s->w);
            }
        for (int ph = 0; ph < st * st; ph++)
            memset(d + ph * g.plane + hw, 0, sizeof(float) * (g.plane - hw));
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

/* One GEMM over a band: packed weights, K offsets into the band, and for a phase pass
 * of stride-2 backward-data the phase it fills (passes (py, 0), (py, 1) adjacent). */
typedef struct {
    const float *ap;
    const int *off;
    size_t K;
    int py, px;
} dpass;

typedef struct {
    const tn_conv_shape *s, *o; /* o: the strided convolution of a phase pass, else NULL */
    const float *x;
    float *y, *buf;
    dpass pass[4];
    int npass, acc, parts, b, oy0; /* b, oy0: the band whose panels are split over the parts (direct_split) */
    size_t wq; /* direct_geom(s).wq, looked up once: it divides, and is needed per panel */
} djob;

#ifdef CG_X86
/* t[2 i] = a[i], t[2 i + 1] = b[i] for i < n (a multiple of 8). */
AVX2 static void interleave(const float *a, const float *b, int n, float *t)
{
    for (int i = 0; i < n; i += 8, t += 16) {
        const __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        const __m256 lo = _mm256_unpacklo_ps(va, vb), hi = _mm256_unpackhi_ps(va, vb);
        _mm256_storeu_ps(t, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(t + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
}
#else
static void interleave(const float *a, const float *b, int n, float *t)
{
    for (int i = 0; i < n; i++) {
        t[2 * i] = a[i];
        t[2 * i + 1] = b[i];
    }
}
#endif

#ifdef CG_X86
/* g[0 .. 2 NR) += ca and cb interleaved (ca[0], cb[0], ca[1], ...), in registers:
 * through a buffer on the stack, the unaligned reloads of what interleave had just
 * stored missed store-to-load forwarding and stalled for most of put_pair's time. */
AVX2 static void add_pair_run(const float *ca, const float *cb, float *g)
{
    for (int i = 0; i < NR; i += 8, g += 16) {
        const __m256 va = _mm256_loadu_ps(ca + i), vb = _mm256_loadu_ps(cb + i);
        const __m256 lo = _mm256_unpacklo_ps(va, vb), hi = _mm256_unpackhi_ps(va, vb);
        _mm256_storeu_ps(g, _mm256_add_ps(_mm256_loadu_ps(g), _mm256_permute2f128_ps(lo, hi, 0x20)));
        _mm256_storeu_ps(g + 8, _mm256_add_ps(_mm256_loadu_ps(g + 8), _mm256_permute2f128_ps(lo, hi, 0x31)));
    }
}
#else
static void add_pair_run(const float *ca, const float *cb, float *g)
{
    for (int i = 0; i < NR; i++) {
        g[2 * i] += ca[i];
        g[2 * i + 1] += cb[i];
    }
}
#endif

/* put_pair's common case: the panel's 24 grid columns are valid columns of one row,
 * i.e. 48 consecutive pixels of gx, added in registers; returns 0 otherwise. */
static int put_pair_whole(const djob *j, int py, size_t b, int oy0, int rows, size_t q0, const float *ca,
                          const float *cb)
{
    const tn_conv_shape *o = j->o;
    const int oy = (int)(q0 / j->wq), ox = (int)(q0 % j->wq);
    const int y = 2 * (oy0 + oy) + py - o->pad, x = 2 * ox - o->pad;
    if (oy >= rows || ox + NR > j->s->ow || y < 0 || y >= o->h || x < 0 || x + 2 * NR > o->w) return 0;
    const size_t plane = (size_t)o->h * o->w;
    for (int ci = 0; ci < o->cin; ci++, ca += NR, cb += NR)
        add_pair_run(ca, cb, j->y + ((size_t)ci * o->n + b) * plane + (size_t)y * o->w + x);
    return 1;
}

/* Phase passes (py, 0) and (py, 1) of stride-2 backward-data: their C panels at grid
 * column q0 of a band, ca and cb, hold input-gradient pixels (2 r + py - pad,
 * 2 c + px - pad) for px = 0, 1, i.e. together whole runs of a row: interleaved,
 * they are added to j->y like any output panel, each pixel once. */
static void put_pair(const djob *j, int py, size_t b, int oy0, int rows, size_t q0, const float *ca, const float *cb)
{
    const tn_conv_shape *f = j->s, *o = j->o;
    const int wq = (int)j->wq;
    if (put_pair_whole(j, py, b, oy0, rows, q0, ca, cb)) return;
    int seg_c[2 * NR], seg_d[2 * NR], seg_n[2 * NR], nseg = 0;
    for (int c = 0; c < 2 * NR; c++) {
        const int oy = (int)((q0 + (size_t)c / 2) / (size_t)wq), ox = (int)((q0 + (size_t)c / 2) % (size_t)wq);
        const int y = 2 * (oy0 + oy) + py - o->pad, x = 2 * ox + c % 2 - o->pad;
        if (oy >= rows || ox >= f->ow || y < 0 || y >= o->h || x < 0 || x >= o->w) continue;
        const int d = y * o->w + x;
        if (nseg && seg_c[nseg - 1] + seg_n[nseg - 1] == c && seg_d[nseg - 1] + seg_n[nseg - 1] == d)
            seg_n[nseg - 1]++;
        else {
            seg_c[nseg] = c;
            seg_d[nseg] = d;
            seg_n[nseg++] = 1;
        }
    }
    /* 32 channels interleaved before any is added, so that the (unaligned) reloads
     * come long after the stores (see add_pair_run) */
    enum { CH = 32 };
    float t[CH][2 * NR];
    const size_t plane = (size_t)o->h * o->w;
    for (int c0 = 0; c0 < o->cin; c0 += CH) {
        const int nc = o->cin - c0 < CH ? o->cin - c0 : CH;
        for (int c = 0; c < nc; c++) interleave(ca + (size_t)(c0 + c) * NR, cb + (size_t)(c0 + c) * NR, NR, t[c]);
        for (int c = 0; c < nc; c++) {
            float *g = j->y + ((size_t)(c0 + c) * o->n + b) * plane;
            for (int e = 0; e < nseg; e++) put_cols(t[c] + seg_c[e], 1, g + seg_d[e], 0, seg_n[e], 1);
        }
    }
}

/* Writes the valid columns of the C panel at grid column q0 of a band into y. */
static void put_panel(const djob *j, size_t b, int oy0, int rows, size_t q0, const float *cb)
{
    const tn_conv_shape *s = j->s;
    const size_t ohw = (size_t)s->oh * s->ow, nohw = ohw * s->n;
    /* the valid grid columns form at most a few runs of consecutive outputs */
    int seg_c[NR], seg_d[NR], seg_n[NR], nseg = 0, oy = (int)(q0 / j->wq), ox = (int)(q0 % j->wq);
    for (int c = 0; c < NR; c++) {
        if (oy < rows && ox < s->ow) {
            if (nseg && seg_c[nseg - 1] + seg_n[nseg - 1] == c && seg_d[nseg - 1] + seg_n[nseg - 1] == oy * s->ow + ox)
                seg_n[nseg - 1]++;
            else {
                seg_c[nseg] = c;
                seg_d[nseg] = oy * s->ow + ox;
                seg_n[nseg++] = 1;
            }
        }
        if (++ox == (int)j->wq) {
            ox = 0;
            oy++;
        }
    }
    float *yb = j->y + b * ohw + (size_t)oy0 * s->ow;
    for (int e = 0; e < nseg; e++)
        put_cols(cb + seg_c[e], s->cout, yb + seg_d[e], nohw, seg_n[e], j->acc);
}

/* Where the micro-kernels write the panel at grid column q0 of a band: straight
 * into y (row stride: one channel plane) when its 24 columns are consecutive valid
 * outputs of one row and every row of the kernel is a channel of y, which saves a
 * pass through a C buffer (put_panel) on most panels of the wide maps; else NULL. */
static float *direct_dst(const djob *j, size_t b, int oy0, int rows, size_t q0)
{
    const tn_conv_shape *s = j->s;
    const size_t oy = q0 / j->wq, ox = q0 % j->wq;
    if (j->o || s->cout % MR || oy >= (size_t)rows || ox + NR > (size_t)s->ow) return NULL;
    return j->y + b * s->oh * s->ow + ((size_t)oy0 + oy) * s->ow + ox;
}

/* The panels of grid panels [tg, te) of a band (padded planes xp) for pass ps: into
 * y where direct_dst allows, else into their C panels in cb. */
static void direct_gemm(const djob *j, const dpass *ps, const float *xp, float *cb, size_t b, int oy0, size_t tg,
                        size_t te)
{
    const size_t K = ps->K, mp = round_up((size_t)j->s->cout, MR), nohw = (size_t)j->s->n * j->s->oh * j->s->ow;
    const size_t nkb = (K + KC_MAX - 1) / KC_MAX, kc0 = (K + nkb - 1) / nkb;
    const int rows = band_rows(j->s, oy0);
    for (size_t p0 = 0; p0 < K; p0 += kc0) {
        const int kc = (int)(K - p0 < kc0 ? K - p0 : kc0);
        for (size_t t = tg; t < te; t++) {
            float *y = direct_dst(j, b, oy0, rows, t * NR);
            for (size_t i0 = 0; i0 < mp; i0 += MR) {
                const float *a = ps->ap + i0 * K + p0 * MR;
                if (y) ukr_4x24_off(kc, a, xp + t * NR, ps->off + p0, y + i0 * nohw, nohw, p0 > 0 || j->acc);
                else ukr_4x24_off(kc, a, xp + t * NR, ps->off + p0, cb + ((t - tg) * mp + i0) * NR, NR, p0 > 0);
            }
        }
    }
}

/* Asks for the lines of y that grid panels [tg, te) of the band (b, oy0) will write
 * (whole output rows; for a phase pair, the rows of phase py), so that they arrive
 * from memory while the GEMM of those panels runs: y is read (to add into it) or
 * written once per call, and on the wide maps with few channels the misses on it
 * cost as much as a third of the time. */
static void prefetch_dst(const djob *j, size_t b, int oy0, int rows, int py, size_t tg, size_t te)
{
    const tn_conv_shape *s = j->s, *o = j->o;
    /* y's channels and planes: the input gradient of o for a phase pair, else s's output */
    const long ch = o ? o->cin : s->cout, h = o ? o->h : s->oh, w = o ? o->w : s->ow;
    const size_t wq = j->wq, ya = tg * NR / wq;
    const size_t yb = (te * NR - 1) / wq < (size_t)rows ? (te * NR - 1) / wq + 1 : (size_t)rows;
    for (long c = 0; c < ch; c++) {
        const float *base = j->y + ((size_t)c * s->n + b) * (size_t)(h * w);
        for (size_t r = ya; r < yb; r++) {
            const long y = o ? 2 * (oy0 + (long)r) + py - o->pad : oy0 + (long)r;
            if (y < 0 || y >= h) continue;
            for (long x = 0; x < w; x += 16) prefetch_line(base + y * w + x);
        }
    }
}

/* Grid panels [t0, t1) of the band of image b at output row oy0, whose padded
 * planes are xp, for every pass of the job (the phase passes two at a time, see
 * put_pair); cb holds two groups of C panels. */
static void direct_panels(const djob *j, size_t b, int oy0, const float *xp, float *cb, size_t t0, size_t t1)
{
    const size_t mp = round_up((size_t)j->s->cout, MR), pg = panel_group(j->s), half = cbuf_floats(j->s);
    const int rows = band_rows(j->s, oy0);
    for (int i = 0; i < j->npass; i += j->o ? 2 : 1)
        for (size_t tg = t0; tg < t1; tg += pg) {
            const size_t te = tg + pg < t1 ? tg + pg : t1;
            prefetch_dst(j, b, oy0, rows, j->pass[i].py, tg, te);
            direct_gemm(j, &j->pass[i], xp, cb, b, oy0, tg, te);
            if (j->o) direct_gemm(j, &j->pass[i + 1], xp, cb + half, b, oy0, tg, te);
            for (size_t t = tg; t < te; t++) {
                const float *c = cb + (t - tg) * mp * NR;
                if (j->o) put_pair(j, j->pass[i].py, b, oy0, rows, t * NR, c, c + half);
                else if (!direct_dst(j, b, oy0, rows, t * NR)) put_panel(j, b, oy0, rows, t * NR, c);
            }
        }
}

/* Parts [lo, hi) of the images: each part pads its images into its own buffer. */
static void direct_images(void *p, int lo, int hi)
{
    const djob *j = p;
    const tn_conv_shape *s = j->s;
    for (int part = lo; part < hi; part++) {
        float *xp = j->buf + (size_t)part * direct_part_floats(s), *cb = xp + band_floats(s);
        for (int b = s->n * part / j->parts; b < s->n * (part + 1) / j->parts; b++)
            for (int oy0 = 0; oy0 < s->oh; oy0 += direct_geom(s).rows) {
                pad_band(s, j->x, b, oy0, xp);
                direct_panels(j, (size_t)b, oy0, xp, cb, 0, band_panels(s, oy0));
            }
    }
}

/* Parts [lo, hi) of the panels of the band (j->b, j->oy0), padded at the start of buf. */
static void direct_split(void *p, int lo, int hi)
{
    const djob *j = p;
    const tn_conv_shape *s = j->s;
    const size_t np = band_panels(s, j->oy0);
    float *cb = j->buf + band_floats(s) + (size_t)lo * 2 * cbuf_floats(s);
    direct_panels(j, (size_t)j->b, j->oy0, j->buf, cb, np * (size_t)lo / (size_t)j->parts,
                  np * (size_t)hi / (size_t)j->parts);
}

/* ap already holds the packed weights at the start of ws.  Every output is computed
 * by the same kernel calls whatever the batch and threads (whole images per thread
 * when there are enough images, else one image at a time split by panels), so an
 * image's result does not depend on the batch it came in. */
static void direct_exec(djob *j)
{
    const tn_conv_shape *s = j->s;
    if (s->n >= j->parts) {
        cpu_parallel(j->parts, (size_t)1 << 30, direct_images, j);
        return;
    }
    for (j->b = 0; j->b < s->n; j->b++)
        for (j->oy0 = 0; j->oy0 < s->oh; j->oy0 += direct_geom(s).rows) {
            pad_band(s, j->x, j->b, j->oy0, j->buf);
            cpu_parallel(j->parts, (size_t)1 << 30, direct_split, j);
        }
}

static int direct_run(const tn_conv_shape *s, const float *x, float *y, int acc, float *ws, size_t ws_floats)
{
    int p = cpu_kernel_threads();
    if (p < 1) p = 1;
    if (direct_ws(s, p) > ws_floats) return -1;
    const size_t K = krows(s);
    int *off = (int *)(ws + apack_floats(s));
    fill_offsets(s, off, K);
    djob j = {.s = s, .x = x, .y = y, .buf = ws + apack_floats(s) + K, .pass = {{.ap = ws, .off = off, .K = K}},
              .npass = 1, .acc = acc, .parts = p, .wq = (size_t)direct_geom(s).wq};
    direct_exec(&j);
    return 0;
}

/* ---- backward-data at stride 2 ----
 * Input-gradient pixel (2 r + py, 2 c + px) of the padded input (phase (py, px), as
 * in the forward copy) only receives the taps ki = 2 a + py, kj = 2 b + px, from
 * gy[r - a][c - b]: per phase, a stride-1 correlation of gy with those taps (4, 2, 2
 * and 1 of a 3x3's 9), so no FLOP goes to the zeros a transposed convolution would
 * insert.  The four phases are four passes over each band of gy, padded once by
 * halo = (k - 1) / 2 (the forward geometry of phase_shape, whose (halo + 1)^2 kernel
 * holds every phase's taps); passes (py, 0) and (py, 1) run together and add their
 * interleaved outputs straight into gx. */
static int phase_shape(const tn_conv_shape *s, tn_conv_shape *f)
{
    const int halo = (s->k - 1) / 2;
    if (s->stride != 2 || s->groups != 1 || s->k > 7) return 0;
    *f = (tn_conv_shape){.n = s->n, .cin = s->cout, .h = s->oh, .w = s->ow, .cout = s->cin, .k = halo + 1,
                         .stride = 1, .pad = halo, .groups = 1};
    tn_conv_shape_init(f);
    dgeom g = direct_geom(s);
    return f->oh >= g.hq && f->ow >= g.wq && direct_ok(f);
}

/* workspace: every phase's packed weights and offsets (k^2 taps in all), then per
 * thread a band of f and its C panels; o is the strided shape */
static size_t phase_ws(const tn_conv_shape *o, const tn_conv_shape *f, int threads)
{
    const size_t kk = (size_t)o->k * o->k;
    return round_up((size_t)o->cin, MR) * o->cout * kk + o->cout * kk +
           (size_t)(threads < 1 ? 1 : threads) * direct_part_floats(f);
}

/* Offsets and packed weights (rows ci, columns (co, tap)) of phase (py, px) into ps;
 * returns the floats of ap used. */
static size_t phase_pack(const tn_conv_shape *s, const tn_conv_shape *f, const float *w, int *off, float *ap,
                         dpass *ps)
{
    dgeom g = direct_geom(f);
    const int halo = f->pad, kk = s->k * s->k;
    int ta[16], tb[16], nt = 0;
    for (int a = 0; 2 * a + ps->py < s->k; a++)
        for (int b = 0; 2 * b + ps->px < s->k; b++) {
            ta[nt] = a;
            tb[nt++] = b;
        }
    const size_t K = (size_t)s->cout * nt;
    for (int co = 0; co < s->cout; co++)
        for (int t = 0; t < nt; t++)
            off[co * nt + t] = (int)((size_t)co * g.plane + (size_t)(halo - ta[t]) * g.wq + (size_t)(halo - tb[t]));
    ps->ap = ap;
    ps->off = off;
    ps->K = K;
    for (int i0 = 0; i0 < s->cin; i0 += MR, ap += MR * K)
        for (int r = 0; r < MR; r++)
            for (int co = 0; co < s->cout; co++)
                for (int t = 0; t < nt; t++) {
                    const int ci = i0 + r, tap = (2 * ta[t] + ps->py) * s->k + 2 * tb[t] + ps->px;
                    ap[((size_t)co * nt + t) * MR + r] = ci < s->cin ? w[((size_t)co * s->cin + ci) * kk + tap] : 0.f;
                }
    return round_up((size_t)s->cin, MR) * K;
}

static int phase_run(const tn_conv_shape *s, const tn_conv_shape *f, const float *w, const float *gy, float *gx,
                     float *ws)
{
    int p = cpu_kernel_threads();
    if (p < 1) p = 1;
    const size_t kk = (size_t)s->k * s->k, apn = round_up((size_t)s->cin, MR) * s->cout * kk;
    int *off = (int *)(ws + apn);
    djob j = {.s = f, .o = s, .x = gy, .y = gx, .buf = ws + apn + s->cout * kk, .npass = 4, .parts = p,
              .wq = (size_t)direct_geom(f).wq};
    float *ap = ws;
    for (int ph = 0; ph < 4; ph++) {
        dpass *ps = &j.pass[ph];
        ps->py = ph / 2;
        ps->px = ph % 2;
        ap += phase_pack(s, f, w, off, ap, ps);
        off += ps->K;
    }
    direct_exec(&j);
    return 0;
}

/* ---- backward-filter ----
 * gw^T (K x cout) = X (K x grid) * gy^T (grid x cout), summed over the grid
 * positions of every image: row kk of X is again the padded (phase-split) input, read
 * in place at offset off[kk] from a per-thread copy of one band, gy is transposed once
 * into 16-channel panels with zeros in the dropped grid columns, and a 6x16
 * micro-kernel (6 taps x 16 output channels) accumulates per-thread partial sums that
 * are added into gw at the end. */
enum { FR = 6, FC = 16, QC = 256 };

static size_t bf_grid(const tn_conv_shape *s) { return (size_t)s->oh * direct_geom(s).wq; }
static size_t bf_cp(const tn_conv_shape *s) { return ((size_t)s->cout + FC - 1) / FC; }
static size_t bf_acc_floats(const tn_conv_shape *s) { return round_up(krows(s), FR) * bf_cp(s) * FC; }

/* workspace: transposed gy, K offsets, per-thread partial sums, per-thread image */
static size_t bf_ws(const tn_conv_shape *s, int threads)
{
    return bf_cp(s) * FC * s->n * bf_grid(s) + round_up(krows(s), FR) +
           (size_t)(threads < 1 ? 1 : threads) * (bf_acc_floats(s) + band_floats(s));
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

#ifdef CG_X86
/* d[i * FC + c] = src[c * lds + i] for an 8 x 8 block (c, i < 8). */
AVX2 static void transpose8(const float *src, size_t lds, float *d)
{
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
           r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds),
           r5 = _mm256_loadu_ps(src + 5 * lds), r6 = _mm256_loadu_ps(src + 6 * lds),
           r7 = _mm256_loadu_ps(src + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
           t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
           t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee),
           u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee),
           u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee),
           u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    _mm256_storeu_ps(d + 0 * FC, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(d + 1 * FC, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(d + 2 * FC, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(d + 3 * FC, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(d + 4 * FC, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(d + 5 * FC, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(d + 6 * FC, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(d + 7 * FC, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#else
static void transpose8(const float *src, size_t lds, float *d)
{
    for (int c = 0; c < 8; c++)
        for (int i = 0; i < 8; i++) d[i * FC + c] = src[(size_t)c * lds + i];
}
#endif

/* gt[jc][b][q][c] = gy[16 jc + c][b][oy][ox] on the padded grid q = oy * wp + ox,
 * zero for ox >= ow and for channels past cout; one (panel, image) per index.  Row
 * by row, in 8 x 8 blocks where 8 channels and 8 columns are there. */
static void transpose_part(void *p, int lo, int hi)
{
    const gt_job *j = p;
    const tn_conv_shape *s = j->s;
    const int wp = direct_geom(s).wq;
    const size_t ohw = (size_t)s->oh * s->ow, nohw = ohw * s->n;
    for (int t = lo; t < hi; t++) {
        const int jc = t / s->n, b = t % s->n, nc = s->cout - jc * FC < FC ? s->cout - jc * FC : FC;
        const float *src = j->gy + (size_t)jc * FC * nohw + (size_t)b * ohw;
        float *d = j->gt + (size_t)t * bf_grid(s) * FC;
        for (int oy = 0; oy < s->oh; oy++, d += (size_t)wp * FC) {
            const float *sr = src + (size_t)oy * s->ow;
            int ox = 0;
            if (nc == FC)
                for (; ox + 8 <= s->ow; ox += 8) {
                    transpose8(sr + ox, nohw, d + (size_t)ox * FC);
                    transpose8(sr + 8 * nohw + ox, nohw, d + (size_t)ox * FC + 8);
                }
            for (; ox < s->ow; ox++)
                for (int c = 0; c < FC; c++) d[(size_t)ox * FC + c] = c < nc ? sr[(size_t)c * nohw + ox] : 0.f;
            memset(d + (size_t)s->ow * FC, 0, sizeof(float) * (size_t)(wp - s->ow) * FC);
        }
    }
}

typedef struct {
    const tn_conv_shape *s;
    const float *x, *gt;
    const int *off;
    float *acc, *xp;
    int parts;
} bf_job;

static void bf_part(void *p, int lo, int hi)
{
    const bf_job *j = p;
    const tn_conv_shape *s = j->s;
    const size_t K6 = round_up(krows(s), FR), cp = bf_cp(s), ldc = cp * FC, grid = bf_grid(s);
    float *acc = j->acc + (size_t)lo * bf_acc_floats(s), *xp = j->xp + (size_t)lo * band_floats(s);
    const int wq = direct_geom(s).wq;
    /* One call may cover several parts (cpu_parallel runs them inline when it gets
     * fewer workers than parts): their images all go into part lo's sums, but bf_run
     * adds every part's partials, so the others must be zero, not stale workspace. */
    memset(acc, 0, sizeof(float) * bf_acc_floats(s) * (size_t)(hi - lo));
    for (int b = s->n * lo / j->parts; b < s->n * hi / j->parts; b++)
        for (int oy0 = 0; oy0 < s->oh; oy0 += direct_geom(s).rows) {
            pad_band(s, j->x, b, oy0, xp);
            const size_t bq = (size_t)band_rows(s, oy0) * wq, g0 = (size_t)oy0 * wq;
            for (size_t q0 = 0; q0 < bq; q0 += QC) {
                const int kc = (int)(bq - q0 < QC ? bq - q0 : QC);
                const float *xb = xp + q0;
                for (size_t jc = 0; jc < cp; jc++) {
                    const float *gp = j->gt + ((jc * s->n + (size_t)b) * grid + g0 + q0) * FC;
                    for (size_t i = 0; i < K6; i += FR) {
                        const int *o = j->off + i;
                        ukr_6x16(kc, xb + o[0], xb + o[1], xb + o[2], xb + o[3], xb + o[4], xb + o[5], gp,
                                 acc + i * ldc + jc * FC, ldc);
                    }
                }
            }
        }
}

typedef struct {
    const tn_conv_shape *s;
    const float *acc;
    float *gw;
    int parts, accumulate;
} bf_sum_job;

/* gw[co][kk] (+)= the parts' partial sums, for output channels [lo, hi) */
static void bf_sum_part(void *p, int lo, int hi)
{
    const bf_sum_job *j = p;
    const size_t K = krows(j->s), ldc = bf_cp(j->s) * FC, per = bf_acc_floats(j->s);
    for (int co = lo; co < hi; co++)
        for (size_t kk = 0; kk < K; kk++) {
            float v = j->accumulate ? j->gw[(size_t)co * K + kk] : 0.f;
            for (int t = 0; t < j->parts; t++) v += j->acc[(size_t)t * per + kk * ldc + co];
            j->gw[(size_t)co * K + kk] = v;
        }
}

static int bf_run(const tn_conv_shape *s, const float *x, const float *gy, float *gw, int accumulate, float *ws)
{
    int p = cpu_kernel_threads();
    if (p > s->n) p = s->n;
    if (p < 1) p = 1;
    const size_t K = krows(s), K6 = round_up(K, FR);
    float *gt = ws;
    int *off = (int *)(gt + bf_cp(s) * FC * s->n * bf_grid(s));
    float *acc = (float *)(off + K6), *xp = acc + (size_t)p * bf_acc_floats(s);
    fill_offsets(s, off, K6);
    gt_job tj = {s, gy, gt};
    cpu_parallel((int)bf_cp(s) * s->n, bf_cp(s) * FC * s->n * bf_grid(s), transpose_part, &tj);
    bf_job j = {.s = s, .x = x, .xp = xp, .gt = gt, .off = off, .acc = acc, .parts = p};
    cpu_parallel(p, (size_t)1 << 30, bf_part, &j);
    bf_sum_job sj = {s, acc, gw, p, accumulate};
    cpu_parallel(s->cout, (size_t)s->cout * K * p, bf_sum_part, &sj);
    return 0;
}

int cpu_gconv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, int accumulate,
                         float *ws, size_t ws_floats)
{
    if (!have_avx2() || !direct_ok(s) || bf_ws(s, cpu_kernel_threads()) > ws_floats) return -1;
    return bf_run(s, x, gy, gw, accumulate, ws);
}

/* Forward and backward-data at stride 2 drop 1 (forward) or 2 (phase passes) grid
 * columns per row of ow outputs, and their phase copies cost more than at stride 1:
 * below 32 outputs per row OpenBLAS was as fast or faster (on 1 thread, Zen: 64->128
 * from 40 x 40, forward 44 vs 50 GFLOP/s, backward-data 31 vs 50; from 80 x 80 and
 * 160 x 160 this path matched or won).  The choice depends on the shape alone, so an
 * image's result never depends on its batch.  Backward-filter wins at every size. */
static int wide_enough(const tn_conv_shape *s)
{
    return s->stride == 1 || s->ow >= 32;
}

int cpu_gconv_fwd(const tn_conv_shape *s, const float *x, const float *w, float *y, float *ws, size_t ws_floats)
{
    if (level() != CPU_GCONV_ALL || !direct_ok(s) || !wide_enough(s) || direct_ws(s, cpu_kernel_threads()) > ws_floats)
        return -1;
    pack_weights(s, w, ws);
    return direct_run(s, x, y, 0, ws, ws_floats);
}

int cpu_gconv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                       size_t ws_floats)
{
    tn_conv_shape f;
    if (!have_avx2()) return -1;
    if (phase_shape(s, &f) && direct_ok(s)) {
        if (!wide_enough(s)) return -1;
        if (phase_ws(s, &f, cpu_kernel_threads()) > ws_floats) return -1;
        return phase_run(s, &f, w, gy, gx, ws);
    }
    if (!flipped_shape(s, &f) || !direct_ok(&f) || direct_ws(&f, cpu_kernel_threads()) > ws_floats) return -1;
    pack_flipped(s, w, ws);
    return direct_run(&f, gy, gx, 1, ws, ws_floats);
}
