/* test_kernels_hd.c -- the CUDA kernels' arithmetic, run on the CPU: every TN_HD body
 * of src/tensor/kernels_hd.h is applied the way cuda/kernels.cu applies it (same
 * per-element indexing, the same chunked double reductions with their fixed tree
 * order) and compared with the CPU backend's op on realistic shapes: bit-exact where
 * the arithmetic is the same (binary16, pooling, upsample, u8 input, sigmoid,
 * optimizer/EMA/unscale passes, BN statistics finalisation), within a documented
 * tolerance where the CPU backend uses its AVX2 kernels (polynomial exp and FMA in
 * BN + SiLU) or sums in another order (double sums rounded to float).
 *
 * Also checks that opening the CUDA backend on a machine without a usable GPU fails
 * cleanly with DY_ENOGPU (DY_EUNSUPPORTED in a build without CUDA) and a reason. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/backend.h"
#include "tensor/kernels_hd.h"
#include "tests/tap.h"

/* count == 0, with a formatted name */
#define CHECK0(count, ...)                                                      \
    do {                                                                        \
        size_t c_ = (count);                                                    \
        if (!TAP_OK(c_ == 0, __VA_ARGS__)) tap_diag("%zu mismatches", c_);      \
    } while (0)

static const tn_backend *be;
static uint32_t rng = 12345u;

static float frand(void) /* uniform [-1, 1) */
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 8388608.0) - 1.0);
}

static float *fvec(size_t n, float scale, float offset)
{
    float *v = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) v[i] = offset + scale * frand();
    return v;
}

static int same_bits(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y;
}

/* Count of elements that differ in their bits; the first few are printed. */
static size_t bit_diffs(const float *got, const float *want, size_t n, const char *what)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!same_bits(got[i], want[i]) && bad++ < 3) tap_diag("%s[%zu]: got %.9g want %.9g", what, i, got[i], want[i]);
    return bad;
}

/* llm.c's rule |x - ref| <= atol + rtol |ref|; count of violations. */
static size_t near_diffs(const float *got, const float *want, size_t n, double atol, double rtol, const char *what)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= atol + rtol * fabs((double)want[i])) && bad++ < 3)
            tap_diag("%s[%zu]: got %.9g want %.9g", what, i, got[i], want[i]);
    return bad;
}

/* ---- the GPU's deterministic per-row reduction, simulated (kernels.cu: rr_chunks,
 * row_partial, block_sum, row_finish) for a GPU with `sms` multiprocessors ---- */
enum { THREADS = 256 };

static int sim_chunks(int rows, size_t m, int sms)
{
    size_t target = (size_t)sms * 8, c = (target + (size_t)rows - 1) / (size_t)rows;
    size_t maxc = (m + 4 * THREADS - 1) / (4 * THREADS);
    if (c > maxc) c = maxc;
    if (c > 4096) c = 4096;
    return c < 1 ? 1 : (int)c;
}

static double sim_tree(double *sh)
{
    for (int s = THREADS / 2; s > 0; s >>= 1)
        for (int t = 0; t < s; t++) sh[t] += sh[t + s];
    return sh[0];
}

/* f(i, &a, &b) adds element i's contributions; returns the row's two sums. */
typedef void (*elem_fn)(size_t i, double *a, double *b, void *ctx);

static void sim_row(size_t m, int chunks, elem_fn f, void *ctx, double *s0, double *s1)
{
    const size_t len = (m + (size_t)chunks - 1) / (size_t)chunks;
    double t0 = 0, t1 = 0, sh0[THREADS], sh1[THREADS];
    for (int j = 0; j < chunks; j++) {
        size_t lo = (size_t)j * len, hi = lo + len < m ? lo + len : m;
        for (int t = 0; t < THREADS; t++) {
            double a = 0, b = 0;
            for (size_t i = lo + (size_t)t; i < hi; i += THREADS) f(i, &a, &b, ctx);
            sh0[t] = a;
            sh1[t] = b;
        }
        t0 += sim_tree(sh0); /* row_finish adds the partials in chunk order */
        t1 += sim_tree(sh1);
    }
    *s0 = t0;
    *s1 = t1;
}

/* ---- binary16 ---- */

static void test_half(void)
{
    size_t bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float a = tn_hd_float_from_half((uint16_t)h), b = tn_float_from_half((uint16_t)h);
        if (!(same_bits(a, b) || (isnan(a) && isnan(b)))) bad++;
    }
    CHECK0(bad, "tn_hd_float_from_half == tn_float_from_half for all 65536 halves");
    bad = 0;
    for (uint64_t u = 0; u < 0x100000000ull; u += 977) { /* ~4.4M patterns incl. subnormals, NaN, Inf */
        float f;
        uint32_t x = (uint32_t)u;
        memcpy(&f, &x, 4);
        if (tn_hd_half_from_float(f) != tn_half_from_float(f) && bad++ < 3)
            tap_diag("0x%08x: hd 0x%04x cpu 0x%04x", x, tn_hd_half_from_float(f), tn_half_from_float(f));
    }
    const float edge[] = {0.f, -0.f, 65504.f, 65519.99f, 65520.f, 6.1035156e-05f, 6.0975552e-05f, 5.9604645e-08f,
                          2.9802322e-08f, 2.9802326e-08f, 1.f + 1.f / 2048, 1.f + 3.f / 2048, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) bad += tn_hd_half_from_float(edge[i]) != tn_half_from_float(edge[i]);
    CHECK0(bad, "tn_hd_half_from_float == tn_half_from_float (sweep and edges)");

    size_t n = 40000;
    float *x = fvec(n, 70000.f, 0.f), *r = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n);
    uint16_t *h = malloc(2 * n), *hw = malloc(2 * n);
    for (size_t i = 0; i < n; i += 7) x[i] *= 1e-6f; /* some subnormal halves */
    be->cast_f32_f16(n, x, hw);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += tn_hd_half_from_float(x[i]) != hw[i];
    CHECK0(bad, "cast_f32_f16: backend == tn_hd_half_from_float");
    be->cast_f16_f32(n, hw, want);
    for (size_t i = 0; i < n; i++) r[i] = tn_hd_float_from_half(hw[i]);
    CHECK0(bit_diffs(r, want, n, "f16->f32"), "cast_f16_f32: backend == tn_hd_float_from_half");
    memcpy(want, x, sizeof(float) * n);
    be->round_f16(n, want);
    for (size_t i = 0; i < n; i++) r[i] = tn_hd_round_f16(x[i]);
    CHECK0(bit_diffs(r, want, n, "round_f16"), "round_f16: backend == tn_hd_round_f16");
    free(x);
    free(r);
    free(want);
    free(h);
    free(hw);
}

/* ---- fused BN + SiLU ---- */

typedef struct {
    int c;
    size_t m;
    float *y, *gout, *gamma, *beta, *rm, *rv, *mean, *inv, *scratch;
} bn_case;

static bn_case bn_make(int c, size_t m)
{
    bn_case b = {.c = c, .m = m};
    b.y = malloc(sizeof(float) * c * m);
    for (int ch = 0; ch < c; ch++) /* each channel its own mean and spread, like conv outputs */
    {
        float mu = 2.f * frand(), sd = 0.2f + 1.5f * (frand() + 1.f);
        for (size_t i = 0; i < m; i++) b.y[ch * m + i] = mu + sd * frand();
    }
    b.gout = fvec((size_t)c * m, 0.05f, 0.f);
    b.gamma = fvec(c, 0.3f, 1.f);
    b.beta = fvec(c, 0.2f, 0.f);
    b.rm = fvec(c, 0.5f, 0.f);
    b.rv = fvec(c, 0.3f, 1.f);
    b.mean = calloc(c, sizeof(float));
    b.inv = calloc(c, sizeof(float));
    b.scratch = calloc(2 * (size_t)c + 1, sizeof(float));
    return b;
}

static void bn_free(bn_case *b)
{
    free(b->y), free(b->gout), free(b->gamma), free(b->beta), free(b->rm), free(b->rv);
    free(b->mean), free(b->inv), free(b->scratch);
}

static tn_bn_args bn_args(bn_case *b, int training, int act)
{
    tn_bn_args a = {.c = b->c, .m = b->m, .training = training, .act = act, .eps = 1e-3f, .momentum = 0.03f,
                    .gamma = b->gamma, .beta = b->beta, .run_mean = b->rm, .run_var = b->rv,
                    .mean = b->mean, .invstd = b->inv, .scratch = b->scratch};
    return a;
}

typedef struct {
    const float *y, *go;
    float *gz;
    float sc, sh, mu;
    int silu;
} bn_row_ctx;

static void stats_elem(size_t i, double *a, double *b, void *p)
{
    const bn_row_ctx *c = p;
    float v = c->y[i];
    *a += v;
    *b += (double)v * v;
}

static void bwd_elem(size_t i, double *a, double *b, void *p)
{
    bn_row_ctx *c = p;
    float v = c->y[i], g = tn_hd_bn_bwd_gz(v, c->go[i], c->sc, c->sh, c->silu);
    c->gz[i] = g;
    *a += g;
    *b += (double)g * (v - c->mu);
}

static void test_bn(int c, int n, int hw, int act)
{
    const size_t m = (size_t)n * hw * hw, cm = (size_t)c * m;
    const int sms = 132;
    bn_case b = bn_make(c, m);
    float *rm0 = malloc(sizeof(float) * c), *rv0 = malloc(sizeof(float) * c);
    memcpy(rm0, b.rm, sizeof(float) * c);
    memcpy(rv0, b.rv, sizeof(float) * c);
    float *out = malloc(sizeof(float) * cm), *gout_hd = malloc(sizeof(float) * cm);
    tn_bn_args a = bn_args(&b, 1, act);
    be->bn_act_fwd(&a, b.y, out);

    /* statistics: the GPU's chunked double sums, stored as float, vs the CPU scratch */
    float *scr = calloc(2 * (size_t)c + 1, sizeof(float));
    for (int ch = 0; ch < c; ch++) {
        bn_row_ctx ctx = {.y = b.y + ch * m};
        double s0, s1;
        sim_row(m, sim_chunks(c, m, sms), stats_elem, &ctx, &s0, &s1);
        scr[ch] = (float)s0;
        scr[c + ch] = (float)s1;
    }
    scr[2 * c] = (float)m;
    TAP_EQ_INT(same_bits(b.scratch[2 * c], (float)m), 1, "bn fwd: scratch[2c] holds the count (GPU mirrors)");
    CHECK0(near_diffs(scr, b.scratch, 2 * (size_t)c, 0, 1e-6, "bn sums"),
               "bn fwd c=%d m=%zu: chunked double sums == CPU scratch (rtol 1e-6)", c, m);

    /* finalisation on the CPU's own sums: the same arithmetic, bit-exact */
    float *mean = malloc(sizeof(float) * c), *inv = malloc(sizeof(float) * c);
    float *rm = malloc(sizeof(float) * c), *rv = malloc(sizeof(float) * c);
    memcpy(rm, rm0, sizeof(float) * c);
    memcpy(rv, rv0, sizeof(float) * c);
    for (int ch = 0; ch < c; ch++)
        tn_hd_bn_finalize(b.scratch[ch], b.scratch[c + ch], b.scratch[2 * c], a.eps, a.momentum, &mean[ch], &inv[ch],
                          &rm[ch], &rv[ch]);
    size_t bad = bit_diffs(mean, b.mean, c, "mean") + bit_diffs(inv, b.inv, c, "invstd") +
                 bit_diffs(rm, b.rm, c, "run_mean") + bit_diffs(rv, b.rv, c, "run_var");
    CHECK0(bad, "bn fwd: tn_hd_bn_finalize == CPU mean/invstd/running stats (bit-exact)");

    /* normalisation + activation: the CPU's AVX2 path uses FMA and a polynomial exp */
    float *o = malloc(sizeof(float) * cm);
    for (int ch = 0; ch < c; ch++) {
        float sc, sh;
        tn_hd_bn_coef(1, b.mean[ch], b.inv[ch], 0.f, 0.f, b.gamma[ch], b.beta[ch], a.eps, &sc, &sh);
        for (size_t i = 0; i < m; i++) o[ch * m + i] = tn_hd_bn_fwd_elem(b.y[ch * m + i], sc, sh, act);
    }
    CHECK0(near_diffs(o, out, cm, 1e-6, 1e-5, "bn out"),
               "bn fwd act=%d: tn_hd_bn_fwd_elem vs CPU (atol 1e-6, rtol 1e-5)", act);

    /* eval with the running statistics */
    tn_bn_args e = bn_args(&b, 0, act);
    be->bn_act_fwd(&e, b.y, out);
    for (int ch = 0; ch < c; ch++) {
        float sc, sh;
        tn_hd_bn_coef(0, 0.f, 0.f, b.rm[ch], b.rv[ch], b.gamma[ch], b.beta[ch], e.eps, &sc, &sh);
        for (size_t i = 0; i < m; i++) o[ch * m + i] = tn_hd_bn_fwd_elem(b.y[ch * m + i], sc, sh, act);
    }
    CHECK0(near_diffs(o, out, cm, 1e-6, 1e-5, "bn eval"), "bn eval act=%d: running stats (atol 1e-6, rtol 1e-5)",
               act);

    /* backward, accumulating into existing parameter gradients */
    for (int accumulate = 0; accumulate < 2; accumulate++) {
        float *gy = malloc(sizeof(float) * cm), *gg = fvec(c, 1.f, 0.f), *gb = fvec(c, 1.f, 0.f);
        float *gg0 = malloc(sizeof(float) * c), *gb0 = malloc(sizeof(float) * c);
        memcpy(gg0, gg, sizeof(float) * c);
        memcpy(gb0, gb, sizeof(float) * c);
        tn_bn_args t = bn_args(&b, 1, act);
        be->bn_act_bwd(&t, b.y, b.gout, gy, gg, gb, accumulate);
        float *sgg = malloc(sizeof(float) * c), *sgb = malloc(sizeof(float) * c);
        for (int ch = 0; ch < c; ch++) {
            bn_row_ctx ctx = {.y = b.y + ch * m, .go = b.gout + ch * m, .gz = gout_hd + ch * m, .mu = b.mean[ch],
                              .silu = act};
            tn_hd_bn_coef(1, b.mean[ch], b.inv[ch], 0.f, 0.f, b.gamma[ch], b.beta[ch], 0.f, &ctx.sc, &ctx.sh);
            double s0, s1;
            sim_row(m, sim_chunks(c, m, sms), bwd_elem, &ctx, &s0, &s1);
            float sb = (float)s0, sg = (float)(s1 * b.inv[ch]); /* row_finish<RR_BNBWD> */
            sgb[ch] = sb + (accumulate ? gb0[ch] : 0.f);
            sgg[ch] = sg + (accumulate ? gg0[ch] : 0.f);
        }
        TAP_EQ_INT(same_bits(b.scratch[2 * c], (float)m), 1, "bn bwd: scratch[2c] holds the count");
        bad = near_diffs(sgb, gb, c, 1e-6, 1e-5, "gbeta") + near_diffs(sgg, gg, c, 1e-6, 1e-5, "ggamma");
        CHECK0(bad, "bn bwd act=%d accumulate=%d: gamma/beta grads (atol 1e-6, rtol 1e-5)", act, accumulate);
        /* apply on the CPU's scratch (what the SyncBN hook would have reduced) */
        for (int ch = 0; ch < c; ch++) {
            float db, dg, k0 = b.gamma[ch] * b.inv[ch];
            tn_hd_bn_bwd_coef(b.scratch[ch], b.scratch[c + ch], b.scratch[2 * c], &db, &dg);
            for (size_t i = 0; i < m; i++)
                gout_hd[ch * m + i] =
                    tn_hd_bn_bwd_apply(b.y[ch * m + i], gout_hd[ch * m + i], b.mean[ch], b.inv[ch], k0, db, dg);
        }
        /* gradients near zero after the mean subtraction: absolute tolerance on their scale */
        CHECK0(near_diffs(gout_hd, gy, cm, 2e-6, 1e-4, "bn gy"),
                   "bn bwd act=%d: input gradient (atol 2e-6, rtol 1e-4)", act);
        free(gy), free(gg), free(gb), free(gg0), free(gb0), free(sgg), free(sgb);
    }
    free(rm0), free(rv0), free(out), free(gout_hd), free(scr), free(mean), free(inv), free(rm), free(rv), free(o);
    bn_free(&b);
}

/* ---- pooling, upsample, input ---- */

static void test_maxpool(int c, int n, int h, int w, int k)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w, tot = planes * hw;
    float *x = fvec(tot, 1.f, 0.f), *y = malloc(sizeof(float) * tot), *yh = malloc(sizeof(float) * tot);
    for (size_t i = 0; i < tot; i++) x[i] = roundf(x[i] * 4.f) / 4.f; /* many ties */
    be->maxpool_fwd(c, n, h, w, k, x, y);
    int *am = malloc(sizeof(int) * tot);
    for (size_t pl = 0; pl < planes; pl++)
        for (size_t i = 0; i < hw; i++)
            yh[pl * hw + i] = tn_hd_maxpool_at(x + pl * hw, h, w, k, (int)(i / w), (int)(i % w), &am[pl * hw + i]);
    CHECK0(bit_diffs(yh, y, tot, "maxpool"), "maxpool fwd k=%d %dx%d: tn_hd_maxpool_at == CPU", k, h, w);

    float *gy = fvec(tot, 1.f, 0.f), *gx = fvec(tot, 0.5f, 0.f), *gxh = malloc(sizeof(float) * tot);
    memcpy(gxh, gx, sizeof(float) * tot);
    be->maxpool_bwd(c, n, h, w, k, x, gy, gx);
    const int pd = k / 2; /* maxpool_bwd_kernel's gather */
    for (size_t pl = 0; pl < planes; pl++)
        for (size_t i = 0; i < hw; i++) {
            int iy = (int)(i / w), ix = (int)(i % w);
            int y0 = iy - pd < 0 ? 0 : iy - pd, y1 = iy + pd >= h ? h - 1 : iy + pd;
            int x0 = ix - pd < 0 ? 0 : ix - pd, x1 = ix + pd >= w ? w - 1 : ix + pd;
            float acc = gxh[pl * hw + i];
            for (int oy = y0; oy <= y1; oy++)
                for (int ox = x0; ox <= x1; ox++)
                    if (am[pl * hw + oy * w + ox] == (int)i) acc += gy[pl * hw + oy * w + ox];
            gxh[pl * hw + i] = acc;
        }
    CHECK0(bit_diffs(gxh, gx, tot, "maxpool bwd"), "maxpool bwd k=%d %dx%d: gather == CPU scatter (bit-exact)",
               k, h, w);
    free(x), free(y), free(yh), free(am), free(gy), free(gx), free(gxh);
}

static void test_upsample(int c, int n, int h, int w)
{
    const size_t planes = (size_t)c * n, hw = (size_t)h * w, tot = planes * hw;
    float *x = fvec(tot, 1.f, 0.f), *y = malloc(sizeof(float) * 4 * tot), *yh = malloc(sizeof(float) * 4 * tot);
    be->upsample2_fwd(c, n, h, w, x, y);
    for (size_t pl = 0; pl < planes; pl++)
        for (size_t i = 0; i < 4 * hw; i++)
            yh[pl * 4 * hw + i] = tn_hd_up2_fwd_at(x + pl * hw, w, (int)(i / (2 * w)), (int)(i % (2 * w)));
    CHECK0(bit_diffs(yh, y, 4 * tot, "up2"), "upsample2 fwd %dx%d: tn_hd_up2_fwd_at == CPU", h, w);
    float *gy = fvec(4 * tot, 1.f, 0.f), *gx = fvec(tot, 1.f, 0.f), *gxh = malloc(sizeof(float) * tot);
    memcpy(gxh, gx, sizeof(float) * tot);
    be->upsample2_bwd(c, n, h, w, gy, gx);
    for (size_t pl = 0; pl < planes; pl++)
        for (size_t i = 0; i < hw; i++)
            gxh[pl * hw + i] += tn_hd_up2_bwd_at(gy + pl * 4 * hw, w, (int)(i / w), (int)(i % w));
    CHECK0(bit_diffs(gxh, gx, tot, "up2 bwd"), "upsample2 bwd %dx%d: tn_hd_up2_bwd_at == CPU", h, w);
    free(x), free(y), free(yh), free(gy), free(gx), free(gxh);
}

static void test_u8(int n, int c, int h, int w)
{
    const size_t hw = (size_t)h * w, tot = (size_t)n * c * hw;
    uint8_t *x = malloc(tot);
    for (size_t i = 0; i < tot; i++) x[i] = (uint8_t)(i * 37 + (i >> 5));
    float *y = malloc(sizeof(float) * tot), *yh = malloc(sizeof(float) * tot);
    be->u8_to_f32(n, c, h, w, x, y);
    for (size_t q = 0; q < (size_t)n * c; q++) { /* u8_kernel: output plane q = ci * n + b */
        size_t ci = q / n, b = q % n;
        for (size_t i = 0; i < hw; i++) yh[q * hw + i] = tn_hd_u8(x[(b * c + ci) * hw + i]);
    }
    CHECK0(bit_diffs(yh, y, tot, "u8"), "u8_to_f32 n=%d %dx%d: plane mapping and tn_hd_u8 == CPU", n, h, w);
    free(x), free(y), free(yh);
}

/* ---- flat passes ---- */

static void test_flat(void)
{
    const size_t n = 100003;
    float *x = fvec(n, 8.f, 0.f), *y = malloc(sizeof(float) * n), *yh = malloc(sizeof(float) * n);
    be->sigmoid(n, x, y);
    for (size_t i = 0; i < n; i++) yh[i] = tn_hd_sigmoid(x[i]);
    CHECK0(bit_diffs(yh, y, n, "sigmoid"), "sigmoid: tn_hd_sigmoid == CPU (host expf)");

    for (int nesterov = 0; nesterov < 2; nesterov++) {
        float *p = fvec(n, 1.f, 0.f), *g = fvec(n, 0.1f, 0.f), *m = fvec(n, 0.05f, 0.f);
        float *p2 = malloc(sizeof(float) * n), *m2 = malloc(sizeof(float) * n);
        memcpy(p2, p, sizeof(float) * n);
        memcpy(m2, m, sizeof(float) * n);
        be->sgd_update(n, p, g, m, 0.01f, 0.937f, 5e-4f, nesterov);
        for (size_t i = 0; i < n; i++) tn_hd_sgd(&p2[i], g[i], &m2[i], 0.01f, 0.937f, 5e-4f, nesterov);
        CHECK0(bit_diffs(p2, p, n, "sgd p") + bit_diffs(m2, m, n, "sgd m"), "sgd_update nesterov=%d", nesterov);
        free(p), free(g), free(m), free(p2), free(m2);
    }
    {
        float *p = fvec(n, 1.f, 0.f), *g = fvec(n, 0.1f, 0.f), *m = fvec(n, 0.01f, 0.f), *v = fvec(n, 1e-3f, 2e-3f);
        float *p2 = malloc(sizeof(float) * n), *m2 = malloc(sizeof(float) * n), *v2 = malloc(sizeof(float) * n);
        memcpy(p2, p, sizeof(float) * n), memcpy(m2, m, sizeof(float) * n), memcpy(v2, v, sizeof(float) * n);
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.05f, bc1 = 1 - powf(b1, 7), bc2 = 1 - powf(b2, 7);
        be->adamw_update(n, p, g, m, v, lr, b1, b2, eps, wd, bc1, bc2);
        float decay = 1.0f - lr * wd, sbc2 = sqrtf(bc2); /* tc_k_adamw_update's host constants */
        for (size_t i = 0; i < n; i++) tn_hd_adamw(&p2[i], g[i], &m2[i], &v2[i], lr, b1, b2, eps, decay, bc1, sbc2);
        CHECK0(bit_diffs(p2, p, n, "adamw p") + bit_diffs(m2, m, n, "adamw m") + bit_diffs(v2, v, n, "adamw v"),
                   "adamw_update");
        free(p), free(g), free(m), free(v), free(p2), free(m2), free(v2);
    }
    {
        float *e = fvec(n, 1.f, 0.f), *e2 = malloc(sizeof(float) * n);
        memcpy(e2, e, sizeof(float) * n);
        float d = 0.9999f * (1 - expf(-100.f / 2000.f)), w = 1 - d;
        be->ema_update(n, d, w, x, e);
        for (size_t i = 0; i < n; i++) e2[i] = tn_hd_ema(e2[i], x[i], d, w);
        CHECK0(bit_diffs(e2, e, n, "ema"), "ema_update");
        free(e), free(e2);
    }
    {
        float *g = fvec(n, 3e38f, 0.f), *g2 = malloc(sizeof(float) * n);
        g[5] = NAN, g[77] = INFINITY, g[n - 1] = -INFINITY;
        memcpy(g2, g, sizeof(float) * n);
        size_t nf = be->nonfinite(n, g), cnt = 0;
        for (size_t i = 0; i < n; i++) cnt += !tn_hd_isfinite(g[i]);
        TAP_EQ_INT(cnt, nf, "nonfinite: tn_hd_isfinite count == CPU");
        size_t bad = be->unscale(n, 4.f, g), bad2 = 0; /* overflows to inf in places */
        for (size_t i = 0; i < n; i++) bad2 += (size_t)tn_hd_unscale(&g2[i], 4.f);
        TAP_EQ_INT(bad2, bad, "unscale: tn_hd_unscale count == CPU");
        TAP_OK(bad > 3, "unscale: the overflowed values are counted (%zu)", bad);
        CHECK0(bit_diffs(g2, g, n, "unscale"), "unscale: values");
        free(g), free(g2);
    }
    {
        /* sumsq_partial + sumsq_finish: 1024 grid-stride blocks, tree, ordered finish */
        double want = be->sumsq(n, x), sh[THREADS], got = 0;
        size_t nb = (n + THREADS - 1) / THREADS;
        if (nb > 1024) nb = 1024;
        for (size_t bl = 0; bl < nb; bl++) {
            for (int t = 0; t < THREADS; t++) {
                double s = 0;
                for (size_t i = bl * THREADS + t; i < n; i += nb * THREADS) s += (double)x[i] * x[i];
                sh[t] = s;
            }
            got += sim_tree(sh);
        }
        TAP_OK(fabs(got - want) <= 1e-12 * want, "sumsq: blocked double sum %.17g vs CPU %.17g (rtol 1e-12)", got, want);
    }
    free(x), free(y), free(yh);
}

/* bias gradient: tc_row_sum's chunked double sum vs conv_bwd_filter's gbias */
static void sum_elem(size_t i, double *a, double *b, void *p)
{
    (void)b;
    *a += ((const float *)p)[i];
}

static void test_bias_grad(int n, int cin, int cout, int hw)
{
    tn_conv_shape s = {.n = n, .cin = cin, .h = hw, .w = hw, .cout = cout, .k = 1, .stride = 1, .pad = 0, .groups = 1};
    tn_conv_shape_init(&s);
    const size_t m = (size_t)n * hw * hw;
    float *x = fvec((size_t)cin * m, 1.f, 0.f), *gy = fvec((size_t)cout * m, 1.f, 0.1f);
    float *gw = calloc((size_t)cout * cin, sizeof(float)), *gb = fvec(cout, 1.f, 0.f), *gbh = malloc(sizeof(float) * cout);
    memcpy(gbh, gb, sizeof(float) * cout);
    be->conv_bwd_filter(&s, x, gy, gw, gb, 1, NULL, 0);
    for (int co = 0; co < cout; co++) {
        double s0, s1;
        sim_row(m, sim_chunks(cout, m, 132), sum_elem, gy + co * m, &s0, &s1);
        gbh[co] = (float)s0 + gbh[co];
    }
    CHECK0(near_diffs(gbh, gb, cout, 1e-6, 1e-6, "gbias"),
               "bias gradient (accumulate) m=%zu: chunked double row sums vs CPU (rtol 1e-6)", m);
    free(x), free(gy), free(gw), free(gb), free(gbh);
}

static void test_cuda_open(void)
{
    const tn_backend *cu = NULL;
    tn_cuda_opts o = {.device = 0, .deterministic = 1, .ws_limit_bytes = 0};
    dy_status s = tn_backend_cuda_open(&o, &cu);
    if (s == DY_OK) {
        TAP_OK(cu && !strcmp(cu->name, "cuda") && cu->device == TN_CUDA && !cu->host_mem,
               "cuda backend opened: table filled");
        tn_backend_cuda_close();
        return;
    }
    TAP_OK((s == DY_ENOGPU || s == DY_EUNSUPPORTED) && cu == NULL && strlen(err_msg()) > 10,
           "cuda backend without a usable GPU: %s: %s", err_name(s), err_msg());
    tn_backend_cuda_close(); /* harmless when not open */
}

int main(void)
{
    be = tn_backend_cpu();
    test_half();
    test_bn(16, 2, 20, 1); /* m = 800: a multiple of 8 */
    test_bn(24, 3, 13, 1); /* m = 507: AVX2 tails */
    test_bn(8, 64, 40, 1); /* m = 102400: several chunks per row */
    test_bn(12, 1, 9, 0);  /* identity activation, batch 1 */
    test_maxpool(4, 2, 20, 20, 5);
    test_maxpool(3, 2, 13, 7, 5);
    test_maxpool(2, 1, 6, 9, 3);
    test_upsample(5, 2, 10, 10);
    test_upsample(3, 1, 7, 13);
    test_u8(3, 3, 32, 24);
    test_flat();
    test_bias_grad(2, 8, 16, 20);
    test_bias_grad(4, 4, 6, 63);
    test_cuda_open();
    return tap_done();
}
