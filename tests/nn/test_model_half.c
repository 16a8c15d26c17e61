/* test_model_half.c -- AMP's real half path against the CPU's AMP emulation and f32.
 *
 * yolov5n at 160 px, batch 4, one seed, three models with the same weights:
 *   f32   the CPU backend, AMP off;
 *   emul  the CPU backend, AMP on: f32 storage, values rounded to binary16 after every
 *         op (what `train.amp` does on the CPU);
 *   half  AMP on a half-storage table: the activations and their gradients are 2-byte
 *         binary16 values, convolutions read half filters, the Detect outputs and the
 *         loss gradient cross an f32 staging buffer ("cpu-f16", and "cuda-f16" when a
 *         GPU is usable: a model made on the CUDA backend with AMP on switches to it).
 * Checked: the half graph plans 2-byte activations and its activation memory (arena
 * and the backend's allocation counter) is at most 0.55x the f32 one; eval outputs and
 * loss parts of half agree with emul (1% / 0.2%); every parameter gradient's error
 * against f32 stays within 2.5x the emulation's own error + 0.02 (see compare_grads
 * for why early layers need a budget and not a fixed tolerance); a 20-step SGD
 * trajectory stays within 5% of emul's and falls; a huge loss scale overflows the half
 * gradients and the loss scaler skips the step and halves the scale.  These are the
 * documented AMP tolerances (README, "Mixed precision").  Without a GPU the cuda half prints `SKIP: no usable GPU (...)`;
 * DYOLO_REQUIRE_GPU=1 turns that into a failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/model.h"
#include "nn/graph.h"
#include "tests/nn/model_harness.h"
#include "tests/tap.h"
#include "train/optim.h"
#include "train/scaler.h"

enum { B = MH_B, S = MH_S, NC = MH_NC, MAXT = MH_MAXT };

/* |x - ref| <= atol * max|ref| + rtol |ref| per tensor; returns the number of bad values. */
static size_t mismatches(const char *what, const float *x, const float *ref, size_t n, double atol, double rtol)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs((double)ref[i]));
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - ref[i]);
        if (isfinite(x[i]) && d <= atol * mx + rtol * fabs((double)ref[i])) continue;
        if (bad++ < 3) tap_diag("%s[%zu] = %.7g, reference %.7g (max |ref| %.3g)", what, i, x[i], ref[i], mx);
    }
    if (bad > 3) tap_diag("%s: %zu of %zu values differ", what, bad, n);
    return bad;
}

static yolo_model *make(const tn_backend *be, const char *spec, int f16, float loss_scale)
{
    yolo_model *m = NULL;
    yolo_model_opts o = {.threads = 1, .f16 = f16, .loss_scale = loss_scale};
    if (yolo_model_create_on(be, spec, NC, &m) != DY_OK || yolo_model_init(m, 3) != DY_OK ||
        yolo_model_plan(m, B, S, S) != DY_OK) {
        tap_diag("%s: %s", be->name, err_msg());
        yolo_model_free(m);
        return NULL;
    }
    yolo_model_set_opts(m, &o);
    if (yolo_model_plan(m, B, S, S) != DY_OK) { /* the table may have changed: lay out again */
        tap_diag("%s: %s", be->name, err_msg());
        yolo_model_free(m);
        return NULL;
    }
    return m;
}

/* Activation storage: 2-byte values, and at most 0.55x the f32 plan's bytes. */
static void check_memory(yolo_model *ref, yolo_model *h, const char *nm)
{
    nn_graph *gr = yolo_model_graph(ref), *gh = yolo_model_graph(h);
    size_t ar = nn_graph_arena_bytes(gr), ah = nn_graph_arena_bytes(gh);
    TAP_OK(nn_graph_act_bytes(gh) == 2 && yolo_model_backend(h)->act_dtype == TN_F16 && ah <= 0.55 * ar,
           "%s: activations stored in 2 bytes (%s): %.2f MB of activation memory vs %.2f MB in f32", nm,
           yolo_model_backend(h)->name, ah / 1e6, ar / 1e6);
}

/* The backend's allocation counter sees the smaller plan too (fb and hb share it). */
static void check_mem_stats(const tn_backend *fb, const tn_backend *hb, const char *spec)
{
    const tn_backend *be = hb;
    size_t u0 = 0, u1 = 0, u2 = 0, peak = 0;
    be->mem_stats(&u0, NULL);
    yolo_model *a = make(fb, spec, 0, 1.f);
    be->mem_stats(&u1, NULL);
    yolo_model_free(a);
    be->mem_reset_peak();
    yolo_model *b = make(hb, spec, 1, 1.f);
    be->mem_stats(&u2, &peak);
    yolo_model_free(b);
    TAP_OK(a && b && u1 > u0 && u2 > u0 && u2 - u0 < u1 - u0 && peak >= u2,
           "%s: mem_stats: %.2f MB allocated for the f32 model, %.2f MB with AMP (peak %.2f MB)", be->name,
           (u1 - u0) / 1e6, (u2 - u0) / 1e6, (peak - u0) / 1e6);
}

/* Relative L2 error of x against ref over n values. */
static double rel_l2(const float *x, const float *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t j = 0; j < n; j++) {
        double d = (double)x[j] - ref[j];
        num += d * d, den += (double)ref[j] * ref[j];
    }
    return isfinite(num) ? sqrt(num / (den + 1e-30)) : INFINITY;
}

/* Gradients: per tensor, half storage's error against f32 stays within the budget the
 * emulation's own error sets (AMP_GRAD_FACTOR x it + AMP_GRAD_SLACK).  At this random
 * initialisation the early layers' gradients are sums of cancelling terms, so both AMP
 * forms are far from f32 there (the emulation by 7.6% on average, 16% at most); half
 * storage also rounds the filters (autocast's cast) and every partial sum of a
 * gradient, measured 12% on average and 30% at most on the CPU.  The emulation's
 * error on one such tensor depends on the host's BLAS kernels (on a Zen host without
 * AVX-512 it was 0.05 where half storage had 0.22, a ratio of 4.4), so a tensor also
 * passes under an absolute cap, and the mean over tensors must keep the ratio: a
 * real half-storage bug (a wrong conversion, an overflow) breaks both. */
#define AMP_GRAD_FACTOR 2.5
#define AMP_GRAD_SLACK 0.02
#define AMP_GRAD_CAP 0.35

static void compare_grads(yolo_model *f, yolo_model *e, yolo_model *h, const char *nm)
{
    float *gf = mh_host_copy(f, yolo_model_grads(f)), *ge = mh_host_copy(e, yolo_model_grads(e)),
          *gh = mh_host_copy(h, yolo_model_grads(h));
    size_t bad = 0, n = yolo_model_num_params(f);
    double sum_e = 0, sum_h = 0;
    int nr = yolo_model_num_param_ranges(f);
    for (int i = 0; gf && ge && gh && i < nr; i++) {
        const nn_param_range *r = yolo_model_param_range(f, i);
        double ee = rel_l2(ge + r->offset, gf + r->offset, r->count);
        double eh = rel_l2(gh + r->offset, gf + r->offset, r->count);
        sum_e += ee, sum_h += eh;
        if (eh <= AMP_GRAD_FACTOR * ee + AMP_GRAD_SLACK || eh <= AMP_GRAD_CAP) continue;
        if (bad++ < 5) tap_diag("%s: relative L2 error vs f32 %.4f (emulation %.4f)", r->name, eh, ee);
    }
    if (gf && ge && gh)
        tap_diag("%s: gradient error vs f32 per tensor: mean %.4f (emulation %.4f); whole vector %.4f (%.4f)", nm,
                 sum_h / nr, sum_e / nr, rel_l2(gh, gf, n), rel_l2(ge, gf, n));
    TAP_OK(gf && ge && gh && bad == 0,
           "%s: every parameter gradient within %.1fx the emulation's error vs f32 + %.2f, or %.2f (%zu of %d tensors not)",
           nm, AMP_GRAD_FACTOR, AMP_GRAD_SLACK, AMP_GRAD_CAP, bad, nr);
    TAP_OK(gf && ge && gh && sum_h <= AMP_GRAD_FACTOR * sum_e + AMP_GRAD_SLACK * nr,
           "%s: mean gradient error within %.1fx the emulation's + %.2f (%.4f vs %.4f)", nm, AMP_GRAD_FACTOR,
           AMP_GRAD_SLACK, sum_h / nr, sum_e / nr);
    free(gf);
    free(ge);
    free(gh);
}

static void compare_step(yolo_model *f, yolo_model *e, yolo_model *h, const uint8_t *img, const float *tg, int nt,
                         const char *nm)
{
    size_t na = yolo_model_num_anchors_total(e), n = (size_t)B * na * (5 + NC);
    float *de = malloc(sizeof(float) * n), *dh = malloc(sizeof(float) * n);
    int ok = de && dh && yolo_model_forward(e, img, 0) == DY_OK && yolo_model_forward(h, img, 0) == DY_OK;
    if (ok) yolo_model_decode(e, de), yolo_model_decode(h, dh);
    TAP_OK(ok && mismatches("decoded output", dh, de, n, 2e-3, 1e-2) == 0,
           "%s: eval-mode outputs (%zu values) match the AMP emulation", nm, n);
    free(de);
    free(dh);
    yolo_loss_parts lf, le, lh;
    ok = mh_step_loss(f, img, tg, nt, &lf) == DY_OK && mh_step_loss(e, img, tg, nt, &le) == DY_OK &&
         mh_step_loss(h, img, tg, nt, &lh) == DY_OK;
    if (!ok) tap_diag("%s", err_msg());
    float pe[4] = {(float)le.box, (float)le.obj, (float)le.cls, (float)le.total};
    float ph[4] = {(float)lh.box, (float)lh.obj, (float)lh.cls, (float)lh.total};
    TAP_OK(ok && mismatches("loss parts", ph, pe, 4, 0, 2e-3) == 0,
           "%s: loss parts match the AMP emulation (total %.6f vs %.6f; f32 %.6f)", nm, lh.total, le.total, lf.total);
    if (ok) compare_grads(f, e, h, nm);
}

/* h's 20-step SGD loss curve against reference e's (named ref). */
static void compare_trajectory(yolo_model *e, yolo_model *h, const uint8_t *img, const float *tg, int nt,
                               const char *nm, const char *ref, int steps)
{
    optim oe, oh;
    mh_set_optim(&oe, e);
    mh_set_optim(&oh, h);
    float *le = calloc((size_t)steps, sizeof(float)), *lh = calloc((size_t)steps, sizeof(float));
    int ok = le && lh && oe.m && oh.m;
    for (int s = 0; ok && s < steps; s++) {
        yolo_loss_parts pe, ph;
        ok = mh_step_loss(e, img, tg, nt, &pe) == DY_OK && mh_step_loss(h, img, tg, nt, &ph) == DY_OK;
        optim_step(&oe, yolo_model_params(e), yolo_model_grads(e));
        optim_step(&oh, yolo_model_params(h), yolo_model_grads(h));
        le[s] = (float)pe.total, lh[s] = (float)ph.total;
    }
    if (ok) tap_diag("%s: loss %.5f -> %.5f over %d steps (%s %.5f -> %.5f)", nm, lh[0], lh[steps - 1], steps, ref,
                     le[0], le[steps - 1]);
    /* half filters hide updates below half an ULP of a weight until the f32 master
     * weights have moved enough (as with autocast): the curves part by ~2% at first */
    TAP_OK(ok && mismatches("loss trajectory", lh, le, (size_t)steps, 0, 5e-2) == 0 && lh[steps - 1] < 0.9 * lh[0],
           "%s: a %d-step SGD trajectory stays within 5%% of %s's and falls", nm, steps, ref);
    optim_destroy(&oe);
    optim_destroy(&oh);
    free(le);
    free(lh);
}

/* A loss scale far beyond binary16's range: the half gradients overflow, the scaler
 * skips the step and halves the scale (single rank; tests/train/test_scaler_mpi
 * checks that every rank agrees). */
static void check_overflow(const tn_backend *be, const char *spec, const uint8_t *img, const float *tg, int nt)
{
    yolo_model *m = make(be, spec, 1, 1e9f);
    loss_scaler sc;
    scaler_init(&sc, 1e9f, 2000, 1.f, 0);
    yolo_loss_parts lp;
    int skip = 0, ok = m && mh_step_loss(m, img, tg, nt, &lp) == DY_OK;
    int over = ok && scaler_unscale(&sc, yolo_model_backend(m), yolo_model_grads(m), yolo_model_num_params(m));
    ok = ok && scaler_update(&sc, NULL, over, &skip) == DY_OK;
    TAP_OK(ok && over && skip && sc.scale == 5e8f && sc.skipped == 1,
           "%s: loss scale 1e9 overflows the half gradients: step skipped, scale halved to %g", be->name,
           (double)sc.scale);
    yolo_model_free(m);
}

static void run_half(const tn_backend *base, const char *spec, const uint8_t *img, const float *tg, int nt,
                     int steps)
{
    yolo_model *f = make(tn_backend_cpu(), spec, 0, 1.f), *e = make(tn_backend_cpu(), spec, 1, 1.f),
               *h = make(base, spec, 1, 1.f);
    const char *nm = h ? yolo_model_backend(h)->name : base->name;
    if (TAP_OK(f && e && h, "%s: yolov5n at %d px, batch %d: f32, AMP emulation and half storage", nm, S, B)) {
        check_memory(f, h, nm);
        compare_step(f, e, h, img, tg, nt, nm);
        compare_trajectory(e, h, img, tg, nt, nm, "the AMP emulation", steps);
    }
    yolo_model_free(f);
    yolo_model_free(e);
    yolo_model_free(h);
    if (base->device == TN_CUDA) { /* AMP on the GPU against f32 on the same GPU */
        yolo_model *g32 = make(base, spec, 0, 1.f), *g16 = make(base, spec, 1, 1.f);
        if (TAP_OK(g32 && g16, "cuda: f32 and AMP models"))
            compare_trajectory(g32, g16, img, tg, nt, "cuda AMP", "cuda f32", steps);
        yolo_model_free(g32);
        yolo_model_free(g16);
    }
    check_overflow(base, spec, img, tg, nt);
}

int main(int argc, char **argv)
{
    (void)argc;
    tn_cpu_blas_fix_coretype(argv);
    const char *top = getenv("TOP_SRCDIR"), *st = getenv("DYOLO_TEST_MODEL_STEPS");
    int steps = st ? atoi(st) : 20;
    if (steps < 2) steps = 2;
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/configs/models/yolov5n.json", top ? top : "..");
    uint8_t *img = malloc((size_t)B * 3 * S * S);
    float tg[6 * MAXT];
    int nt = mh_draw_batch(img, tg, 11, 0x6831);

    TAP_OK(tn_backend_cpu()->half_acts == NULL && tn_backend_cpu_half()->act_dtype == TN_F16,
           "the CPU emulates AMP (no half table); cpu-f16 stores half");
    check_mem_stats(tn_backend_cpu(), tn_backend_cpu_half(), spec);
    run_half(tn_backend_cpu_half(), spec, img, tg, nt, steps);

    const tn_backend *cuda = NULL;
    tn_cuda_opts co = {.device = 0};
    if (tn_backend_cuda_open(&co, &cuda) == DY_OK) {
        TAP_OK(cuda->half_acts && cuda->half_acts()->act_dtype == TN_F16, "cuda has a half-storage table");
        check_mem_stats(cuda, cuda, spec);
        run_half(cuda, spec, img, tg, nt, steps);
        tn_backend_cuda_close();
    } else if (getenv("DYOLO_REQUIRE_GPU") && atoi(getenv("DYOLO_REQUIRE_GPU"))) {
        TAP_OK(0, "cuda AMP: DYOLO_REQUIRE_GPU is set but there is no usable GPU (%s)", err_msg());
    } else {
        printf("ok %d - cuda AMP (half storage) vs emulation: SKIP: no usable GPU (%s) # SKIP\n", ++tap_n, err_msg());
    }
    free(img);
    return tap_done();
}
