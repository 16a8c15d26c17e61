/* test_ops.c -- every CPU backend op against finite differences (and the convolution
 * forward against a double-precision reference): conv fwd / bwd-data / bwd-filter over
 * kernels, strides, paddings, groups and the chunked im2col path; fused BN + SiLU in
 * training and eval with running statistics; max-pool; upsample; add; the binary16
 * casts (exhaustively); the non-finite check and the SGD update. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/backend.h"
#include "tensor/cpu_kernels.h"
#include "tests/nn/gradcheck.h"
#include "tests/tap.h"

static const tn_backend *be;

typedef struct {
    tn_conv_shape s;
    float *x, *w, *b, *y, *r, *ws;
    size_t nx, nw, ny, nws;
} conv_case;

static double conv_loss(void *p)
{
    conv_case *c = p;
    be->conv_fwd(&c->s, c->x, c->w, c->b, c->y, c->ws, c->nws);
    return gc_dot(c->r, c->y, c->ny);
}

/* Naive double-precision convolution of CNHW data; returns the max abs difference. */
static double conv_ref_diff(const conv_case *c)
{
    const tn_conv_shape *s = &c->s;
    int cig = s->cin / s->groups, cog = s->cout / s->groups;
    double md = 0;
    for (int co = 0; co < s->cout; co++)
        for (int n = 0; n < s->n; n++)
            for (int oy = 0; oy < s->oh; oy++)
                for (int ox = 0; ox < s->ow; ox++) {
                    double acc = c->b ? c->b[co] : 0;
                    int gi = co / cog;
                    for (int ci = 0; ci < cig; ci++)
                        for (int ky = 0; ky < s->k; ky++)
                            for (int kx = 0; kx < s->k; kx++) {
                                int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                                acc += (double)c->w[((co * cig + ci) * s->k + ky) * s->k + kx] *
                                       c->x[(((size_t)(gi * cig + ci) * s->n + n) * s->h + iy) * s->w + ix];
                            }
                    double got = c->y[(((size_t)co * s->n + n) * s->oh + oy) * s->ow + ox];
                    md = fmax(md, fabs(got - acc));
                }
    return md;
}

static void test_conv(int n, int cin, int hw, int cout, int k, int st, int pad, int groups, int bias,
                      int chunked)
{
    conv_case c = {.s = {.n = n, .cin = cin, .h = hw, .w = hw, .cout = cout, .k = k, .stride = st,
                         .pad = pad, .groups = groups}};
    tn_conv_shape_init(&c.s);
    c.nx = (size_t)cin * n * hw * hw;
    c.nw = (size_t)cout * (cin / groups) * k * k;
    c.ny = (size_t)cout * n * c.s.oh * c.s.ow;
    size_t per = (size_t)cin * k * k * c.s.oh * c.s.ow;
    c.nws = chunked ? per : tn_backend_cpu()->conv_workspace(&c.s, (size_t)1 << 24);
    c.x = malloc(sizeof(float) * c.nx);
    c.w = malloc(sizeof(float) * c.nw);
    c.b = bias ? malloc(sizeof(float) * cout) : NULL;
    c.y = malloc(sizeof(float) * c.ny);
    c.r = malloc(sizeof(float) * c.ny);
    c.ws = malloc(sizeof(float) * (c.nws + 1));
    float *gx = calloc(c.nx, sizeof(float)), *gw = malloc(sizeof(float) * c.nw), gb[64];
    double *num = malloc(sizeof(double) * (c.nx + c.nw + 64));
    gc_fill(c.x, c.nx, 1, -1, 1);
    gc_fill(c.w, c.nw, 2, -0.5f, 0.5f);
    if (bias) gc_fill(c.b, cout, 3, -1, 1);
    gc_fill(c.r, c.ny, 4, -1, 1);
    char name[128];
    snprintf(name, sizeof name, "conv n%d %d->%d %dx%d k%d s%d p%d g%d%s%s", n, cin, cout, hw, hw, k, st,
             pad, groups, bias ? " bias" : "", chunked ? " chunked" : "");
    conv_loss(&c);
    double rd = conv_ref_diff(&c);
    if (!TAP_OK(rd < 1e-4, "%s: forward matches the double reference", name)) tap_diag("max diff %g", rd);
    be->conv_bwd_data(&c.s, c.w, c.r, gx, c.ws, c.nws);
    be->conv_bwd_filter(&c.s, c.x, c.r, gw, bias ? gb : NULL, 0, c.ws, c.nws);
    gc_fd(conv_loss, &c, c.x, NULL, c.nx, 1e-2f, num);
    double e = gc_compare(gx, num, c.nx);
    if (!TAP_OK(e < 1e-3, "%s: backward-data = finite differences", name)) tap_diag("rel err %g", e);
    gc_fd(conv_loss, &c, c.w, NULL, c.nw, 1e-2f, num);
    e = gc_compare(gw, num, c.nw);
    if (!TAP_OK(e < 1e-3, "%s: backward-filter = finite differences", name)) tap_diag("rel err %g", e);
    if (bias) {
        gc_fd(conv_loss, &c, c.b, NULL, cout, 1e-2f, num);
        e = gc_compare(gb, num, cout);
        if (!TAP_OK(e < 1e-3, "%s: bias gradient = finite differences", name)) tap_diag("rel err %g", e);
    }
    /* accumulate mode adds to what is there */
    float *gw2 = malloc(sizeof(float) * c.nw);
    memcpy(gw2, gw, sizeof(float) * c.nw);
    be->conv_bwd_filter(&c.s, c.x, c.r, gw2, NULL, 1, c.ws, c.nws);
    double md = 0;
    for (size_t i = 0; i < c.nw; i++) md = fmax(md, fabs(gw2[i] - 2 * gw[i]));
    TAP_OK(md < 1e-4, "%s: accumulate mode adds the gradient", name);
    free(gw2);
    free(c.x); free(c.w); free(c.b); free(c.y); free(c.r); free(c.ws); free(gx); free(gw); free(num);
}

/* Larger shapes (several row tiles per image, images split over threads): forward
 * against the double reference, backward by the adjoint identities
 * <conv(x), r> = <x, bwd_data(r)> = <w, bwd_filter(x, r)>. */
static void test_conv_big_hw(int threads, int k, int st, int groups, int cin, int cout, int hw)
{
    be->set_threads(threads);
    conv_case c = {.s = {.n = 3, .cin = cin, .h = hw, .w = hw, .cout = cout, .k = k, .stride = st, .pad = k / 2,
                         .groups = groups}};
    tn_conv_shape_init(&c.s);
    c.nx = (size_t)cin * 3 * hw * hw;
    c.nw = (size_t)cout * (cin / groups) * k * k;
    c.ny = (size_t)cout * 3 * c.s.oh * c.s.ow;
    c.nws = tn_backend_cpu()->conv_workspace(&c.s, (size_t)16 << 20);
    c.x = malloc(sizeof(float) * c.nx);
    c.w = malloc(sizeof(float) * c.nw);
    c.y = malloc(sizeof(float) * c.ny);
    c.r = malloc(sizeof(float) * c.ny);
    c.ws = malloc(sizeof(float) * c.nws);
    float *gx = calloc(c.nx, sizeof(float)), *gw = malloc(sizeof(float) * c.nw);
    gc_fill(c.x, c.nx, 41, -1, 1);
    gc_fill(c.w, c.nw, 42, -0.5f, 0.5f);
    gc_fill(c.r, c.ny, 43, -1, 1);
    double l = conv_loss(&c), rd = conv_ref_diff(&c);
    be->conv_bwd_data(&c.s, c.w, c.r, gx, c.ws, c.nws);
    be->conv_bwd_filter(&c.s, c.x, c.r, gw, NULL, 0, c.ws, c.nws);
    double lx = gc_dot(gx, c.x, c.nx), lw = gc_dot(gw, c.w, c.nw);
    char name[96];
    snprintf(name, sizeof name, "tiled conv %d->%d %dx%d k%d s%d g%d, %d threads", cin, cout, hw, hw, k, st, groups,
             threads);
    if (!TAP_OK(rd < 1e-4, "%s: forward matches the double reference", name)) tap_diag("max diff %g", rd);
    if (!TAP_OK(fabs(lx - l) < 1e-3 * fabs(l) + 1e-2, "%s: backward-data is the adjoint", name)) tap_diag("%g vs %g", lx, l);
    if (!TAP_OK(fabs(lw - l) < 1e-3 * fabs(l) + 1e-2, "%s: backward-filter is the adjoint", name)) tap_diag("%g vs %g", lw, l);
    /* backward-data adds into gx (every write path: C panels, straight stores, phase pairs) */
    float *gx2 = malloc(sizeof(float) * c.nx);
    memcpy(gx2, gx, sizeof(float) * c.nx);
    be->conv_bwd_data(&c.s, c.w, c.r, gx2, c.ws, c.nws);
    double md = 0;
    for (size_t i = 0; i < c.nx; i++) md = fmax(md, fabs(gx2[i] - 2 * gx[i]));
    if (!TAP_OK(md < 1e-4, "%s: backward-data adds into gx", name)) tap_diag("max diff %g", md);
    free(gx2);
    free(c.x); free(c.w); free(c.y); free(c.r); free(c.ws); free(gx); free(gw);
    be->set_threads(1);
}

static void test_conv_big(int threads, int k, int st, int groups, int cin, int cout)
{
    test_conv_big_hw(threads, k, st, groups, cin, cout, 40);
}

typedef struct {
    tn_bn_args a;
    float *x, *out, *r, *gamma, *beta;
    size_t n;
} bn_case;

static double bn_loss(void *p)
{
    bn_case *c = p;
    be->bn_act_fwd(&c->a, c->x, c->out);
    return gc_dot(c->r, c->out, c->n);
}

static void test_bn(int act)
{
    enum { C = 3, M = 50 };
    float x[C * M], out[C * M], r[C * M], gy[C * M], gamma[C], beta[C], rm[C] = {0}, rv[C] = {1, 1, 1};
    float mean[C], inv[C], scratch[2 * C + 1], gg[C], gbt[C];
    double num[C * M];
    bn_case c = {.a = {.c = C, .m = M, .training = 1, .act = act, .eps = 1e-3f, .momentum = 0.03f,
                       .gamma = gamma, .beta = beta, .run_mean = rm, .run_var = rv, .mean = mean,
                       .invstd = inv, .scratch = scratch},
                 .x = x, .out = out, .r = r, .n = C * M};
    gc_fill(x, C * M, 11, -2, 3);
    gc_fill(r, C * M, 12, -1, 1);
    gc_fill(gamma, C, 13, 0.5f, 1.5f);
    gc_fill(beta, C, 14, -0.5f, 0.5f);
    bn_loss(&c);
    double mu = 0, var = 0;
    for (int i = 0; i < M; i++) mu += x[i];
    mu /= M;
    for (int i = 0; i < M; i++) var += (x[i] - mu) * (x[i] - mu);
    TAP_NEAR(rm[0], 0.03 * mu, 1e-5, "bn: running mean updated with momentum 0.03");
    TAP_NEAR(rv[0], 0.97 + 0.03 * var / (M - 1), 1e-5, "bn: running var updated (unbiased)");
    be->bn_act_bwd(&c.a, x, r, gy, gg, gbt, 0);
    const char *nm = act ? "bn+silu" : "bn";
    gc_fd(bn_loss, &c, x, NULL, C * M, 1e-2f, num);
    double e = gc_compare(gy, num, C * M);
    if (!TAP_OK(e < 2e-3, "%s: input gradient = finite differences", nm)) tap_diag("rel err %g", e);
    gc_fd(bn_loss, &c, gamma, NULL, C, 1e-2f, num);
    e = gc_compare(gg, num, C);
    if (!TAP_OK(e < 2e-3, "%s: gamma gradient = finite differences", nm)) tap_diag("rel err %g", e);
    gc_fd(bn_loss, &c, beta, NULL, C, 1e-2f, num);
    e = gc_compare(gbt, num, C);
    if (!TAP_OK(e < 2e-3, "%s: beta gradient = finite differences", nm)) tap_diag("rel err %g", e);
    /* eval mode uses the running statistics */
    c.a.training = 0;
    be->bn_act_fwd(&c.a, x, out);
    double z = (x[0] - rm[0]) / sqrt(rv[0] + 1e-3) * gamma[0] + beta[0];
    double want = act ? z / (1 + exp(-z)) : z;
    TAP_NEAR(out[0], want, 1e-5, "bn eval: uses the running statistics");
}

typedef struct {
    int kind; /* 0 maxpool, 1 upsample, 2 add */
    int c, n, h, w;
    float *x, *x2, *y, *r;
    size_t nx, ny;
} simple_case;

static double simple_loss(void *p)
{
    simple_case *s = p;
    if (s->kind == 0) be->maxpool_fwd(s->c, s->n, s->h, s->w, 5, s->x, s->y);
    else if (s->kind == 1) be->upsample2_fwd(s->c, s->n, s->h, s->w, s->x, s->y);
    else be->add(s->nx, s->x, s->x2, s->y);
    return gc_dot(s->r, s->y, s->ny);
}

static void test_simple(int kind)
{
    static const char *names[] = {"maxpool 5x5 s1", "upsample x2", "add"};
    simple_case s = {.kind = kind, .c = 2, .n = 2, .h = 6, .w = 7};
    s.nx = (size_t)s.c * s.n * s.h * s.w;
    s.ny = kind == 1 ? 4 * s.nx : s.nx;
    s.x = malloc(sizeof(float) * s.nx);
    s.x2 = malloc(sizeof(float) * s.nx);
    s.y = malloc(sizeof(float) * s.ny);
    s.r = malloc(sizeof(float) * s.ny);
    float *gx = calloc(s.nx, sizeof(float));
    double *num = malloc(sizeof(double) * s.nx);
    /* distinct values 0.01 apart so the max-pool argmax is stable under +-h */
    for (size_t i = 0; i < s.nx; i++) s.x[i] = (float)((i * 37) % s.nx) * 0.01f;
    gc_fill(s.x2, s.nx, 21, -1, 1);
    gc_fill(s.r, s.ny, 22, -1, 1);
    simple_loss(&s);
    if (kind == 0) be->maxpool_bwd(s.c, s.n, s.h, s.w, 5, s.x, s.r, gx);
    else if (kind == 1) be->upsample2_bwd(s.c, s.n, s.h, s.w, s.r, gx);
    else be->acc(s.nx, s.r, gx);
    gc_fd(simple_loss, &s, s.x, NULL, s.nx, 1e-3f, num);
    double e = gc_compare(gx, num, s.nx);
    if (!TAP_OK(e < 1e-3, "%s: gradient = finite differences", names[kind])) tap_diag("rel err %g", e);
    free(s.x); free(s.x2); free(s.y); free(s.r); free(gx); free(num);
}

/* Large planes take the in-place separable path: compare with a brute-force window. */
static void test_maxpool_big(void)
{
    enum { H = 70, W = 90 };
    float *x = malloc(sizeof(float) * H * W), *y = malloc(sizeof(float) * H * W);
    gc_fill(x, H * W, 51, -1, 1);
    be->maxpool_fwd(1, 1, H, W, 5, x, y);
    int bad = 0;
    for (int oy = 0; oy < H; oy++)
        for (int ox = 0; ox < W; ox++) {
            float mx = -INFINITY;
            for (int iy = oy - 2; iy <= oy + 2; iy++)
                for (int ix = ox - 2; ix <= ox + 2; ix++)
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W && x[iy * W + ix] > mx) mx = x[iy * W + ix];
            bad += y[oy * W + ox] != mx;
        }
    TAP_EQ_INT(bad, 0, "maxpool 5x5 on a 70x90 plane equals the brute-force window max");
    free(x);
    free(y);
}

static void test_half(void)
{
    TAP_EQ_INT(tn_half_from_float(1.f), 0x3c00, "f16: 1.0");
    TAP_EQ_INT(tn_half_from_float(-2.f), 0xc000, "f16: -2.0");
    TAP_EQ_INT(tn_half_from_float(0.1f), 0x2e66, "f16: 0.1 rounds to nearest");
    TAP_EQ_INT(tn_half_from_float(65504.f), 0x7bff, "f16: largest finite");
    TAP_EQ_INT(tn_half_from_float(65519.f), 0x7bff, "f16: 65519 rounds down to 65504");
    TAP_EQ_INT(tn_half_from_float(65520.f), 0x7c00, "f16: 65520 overflows to inf");
    TAP_EQ_INT(tn_half_from_float(1.f + 1.f / 2048), 0x3c00, "f16: tie rounds to even (down)");
    TAP_EQ_INT(tn_half_from_float(1.f + 3.f / 2048), 0x3c02, "f16: tie rounds to even (up)");
    TAP_EQ_INT(tn_half_from_float(5.9604645e-8f), 0x0001, "f16: smallest subnormal");
    TAP_EQ_INT(tn_half_from_float(1e-8f), 0x0000, "f16: underflow to zero");
    TAP_OK(isnan(tn_float_from_half(tn_half_from_float(NAN))), "f16: NaN stays NaN");
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = tn_float_from_half((uint16_t)h);
        if (isnan(f)) continue;
        if (tn_half_from_float(f) != h) bad++;
    }
    TAP_EQ_INT(bad, 0, "f16: every half value round-trips exactly");
    float v[4] = {1.f, 70000.f, NAN, -3.f};
    be->round_f16(4, v);
    TAP_OK(isinf(v[1]) && v[0] == 1.f, "f16 storage rounding overflows like half");
    TAP_EQ_INT(be->nonfinite(4, v), 2, "non-finite check counts inf and NaN");
}

static void test_sgd(void)
{
    float p[2] = {1.f, -1.f}, g[2] = {0.5f, 0.25f}, m[2] = {0.1f, 0.f};
    be->sgd_update(2, p, g, m, 0.1f, 0.9f, 0.01f, 1);
    /* g' = g + wd p = 0.51; m = 0.9*0.1 + 0.51 = 0.6; p -= lr (g' + 0.9 m) = 0.1*1.05 */
    TAP_NEAR(m[0], 0.6, 1e-6, "sgd: momentum buffer");
    TAP_NEAR(p[0], 1 - 0.105, 1e-6, "sgd: nesterov step with weight decay");
}

/* Fused BN + SiLU in eval mode on a batch equals, bit for bit, the same op run on each
 * image alone.  The AVX2 pass once finished each row (m = N*H*W values) with a scalar
 * tail (expf, no FMA) that rounded differently from the vector body, so a value
 * depended on its position in the row, i.e. on the batch size: on 5x5 maps that made
 * 1, 2 and 4 ranks train apart (train_e2e.sh world-size check 4e-4 with the AVX2
 * convolutions, whose forward outputs sit closer to the SiLU knee than OpenBLAS's did
 * only by chance).  HW = 25 puts image boundaries inside vectors and tails. */
static void test_bn_batch_invariant(void)
{
    enum { C = 3, N = 3, HW = 25 };
    float x[C * N * HW], out[C * N * HW], one[C * HW], o1[C * HW], gamma[C], beta[C], rm[C], rv[C];
    gc_fill(x, C * N * HW, 61, -4, 4);
    gc_fill(gamma, C, 62, 0.5f, 1.5f);
    gc_fill(beta, C, 63, -0.5f, 0.5f);
    gc_fill(rm, C, 64, -0.2f, 0.2f);
    gc_fill(rv, C, 65, 0.5f, 2.f);
    tn_bn_args a = {.c = C, .m = N * HW, .training = 0, .act = 1, .eps = 1e-3f, .gamma = gamma, .beta = beta,
                    .run_mean = rm, .run_var = rv};
    be->bn_act_fwd(&a, x, out);
    int bad = 0;
    for (int b = 0; b < N; b++) {
        for (int c = 0; c < C; c++) memcpy(one + c * HW, x + (c * N + b) * HW, sizeof(float) * HW);
        a.m = HW;
        be->bn_act_fwd(&a, one, o1);
        for (int c = 0; c < C; c++) bad += memcmp(o1 + c * HW, out + (c * N + b) * HW, sizeof(float) * HW) != 0;
    }
    TAP_EQ_INT(bad, 0, "BN + SiLU (eval) on a batch of 5x5 maps is bit-identical to per-image runs");
}

/* The AVX2 convolution path on the yolov5n shapes that ran apart end to end (3x3 s1
 * on 5x5 and 10x10 maps, cout = cin) and at stride 2: a batch equals per-image runs
 * bit for bit, for forward and backward-data, on 1 and 2 threads -- the per-rank
 * batch must not change any value. */
static void test_gconv_batch_invariant(int threads, int hw, int ch, int st)
{
    enum { N = 3 };
    be->set_threads(threads);
    cpu_gconv_enable(CPU_GCONV_ALL);
    tn_conv_shape s = {.n = N, .cin = ch, .h = hw, .w = hw, .cout = ch, .k = 3, .stride = st, .pad = 1, .groups = 1},
                  s1 = s;
    s1.n = 1;
    tn_conv_shape_init(&s);
    tn_conv_shape_init(&s1);
    const size_t pl = (size_t)hw * hw, nx = (size_t)ch * N * pl, nw = (size_t)ch * ch * 9;
    const size_t opl = (size_t)s.oh * s.ow;
    size_t nws = tn_backend_cpu()->conv_workspace(&s, (size_t)16 << 20), nws1 = tn_backend_cpu()->conv_workspace(&s1, (size_t)16 << 20);
    float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw), *y = malloc(sizeof(float) * nx),
          *gx = calloc(nx, sizeof(float)), *x1 = malloc(sizeof(float) * ch * pl), *y1 = malloc(sizeof(float) * ch * pl),
          *g1 = malloc(sizeof(float) * ch * pl), *ws = malloc(sizeof(float) * (nws > nws1 ? nws : nws1));
    gc_fill(x, nx, 71, -1, 1);
    gc_fill(w, nw, 72, -0.2f, 0.2f);
    /* the forward output doubles as the output gradient of backward-data */
    be->conv_fwd(&s, x, w, NULL, y, ws, nws);
    be->conv_bwd_data(&s, w, y, gx, ws, nws);
    int bad = 0;
    for (int b = 0; b < N; b++) {
        for (int c = 0; c < ch; c++) memcpy(x1 + c * pl, x + ((size_t)c * N + b) * pl, sizeof(float) * pl);
        memset(g1, 0, sizeof(float) * ch * pl);
        be->conv_fwd(&s1, x1, w, NULL, y1, ws, nws1);
        be->conv_bwd_data(&s1, w, y1, g1, ws, nws1);
        for (int c = 0; c < ch; c++) {
            bad += memcmp(y1 + c * opl, y + ((size_t)c * N + b) * opl, sizeof(float) * opl) != 0;
            bad += memcmp(g1 + c * pl, gx + ((size_t)c * N + b) * pl, sizeof(float) * pl) != 0;
        }
    }
    if (!TAP_OK(bad == 0, "AVX2 conv %d->%d s%d on %dx%d, %d threads: a batch is bit-identical to per-image runs",
                ch, ch, st, hw, hw, threads))
        tap_diag("%d planes differ", bad);
    free(x); free(w); free(y); free(gx); free(x1); free(y1); free(g1); free(ws);
    cpu_gconv_enable(CPU_GCONV_OFF);
    be->set_threads(1);
}

int main(void)
{
    be = tn_backend_cpu();
    be->set_threads(1);
    test_conv(2, 4, 7, 4, 3, 1, 1, 1, 0, 0);
    test_conv(2, 4, 7, 6, 3, 2, 1, 1, 0, 0);
    test_conv(2, 3, 9, 4, 6, 2, 2, 1, 0, 1);
    test_conv(2, 4, 5, 6, 1, 1, 0, 1, 1, 0);
    test_conv(2, 4, 6, 4, 3, 1, 1, 2, 1, 1);
    test_conv(3, 4, 5, 4, 1, 1, 0, 2, 0, 0);
    test_conv(2, 2, 7, 3, 1, 2, 0, 1, 0, 0);
    /* shapes for the AVX2 path (cin >= 8): row tails (cout not a multiple of 4),
     * several K blocks (K > 192), stride 2, padding below k / 2 */
    test_conv(2, 8, 7, 6, 3, 1, 1, 1, 0, 0);
    test_conv(2, 24, 5, 5, 3, 2, 1, 1, 1, 0);
    test_conv(1, 9, 6, 3, 3, 1, 0, 1, 0, 0);
    test_conv(2, 8, 5, 4, 1, 2, 0, 1, 0, 0);
    /* 1x1 stride 1 with more channels (OpenBLAS, the AVX2 path measured slower there) */
    test_conv(2, 8, 5, 6, 1, 1, 0, 1, 1, 0);
    test_conv(3, 12, 6, 10, 1, 1, 0, 1, 0, 0);
    for (int gemm = CPU_GCONV_ALL; gemm >= CPU_GCONV_OFF; gemm--) {
        cpu_gconv_enable(gemm); /* the AVX2 path (all, backward only) where the CPU has it, then OpenBLAS */
        test_conv_big(1, 3, 1, 1, 16, 8);
        test_conv_big(2, 3, 1, 1, 16, 8);
        test_conv_big(2, 3, 2, 2, 16, 8);
        test_conv_big(2, 6, 2, 1, 16, 8);
        test_conv_big(2, 3, 1, 1, 32, 20);
        test_conv_big(2, 3, 2, 1, 40, 12);
        /* stride 2 at >= 32 outputs per row (the AVX2 path's forward and, with
         * cout >= 18, its phase backward-data) and a 6x6 stride-2 stem */
        test_conv_big_hw(2, 3, 2, 1, 16, 24, 66);
        test_conv_big_hw(1, 3, 2, 1, 8, 20, 65);
        test_conv_big_hw(2, 6, 2, 1, 3, 16, 66);
    }
    /* the small cases once more on the AVX2 path (the loops above end on OpenBLAS) */
    cpu_gconv_enable(CPU_GCONV_ALL);
    test_conv(2, 8, 7, 6, 3, 1, 1, 1, 0, 0);
    test_conv(2, 24, 5, 5, 3, 2, 1, 1, 1, 0);
    test_conv(1, 9, 6, 3, 3, 1, 0, 1, 0, 0);
    /* stride 2 (phase-split copies; backward-data by phases when cout >= 18), odd and
     * even sizes, and the 6x6 stem */
    test_conv(2, 8, 7, 20, 3, 2, 1, 1, 0, 0);
    test_conv(1, 8, 8, 24, 3, 2, 1, 1, 1, 0);
    test_conv(2, 3, 9, 4, 6, 2, 2, 1, 0, 0);
    cpu_gconv_enable(CPU_GCONV_OFF);
    test_bn(0);
    test_bn(1);
    test_bn_batch_invariant();
    for (int t = 1; t <= 2; t++) {
        test_gconv_batch_invariant(t, 5, 128, 1);
        test_gconv_batch_invariant(t, 10, 64, 1);
        test_gconv_batch_invariant(t, 66, 24, 2);
        test_gconv_batch_invariant(t, 11, 64, 2);
    }
    test_simple(0);
    test_simple(1);
    test_simple(2);
    test_maxpool_big();
    test_half();
    test_sgd();
    return tap_done();
}
