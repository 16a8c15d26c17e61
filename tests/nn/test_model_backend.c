/* test_model_backend.c -- a whole model on another backend against the CPU backend:
 * yolov5n at 160 px, batch 4, same seed on both sides; the eval-mode head outputs
 * (decoded), the loss parts, every parameter gradient, and a 20-step SGD loss
 * trajectory, each with llm.c's |x - ref| <= atol + rtol |ref| and the first
 * mismatches printed.
 *
 * Backends compared with the CPU:
 *  - "cpu-staged" (tn_backend_cpu_staged, the testing device `runtime.device=cpu-staged`):
 *    the CPU backend's own ops with host_mem = 0, so the model takes
 *    every path a device backend takes (input upload, Detect-output download,
 *    loss-gradient upload, initialisation through a host copy, state get/put) while
 *    the arithmetic stays the CPU's.  It must agree bit for bit, on every machine.
 *  - "cuda": the CUDA backend when a GPU is usable; otherwise the test prints
 *    `SKIP: no usable GPU (<reason>)`.
 * DYOLO_TEST_MODEL_STEPS overrides the 20 steps; DYOLO_REQUIRE_GPU=1 (the GPU check
 * script) turns the SKIP into a failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/model.h"
#include "tests/nn/model_harness.h"
#include "tests/tap.h"
#include "train/optim.h"

enum { B = MH_B, S = MH_S, NC = MH_NC, MAXT = MH_MAXT };

typedef struct {
    double atol, rtol;
} tol;

/* Counts values outside atol + rtol |ref|, printing the first few. */
static size_t mismatches(const char *what, const float *x, const float *ref, size_t n, tol t)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - ref[i]);
        if (d <= t.atol + t.rtol * fabs((double)ref[i]) && isfinite(x[i])) continue;
        if (bad++ < 5) tap_diag("%s[%zu] = %.7g, reference %.7g (|diff| %.3g)", what, i, x[i], ref[i], d);
    }
    if (bad > 5) tap_diag("%s: %zu of %zu values differ", what, bad, n);
    return bad;
}

static yolo_model *make(const tn_backend *be, const char *spec)
{
    yolo_model *m = NULL;
    yolo_model_opts o = {.threads = 1, .loss_scale = 1.f};
    if (yolo_model_create_on(be, spec, NC, &m) != DY_OK || yolo_model_init(m, 3) != DY_OK ||
        yolo_model_plan(m, B, S, S) != DY_OK) {
        tap_diag("%s: %s", be->name, err_msg());
        yolo_model_free(m);
        return NULL;
    }
    yolo_model_set_opts(m, &o);
    return m;
}

static void compare_outputs(yolo_model *a, yolo_model *x, const uint8_t *img, const char *nm, tol t)
{
    size_t na = yolo_model_num_anchors_total(a), n = (size_t)B * na * (5 + NC);
    float *da = malloc(sizeof(float) * n), *dx = malloc(sizeof(float) * n);
    int ok = da && dx && yolo_model_forward(a, img, 0) == DY_OK && yolo_model_forward(x, img, 0) == DY_OK;
    if (ok) {
        yolo_model_decode(a, da);
        yolo_model_decode(x, dx);
    }
    TAP_OK(ok && mismatches("decoded head output", dx, da, n, t) == 0,
           "%s: eval-mode head outputs (%zu decoded values) match the CPU", nm, n);
    free(da);
    free(dx);
}

static void compare_grads(yolo_model *a, yolo_model *x, const uint8_t *img, const float *tg, int nt,
                          const char *nm, tol tl, tol tg_)
{
    yolo_loss_parts la, lx;
    int ok = mh_step_loss(a, img, tg, nt, &la) == DY_OK && mh_step_loss(x, img, tg, nt, &lx) == DY_OK;
    if (!ok) tap_diag("%s", err_msg());
    float pa[4] = {(float)la.box, (float)la.obj, (float)la.cls, (float)la.total};
    float px[4] = {(float)lx.box, (float)lx.obj, (float)lx.cls, (float)lx.total};
    TAP_OK(ok && mismatches("loss (box obj cls total)", px, pa, 4, tl) == 0,
           "%s: training-mode loss parts match the CPU (total %.6f vs %.6f)", nm, lx.total, la.total);
    float *ga = mh_host_copy(a, yolo_model_grads(a)), *gx = mh_host_copy(x, yolo_model_grads(x));
    size_t n = yolo_model_num_params(a), bad = 0;
    /* gradients are compared per named tensor, atol scaled by the tensor's largest value */
    for (int i = 0; ok && ga && gx && i < yolo_model_num_param_ranges(a); i++) {
        const nn_param_range *r = yolo_model_param_range(a, i);
        double mx = 0;
        for (size_t j = 0; j < r->count; j++) mx = fmax(mx, fabs(ga[r->offset + j]));
        tol t = {tg_.atol * mx, tg_.rtol};
        bad += mismatches(r->name, gx + r->offset, ga + r->offset, r->count, t) != 0;
    }
    TAP_OK(ok && ga && gx && bad == 0, "%s: all %zu parameter gradients match the CPU (%zu tensors differ)", nm, n,
           bad);
    free(ga);
    free(gx);
}

static void compare_trajectory(yolo_model *a, yolo_model *x, const uint8_t *img, const float *tg, int nt,
                               const char *nm, tol t, int steps)
{
    optim oa, ox;
    mh_set_optim(&oa, a);
    mh_set_optim(&ox, x);
    float *la = calloc((size_t)steps, sizeof(float)), *lx = calloc((size_t)steps, sizeof(float));
    int ok = la && lx && oa.m && ox.m;
    for (int s = 0; ok && s < steps; s++) {
        yolo_loss_parts pa, px;
        ok = mh_step_loss(a, img, tg, nt, &pa) == DY_OK && mh_step_loss(x, img, tg, nt, &px) == DY_OK;
        optim_step(&oa, yolo_model_params(a), yolo_model_grads(a));
        optim_step(&ox, yolo_model_params(x), yolo_model_grads(x));
        la[s] = (float)pa.total, lx[s] = (float)px.total;
    }
    if (ok) tap_diag("%s: loss %.5f -> %.5f over %d steps (CPU %.5f -> %.5f)", nm, lx[0], lx[steps - 1], steps,
                     la[0], la[steps - 1]);
    TAP_OK(ok && mismatches("loss trajectory", lx, la, (size_t)steps, t) == 0 && la[steps - 1] < la[0],
           "%s: a %d-step SGD loss trajectory matches the CPU's and falls", nm, steps);
    optim_destroy(&oa);
    optim_destroy(&ox);
    free(la);
    free(lx);
}

typedef struct {
    tol out, loss, grad, traj;
} tols;

static void compare(const tn_backend *be, const char *spec, const uint8_t *img, const float *tg, int nt,
                    const tols *t, int steps)
{
    yolo_model *a = make(tn_backend_cpu(), spec), *x = make(be, spec);
    if (TAP_OK(a && x, "%s: yolov5n (nc %d) at %d px, batch %d, on the CPU and on %s", be->name, NC, S, B, be->name)) {
        compare_outputs(a, x, img, be->name, t->out);
        compare_grads(a, x, img, tg, nt, be->name, t->loss, t->grad);
        compare_trajectory(a, x, img, tg, nt, be->name, t->traj, steps);
        if (!be->host_mem)
            tap_diag("%s: %.2f MB moved host<->device per step for the loss", be->name,
                     yolo_model_loss_transfer_bytes(x) / 1e6);
    }
    yolo_model_free(a);
    yolo_model_free(x);
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
    int nt = mh_draw_batch(img, tg, 7, 0x6d62);

    /* The CPU's own ops through the device paths: exact. */
    const tn_backend *staged = tn_backend_cpu_staged();
    TAP_OK(!staged->host_mem && staged->conv_fwd == tn_backend_cpu()->conv_fwd,
           "cpu-staged: the CPU backend's ops on memory declared as device memory");
    tols exact = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    compare(staged, spec, img, tg, nt, &exact, steps);

    /* cuDNN/cuBLAS sum in other orders (and may use TF32 where allowed): close, not equal. */
    const tn_backend *cuda = NULL;
    tn_cuda_opts co = {.device = 0};
    if (tn_backend_cuda_open(&co, &cuda) == DY_OK) {
        tols close = {{1e-4, 2e-3}, {1e-5, 1e-3}, {2e-3, 2e-2}, {1e-4, 5e-3}};
        compare(cuda, spec, img, tg, nt, &close, steps);
        tn_backend_cuda_close();
    } else if (getenv("DYOLO_REQUIRE_GPU") && atoi(getenv("DYOLO_REQUIRE_GPU"))) {
        TAP_OK(0, "cuda vs cpu model: DYOLO_REQUIRE_GPU is set but there is no usable GPU (%s)", err_msg());
    } else {
        printf("ok %d - cuda vs cpu model: SKIP: no usable GPU (%s) # SKIP\n", ++tap_n, err_msg());
    }
    free(img);
    return tap_done();
}
