/* bench_step_dev.c -- `dyolo bench step --device cuda` (or --full-step on the CPU):
 * the whole training step as `dyolo train` runs it on one rank, on a backend, for
 * every spec x amp x batch asked for:
 *
 *   forward (uploads the uint8 images, downloads the Detect outputs) -> loss (host)
 *   -> backward (loss scaled when AMP) -> optimizer: AMP unscale + overflow check,
 *   clip to norm 10, SGD (nesterov, weight decay), EMA of weights and BN buffers
 *
 * which is what Ultralytics' train.py does per batch (scaler.unscale_, clip_grad_norm_,
 * scaler.step, ema.update; benchmarks/gpu/ultra_step_gpu.py times that), except that
 * both take an optimizer step every batch (train.py accumulates to 64 images).
 *
 * Timing: a device backend only queues work, so each phase ends with the backend's
 * sync (the compute stream), and the phases add up to the wall time of a step.  The
 * peak memory is the backend's own count of its allocations (memtrack.h: parameters,
 * gradients, optimizer and EMA state, activation arena, workspaces) from a reset
 * before the timed steps; cuDNN's and cuBLAS's internal handles are not in it.
 *
 * FLOPs: yolo_model_gflops (2 x multiply-accumulates of the forward pass, as YOLOv5
 * reports) x 3 for forward + backward-data + backward-filter; BN, SiLU, the loss and
 * the optimizer are not counted.  MFU: that rate over the dense peak of the GPU
 * (gpu_peaks.c) for the math the step used: FP32 (FMA, no TF32) for f32, and the
 * FP16 tensor-core peak for AMP where the backend stores activations as half
 * (act_dtype TN_F16: cuDNN/cuBLAS in half on tensor cores); an AMP that is only
 * emulated (f32 values rounded, the CPU) keeps the FP32 yardstick.
 *
 * defines: bench_step_dev_run, bench_row_print
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_step.h"
#include "bench/bench_step_dist.h"
#include "bench/gpu_peaks.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/gpu.h"
#include "core/timer.h"
#include "model/model.h"
#include "train/ema.h"
#include "train/step.h"
#include "train/train_config.h"

/* One configuration: model, optimizer state and synthetic batch. */
typedef struct {
    cfg *cfg;
    yolo_model *m;
    train_state ts;
    ema buf_ema;
    int have_ts, have_ema, amp, batch;
    uint8_t *img;
    float *tg;
} dev_run;

enum { PH_FWD, PH_LOSS, PH_BWD, PH_OPT, PH_N };

void bench_row_print(const bench_row *r)
{
    char dev[256];
    snprintf(dev, sizeof dev, "%s", r->device);
    for (char *p = dev; *p; p++)
        if (*p == ' ' || *p == '=') *p = '_';
    double tflops = 3 * r->gflops_img * r->img_s / 1e3, peak = gpu_peak_tflops(r->device, r->math);
    printf("bench-row tool=%s model=%s imgsz=%d batch=%d prec=%s step=%s iters=%d ms_step=%.3f img_s=%.2f "
           "gflops_img=%.3f tflops=%.3f math=%s", r->tool, r->model, r->imgsz, r->batch, r->prec, r->step, r->iters,
           r->ms_step, r->img_s, r->gflops_img, tflops, gpu_math_name(r->math));
    if (peak > 0) printf(" mfu=%.4f", tflops / peak);
    else printf(" mfu=n/a");
    if (r->peak_mib >= 0) printf(" peak_mib=%.1f", r->peak_mib);
    else printf(" peak_mib=n/a");
    printf(" peak_fp32=%g peak_tf32=%g peak_fp16=%g device=%s\n", gpu_peak_tflops(r->device, GPU_MATH_FP32),
           gpu_peak_tflops(r->device, GPU_MATH_TF32), gpu_peak_tflops(r->device, GPU_MATH_FP16), dev);
    fflush(stdout);
}

static dy_status set_kv(cfg *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static dy_status set_kv(cfg *c, const char *key, const char *fmt, ...)
{
    char kv[1200];
    int n = snprintf(kv, sizeof kv, "%s=", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(kv + n, sizeof kv - (size_t)n, fmt, ap);
    va_end(ap);
    return cfg_set(c, kv);
}

/* The model and optimizer exactly as `dyolo train` builds them from a config. */
static dy_status dev_setup(dev_run *r, const tn_backend *be, const bench_step_args *a, const char *spec)
{
    DY_TRY(cfg_new(&r->cfg));
    DY_TRY(set_kv(r->cfg, "model.spec", "%s", spec));
    DY_TRY(set_kv(r->cfg, "data.imgsz", "%d", a->imgsz));
    DY_TRY(set_kv(r->cfg, "train.amp", "%s", r->amp ? "true" : "false"));
    DY_TRY(set_kv(r->cfg, "train.batch_size", "%d", r->batch));
    DY_TRY(set_kv(r->cfg, "runtime.threads", "%d", a->threads));
    DY_TRY(yolo_model_from_config(r->cfg, a->nc, be, &r->m));
    DY_TRY(yolo_model_init(r->m, 1));
    DY_TRY(yolo_model_plan(r->m, r->batch, a->imgsz, a->imgsz));
    DY_TRY(bench_train_state(r->cfg, r->m, be, &r->ts, &r->buf_ema, &r->have_ts, &r->have_ema));
    r->img = malloc((size_t)r->batch * 3 * a->imgsz * a->imgsz);
    r->tg = malloc(sizeof(float) * 24 * (size_t)r->batch);
    if (!r->img || !r->tg) return DY_ERR(DY_ENOMEM, "bench step: out of memory for the synthetic batch");
    bench_synth_batch(r->img, r->tg, r->batch, a->imgsz, yolo_model_nc(r->m), 0xbe, 0);
    return DY_OK;
}

static void dev_teardown(dev_run *r)
{
    if (r->have_ema) ema_free(&r->buf_ema);
    if (r->have_ts) train_state_free(&r->ts);
    yolo_model_free(r->m);
    cfg_free(r->cfg);
    free(r->img);
    free(r->tg);
    memset(r, 0, sizeof *r);
}

/* Queued work done, then the clock. */
static dy_status dev_now(const tn_backend *be, double *t)
{
    dy_status s = be->sync();
    *t = timer_now();
    return s;
}

/* One training step, the seconds of each phase added to ph; *skipped counts AMP
 * overflow steps (no update), which are cheaper. */
static dy_status dev_step(dev_run *r, const tn_backend *be, long ni, double *ph, int *skipped)
{
    yolo_model_opts o = *yolo_model_opts_ptr(r->m);
    o.loss_scale = r->amp ? r->ts.scaler.scale : 1.0f;
    yolo_model_set_opts(r->m, &o);
    double t[PH_N + 1];
    yolo_loss_parts lp;
    train_step_info info;
    DY_TRY(dev_now(be, &t[0]));
    DY_TRY(yolo_model_forward(r->m, r->img, 1));
    DY_TRY(dev_now(be, &t[1]));
    DY_TRY(yolo_model_loss(r->m, r->tg, 4 * r->batch, &lp));
    t[2] = timer_now(); /* the loss runs on the host */
    DY_TRY(yolo_model_backward(r->m));
    DY_TRY(dev_now(be, &t[3]));
    DY_TRY(train_apply_step(&r->ts, NULL, yolo_model_params(r->m), yolo_model_grads(r->m), 0, ni, &info));
    if (r->ts.hyp.ema && !info.skipped) ema_update(&r->buf_ema, yolo_model_buffers(r->m));
    DY_TRY(dev_now(be, &t[4]));
    for (int i = 0; i < PH_N; i++) ph[i] += t[i + 1] - t[i];
    *skipped += info.skipped;
    return DY_OK;
}

static void dev_report(const dev_run *r, const bench_step_args *a, const char *spec, const char *device,
                       const double *ph, int skipped, size_t peak)
{
    const tn_backend *be = yolo_model_backend(r->m);
    double n = a->iters, step = (ph[PH_FWD] + ph[PH_LOSS] + ph[PH_BWD] + ph[PH_OPT]) / n;
    double gf = yolo_model_gflops(r->m, a->imgsz, a->imgsz);
    const int half = be->act_dtype == TN_F16;
    const gpu_math math = half ? GPU_MATH_FP16 : GPU_MATH_FP32;
    printf("model %s  imgsz %d  batch %d  %s  iters %d after %d warm-up  device %s (%s)\n", spec, a->imgsz,
           r->batch, !r->amp ? "f32" : half ? "AMP (half storage, tensor cores, loss scale)" : "AMP (emulated: f32 rounded to f16)",
           a->iters, a->warmup, device, be->name);
    printf("forward   %8.3f ms/step\nloss      %8.3f ms/step (host, %.1f MB moved per step)\nbackward  %8.3f ms/step\n"
           "optimizer %8.3f ms/step (%s%d of %d steps skipped on overflow)\n",
           1e3 * ph[PH_FWD] / n, 1e3 * ph[PH_LOSS] / n, yolo_model_loss_transfer_bytes(r->m) / 1e6,
           1e3 * ph[PH_BWD] / n, 1e3 * ph[PH_OPT] / n, r->amp ? "unscale, " : "", skipped, a->iters);
    printf("step      %8.3f ms   %.2f images/s   %.3f ms/img\n", 1e3 * step, r->batch / step, 1e3 * step / r->batch);
    double tf = 3 * gf * r->batch / step / 1e3, pk = gpu_peak_tflops(device, math);
    printf("TFLOP/s   %8.3f  (%.3f GFLOPs/img forward, x3 for forward + backward)", tf, gf);
    if (pk > 0)
        printf("; MFU %.1f%% of %g %s (%s)\n", 100 * tf / pk, pk, half ? "FP16 tensor" : "FP32",
               gpu_peak_find(device)->model);
    else printf("; MFU n/a (no peak known for \"%s\")\n", device);
    if (be->mem_stats) printf("peak backend memory %.1f MiB during the timed steps\n", peak / 1048576.0);
    char name[64];
    bench_spec_name(spec, name, sizeof name);
    bench_row row = {.tool = "dyolo", .model = name, .prec = r->amp ? "amp" : "f32", .step = "fwd+loss+bwd+opt",
                     .device = device, .math = math, .imgsz = a->imgsz, .batch = r->batch,
                     .iters = a->iters, .ms_step = 1e3 * step, .img_s = r->batch / step, .gflops_img = gf,
                     .peak_mib = be->mem_stats ? peak / 1048576.0 : -1};
    bench_row_print(&row);
}

static dy_status dev_one(const tn_backend *be, const bench_step_args *a, const char *spec, int batch, int amp,
                         const char *device)
{
    dev_run r = {.amp = amp, .batch = batch};
    double ph[PH_N] = {0};
    int skipped = 0, junk = 0;
    size_t now = 0, peak = 0;
    dy_status s = dev_setup(&r, be, a, spec);
    for (int it = 0; s == DY_OK && it < a->warmup; it++) { /* algorithm choice, first-touch */
        double w[PH_N] = {0};
        s = dev_step(&r, be, it, w, &junk);
    }
    if (s == DY_OK && be->mem_reset_peak) be->mem_reset_peak();
    for (int it = 0; s == DY_OK && it < a->iters; it++) s = dev_step(&r, be, a->warmup + it, ph, &skipped);
    if (s == DY_OK && be->mem_stats) be->mem_stats(&now, &peak);
    if (s == DY_OK) dev_report(&r, a, spec, device, ph, skipped, peak);
    dev_teardown(&r);
    return s;
}

int bench_step_dev_run(const bench_step_args *a)
{
    int cuda = a->device && !strcmp(a->device, "cuda");
    const tn_backend *be = tn_backend_cpu();
    tn_cuda_opts co = {.device = 0, .ws_limit_bytes = (size_t)256 << 20};
    if (cuda && tn_backend_cuda_open(&co, &be) != DY_OK) return cli_fail("bench step --device cuda");
    static gpu_info gi; /* large; once */
    char device[256] = "cpu";
    if (cuda) {
        gpu_query(&gi);
        snprintf(device, sizeof device, "%s", gi.device_count > 0 ? gi.dev[0].name : "cuda:0");
    }
    dy_status s = DY_OK;
    for (int i = 0; s == DY_OK && i < a->nspecs; i++)
        for (int k = 0; s == DY_OK && k < a->namps; k++)
            for (int j = 0; s == DY_OK && j < a->nbatches; j++) {
                s = dev_one(be, a, a->specs[i], a->batches[j], a->amps[k], device);
                if (s == DY_OK) printf("\n");
            }
    if (s != DY_OK) cli_fail(cuda ? "bench step --device cuda" : "bench step --full-step");
    if (cuda) tn_backend_cuda_close();
    return s == DY_OK ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}
