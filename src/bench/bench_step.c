/* bench_step.c -- `dyolo bench step`: its options, and the CPU report: times
 * forward, loss and backward of a training step on synthetic images and targets,
 * reports time per image, images/s, achieved GFLOP/s (whole step and 3x3
 * convolutions alone), peak activation and backend memory, the machine's OpenBLAS
 * SGEMM peak, and optionally runs a PyTorch script on the same model, batch and
 * threads so both land side by side in one table.  With --device cuda (or
 * --full-step) the whole training step runs on a backend instead (bench_step_dev.c).
 *
 * defines: bench_step_main, bench_sgemm_peak, bench_synth_batch, bench_spec_name */
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/rng.h"
#include "core/timer.h"
#include "bench/bench_step.h"
#include "model/model.h"

static const char step_help[] =
    "usage: dyolo bench step --config SPEC[,SPEC..] [--imgsz PX] [--batch B[,B..]]\n"
    "                        [--amp 0|1[,..]] [--threads T] [--iters N] [--warmup W]\n"
    "                        [--nc N] [--torch SCRIPT] [--device cpu|cuda] [--full-step]\n"
    "\n"
    "Time training steps of a model spec on synthetic images.  On the CPU (default):\n"
    "forward + loss + backward, forward/backward/total ms per image, images/s, GFLOP/s,\n"
    "the GFLOP/s of the 3x3 convolutions alone, peak activation and backend memory and\n"
    "the OpenBLAS SGEMM peak on the same threads. --torch runs `python3 SCRIPT --spec\n"
    "SPEC --imgsz PX --batch B --threads T --iters N` and prints its images/s beside.\n"
    "With --device cuda (or --full-step on the CPU): the whole training step as `dyolo\n"
    "train` runs it (forward, loss, backward, AMP unscale + overflow check, clipping,\n"
    "SGD, EMA) timed per phase, img/s, ms/step, TFLOP/s, MFU against the GPU's peak\n"
    "and the peak backend memory of the step.  Lists run every spec x amp x batch.\n"
    "Every configuration ends with one \"bench-row\" line (key=value, for scripts).\n"
    "\n"
    "  --config SPEC   model spec(s) (default configs/models/yolov5n.json)\n"
    "  --imgsz PX      input size (default 320)     --batch B   batch(es) (default 8)\n"
    "  --amp A         0: f32, 1: AMP (half storage on a GPU, emulated on the CPU; loss scaling); list allowed\n"
    "  --threads T     threads (default: all cores) --iters N   timed steps (default 5)\n"
    "  --warmup W      untimed steps first (--device cuda / --full-step; default 2)\n"
    "  --device D      cpu (default) or cuda: the CUDA backend on GPU 0\n"
    "  --full-step     the backend report (as with cuda) on the CPU backend\n"
    "  -h, --help      show this help\n"
    "\n"
    "Distributed mode (step-time breakdown, all-reduce hidden behind backward):\n"
    "  mpirun -np N dyolo bench step --dist ...   (dyolo bench step --dist --help)\n";

double bench_sgemm_peak(int n, int reps)
{
    float *a = malloc(sizeof(float) * (size_t)n * n * 3);
    if (!a) return 0;
    float *b = a + (size_t)n * n, *c = b + (size_t)n * n;
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = timer_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a, n, b, n, 0.f, c, n);
        double t = timer_now() - t0;
        if (r && t < best) best = t;
    }
    free(a);
    return 2.0 * n * n * (double)n / best / 1e9;
}

/* OpenBLAS SGEMM right now: bench_sgemm_peak(n) on each of `threads` threads at
 * once, each single-threaded (as dyolo's own parts run OpenBLAS); the slowest
 * thread's rate times the threads, 0 on failure.  Measured after every timed step,
 * it is the yardstick of that step's 3x3 rate: on a shared VM the machine's speed drifts
 * by 20-40% within a run, and a ratio of two moments measures the neighbours. */
typedef struct {
    int n;
    double gflops;
} sg_arg;

static void *sg_thread(void *p)
{
    sg_arg *s = p;
    s->gflops = bench_sgemm_peak(s->n, 2);
    return NULL;
}

static double sgemm_now(int n, int threads)
{
    enum { MAXT = 64 };
    pthread_t t[MAXT];
    sg_arg a[MAXT];
    int started = 0;
    double slowest = 1e30;
    if (threads > MAXT) threads = MAXT;
    for (int i = 0; i < threads; i++) {
        a[i] = (sg_arg){.n = n};
        if (pthread_create(&t[i], NULL, sg_thread, &a[i]) == 0) started++;
        else break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        if (a[i].gflops < slowest) slowest = a[i].gflops;
    }
    return started == threads && slowest > 0 ? threads * slowest : 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* "16,32,64" -> {16, 32, 64}; every value in [lo, hi]. */
static int parse_int_list(const char *o, const char *v, int lo, int hi, int *out, int *n)
{
    *n = 0;
    for (const char *p = v;;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || x < lo || x > hi || *n == BENCH_MAX_LIST)
            return cli_usage_error("bench step", "%s wants up to %d integers in [%d, %d] separated by commas, got \"%s\"",
                                   o, BENCH_MAX_LIST, lo, hi, v);
        out[(*n)++] = (int)x;
        if (!*end) return 0;
        p = end + 1;
    }
}

/* "a.json,b.json" -> pointers into a copy kept for the run (argv stays as it is). */
static int parse_spec_list(const char *v, bench_step_args *a)
{
    static char buf[4096];
    if (strlen(v) >= sizeof buf) return cli_usage_error("bench step", "--config list too long");
    strcpy(buf, v);
    a->nspecs = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->nspecs == BENCH_MAX_LIST) return cli_usage_error("bench step", "at most %d specs", BENCH_MAX_LIST);
        a->specs[a->nspecs++] = t;
    }
    return a->nspecs ? 0 : cli_usage_error("bench step", "--config wants a spec");
}

static int parse_value(bench_step_args *a, const char *o, const char *v)
{
    int *dst = !strcmp(o, "--imgsz") ? &a->imgsz : !strcmp(o, "--threads") ? &a->threads
             : !strcmp(o, "--iters") ? &a->iters : !strcmp(o, "--nc") ? &a->nc
             : !strcmp(o, "--warmup") ? &a->warmup : NULL;
    if (dst) { /* one value */
        int one[BENCH_MAX_LIST], n = 0, r = parse_int_list(o, v, dst == &a->warmup ? 0 : 1, 100000, one, &n);
        if (r) return r;
        if (n != 1) return cli_usage_error("bench step", "%s wants one value, got \"%s\"", o, v);
        *dst = one[0];
        return 0;
    }
    if (!strcmp(o, "--batch")) return parse_int_list(o, v, 1, 100000, a->batches, &a->nbatches);
    if (!strcmp(o, "--amp")) return parse_int_list(o, v, 0, 1, a->amps, &a->namps);
    if (!strcmp(o, "--config") || !strcmp(o, "--spec")) return parse_spec_list(v, a);
    if (!strcmp(o, "--torch")) a->torch = v;
    else if (!strcmp(o, "--device")) {
        if (strcmp(v, "cpu") && strcmp(v, "cuda"))
            return cli_usage_error("bench step", "--device wants cpu or cuda, got \"%s\"", v);
        a->device = v;
    } else return cli_usage_error("bench step", "unknown option \"%s\"", o);
    return 0;
}

/* 0: run; 1: help shown; else an exit code + 1. */
static int parse_args(int argc, char **argv, bench_step_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(step_help, stdout);
            return 1;
        }
        if (!strcmp(o, "--full-step")) {
            a->full_step = 1;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("bench step", "unknown option or missing value \"%s\"", o) + 1;
        int r = parse_value(a, o, argv[++i]);
        if (r) return r + 1;
    }
    if (a->imgsz % 32) return cli_usage_error("bench step", "--imgsz must be a multiple of 32") + 1;
    return 0;
}

void bench_spec_name(const char *spec, char *out, int len)
{
    const char *b = strrchr(spec, '/');
    b = b ? b + 1 : spec;
    int n = (int)strcspn(b, ".");
    snprintf(out, (size_t)len, "%.*s", n, b);
}

void bench_synth_batch(uint8_t *img, float *tg, int batch, int imgsz, int nc, uint64_t key, uint64_t stream)
{
    rng_stream r;
    rng_stream_init(&r, 1, key, 0, stream);
    for (size_t i = 0; i < (size_t)batch * 3 * imgsz * imgsz; i++) img[i] = (uint8_t)rng_below(&r, 256);
    for (int t = 0; t < 4 * batch; t++) {
        float *p = tg + 6 * t;
        p[0] = (float)(t / 4);
        p[1] = (float)rng_below(&r, (uint32_t)nc);
        p[4] = rng_uniform_range(&r, 0.05f, 0.5f);
        p[5] = rng_uniform_range(&r, 0.05f, 0.5f);
        p[2] = rng_uniform_range(&r, p[4] / 2, 1 - p[4] / 2);
        p[3] = rng_uniform_range(&r, p[5] / 2, 1 - p[5] / 2);
    }
}

/* FLOPs (forward + backward-filter + backward-data) of the 3x3 convolutions and the
 * seconds spent in them alone (im2col + GEMM, without BN/SiLU). */
static double conv3_flops(nn_graph *g, const double *conv_secs, double *secs)
{
    double fl = 0;
    *secs = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const nn_node *n = &g->nodes[i];
        if (n->kind != NN_CONV || n->k != 3) continue;
        fl += 3 * 2.0 * n->c * n->h * n->w * g->batch * (double)g->nodes[n->in[0]].c * 9;
        *secs += conv_secs[i];
    }
    return fl;
}

static void print_profile(const nn_graph *g, const double *prof, int iters)
{
    static const char *kinds[] = {"input", "conv", "add", "maxpool", "upsample", "concat"};
    for (int i = 0; i < g->nnodes; i++) {
        const nn_node *n = &g->nodes[i];
        printf("node %3d %-8s k%d s%d %4d->%4d %3dx%-3d fwd %7.2f ms bwd %7.2f ms conv %7.2f ms\n", i,
               kinds[n->kind], n->k, n->stride, n->nin ? g->nodes[n->in[0]].c : 0, n->c, n->h, n->w,
               1e3 * prof[i] / iters, 1e3 * prof[g->nnodes + i] / iters, 1e3 * prof[2 * g->nnodes + i] / iters);
    }
}

static int run_torch(const bench_step_args *a, const char *spec, int batch, double *ips)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 '%s' --spec '%s' --imgsz %d --batch %d --threads %d --iters %d 2>&1",
             a->torch, spec, a->imgsz, batch, a->threads, a->iters);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    *ips = -1;
    while (fgets(line, sizeof line, p)) {
        double v;
        if (sscanf(line, "torch images/s %lf", &v) == 1) *ips = v;
        else fprintf(stderr, "torch: %s", line);
    }
    return pclose(p) == 0 && *ips > 0 ? 0 : -1;
}

/* The CPU report of one configuration (spec, batch, amp). */
static int bench(const bench_step_args *a, const char *spec, int batch, int amp)
{
    yolo_model *m;
    if (yolo_model_create(spec, a->nc, &m) != DY_OK) return cli_fail("bench step");
    yolo_model_opts o = {.threads = a->threads, .f16 = amp, .loss_scale = 1.f};
    yolo_model_set_opts(m, &o);
    yolo_model_init(m, 1);
    int nc = yolo_model_nc(m);
    uint8_t *img = malloc((size_t)batch * 3 * a->imgsz * a->imgsz);
    float *tg = malloc(sizeof(float) * 24 * (size_t)batch);
    nn_graph *g = yolo_model_graph(m);
    double *prof = calloc(3 * (size_t)g->nnodes, sizeof(double));
    if (!img || !tg || !prof || yolo_model_plan(m, batch, a->imgsz, a->imgsz) != DY_OK) {
        free(img); free(tg); free(prof); yolo_model_free(m);
        return cli_fail("bench step");
    }
    bench_synth_batch(img, tg, batch, a->imgsz, nc, 0xbe, 0);
    enum { SG_N = 1024 };
    double *ratio = calloc((size_t)a->iters, sizeof(double)), sg_lo = 1e30, sg_hi = 0;
    if (!ratio) {
        free(img); free(tg); free(prof); yolo_model_free(m);
        return cli_fail("bench step");
    }
    const double f3 = conv3_flops(g, prof + 2 * g->nnodes, &(double){0}); /* per step */
    double tf = 0, tl = 0, tb = 0, s3_prev = 0, s3_best = 1e30, s3;
    yolo_loss_parts lp;
    const tn_backend *be = tn_backend_cpu();
    size_t mem_now = 0, mem_peak = 0;
    for (int it = -1; it < a->iters; it++) { /* iteration -1 warms up */
        if (it == 0 && be->mem_reset_peak) be->mem_reset_peak(); /* the peak of the timed steps */
        g->prof_fwd = it >= 0 ? prof : NULL;
        g->prof_bwd = it >= 0 ? prof + g->nnodes : NULL;
        g->prof_conv = it >= 0 ? prof + 2 * g->nnodes : NULL;
        double t0 = timer_now();
        yolo_model_forward(m, img, 1);
        double t1 = timer_now();
        if (yolo_model_loss(m, tg, 4 * batch, &lp) != DY_OK) return cli_fail("bench step");
        double t2 = timer_now();
        yolo_model_backward(m);
        double t3 = timer_now();
        if (it >= 0) {
            tf += t1 - t0; tl += t2 - t1; tb += t3 - t2;
            conv3_flops(g, prof + 2 * g->nnodes, &s3);
            if (s3 - s3_prev < s3_best) s3_best = s3 - s3_prev;
            double sg = sgemm_now(SG_N, a->threads);
            ratio[it] = sg > 0 ? f3 / (s3 - s3_prev) / 1e9 / sg : 0;
            if (sg < sg_lo) sg_lo = sg;
            if (sg > sg_hi) sg_hi = sg;
            s3_prev = s3;
        }
    }
    qsort(ratio, (size_t)a->iters, sizeof(double), cmp_double);
    const double r_med = a->iters % 2 ? ratio[a->iters / 2] : (ratio[a->iters / 2 - 1] + ratio[a->iters / 2]) / 2;
    free(ratio);
    g->prof_fwd = g->prof_bwd = g->prof_conv = NULL;
    double n = (double)a->iters * batch, step = (tf + tl + tb) / n;
    double gf = yolo_model_gflops(m, a->imgsz, a->imgsz); /* forward GFLOPs per image */
    openblas_set_num_threads(a->threads); /* the peak of the library on all threads */
    double peak = bench_sgemm_peak(2048, 10);
    openblas_set_num_threads(1);
    printf("model %s  imgsz %d  batch %d  threads %d  iters %d\n", spec, a->imgsz, batch, a->threads, a->iters);
    printf("forward   %8.2f ms/img\nloss      %8.2f ms/img\nbackward  %8.2f ms/img\n", 1e3 * tf / n, 1e3 * tl / n, 1e3 * tb / n);
    printf("total     %8.2f ms/img   %.2f images/s\n", 1e3 * step, 1.0 / step);
    printf("step GFLOP/s   %.1f  (%.2f GFLOPs/img forward, x3 for a step)\n", 3 * gf / step, gf);
    double c3 = f3 / s3_best / 1e9;
    printf("3x3 conv GFLOP/s %.1f (%.0f%% of SGEMM peak; best step of %d, mean %.1f; fwd + bwd, without BN/SiLU)\n",
           c3, 100.0 * r_med, a->iters, f3 * a->iters / s3 / 1e9);
    printf("3x3 / SGEMM    %.0f%% (median over the steps of each step's 3x3 rate over SGEMM measured right\n"
           "               after it, %dx %d^3 one per thread: %.1f-%.1f GFLOP/s); best step / peak below %.0f%%\n",
           100.0 * r_med, a->threads, SG_N, sg_lo, sg_hi, 100.0 * c3 / peak);
    printf("SGEMM peak     %.1f GFLOP/s (2048^3, best of 10, %d threads)\n", peak, a->threads);
    printf("peak activation memory %.1f MB\n", nn_graph_arena_bytes(g) / 1e6);
    if (be->mem_stats) be->mem_stats(&mem_now, &mem_peak);
    if (be->mem_stats) printf("peak backend memory %.1f MiB (all CPU-backend buffers: parameters, gradients, activations)\n",
                              mem_peak / 1048576.0);
    printf("dyolo images/s %.2f\n", 1.0 / step);
    if (getenv("DYOLO_BENCH_PROFILE")) print_profile(g, prof, a->iters);
    char name[64];
    bench_spec_name(spec, name, sizeof name);
    bench_row row = {.tool = "dyolo", .model = name, .prec = amp ? "amp" : "f32", .step = "fwd+loss+bwd",
                     .device = "cpu", .math = GPU_MATH_FP32, .imgsz = a->imgsz, .batch = batch, .iters = a->iters,
                     .ms_step = 1e3 * step * batch, .img_s = 1.0 / step, .gflops_img = gf,
                     .peak_mib = be->mem_stats ? mem_peak / 1048576.0 : -1};
    bench_row_print(&row);
    double tips;
    if (a->torch) {
        if (run_torch(a, spec, batch, &tips) == 0) printf("torch images/s %.2f   (dyolo/torch %.2fx)\n", tips, 1.0 / step / tips);
        else printf("torch images/s n/a (the script failed; is torch installed?)\n");
    }
    free(img); free(tg); free(prof);
    yolo_model_free(m);
    fflush(stdout);
    return CLI_EXIT_OK;
}

int bench_step_main(int argc, char **argv)
{
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    bench_step_args a = {.specs = {"configs/models/yolov5n.json"}, .nspecs = 1, .batches = {8}, .nbatches = 1,
                         .amps = {0}, .namps = 1, .imgsz = 320, .threads = nproc > 0 ? (int)nproc : 1, .iters = 5,
                         .warmup = 2};
    int r = parse_args(argc, argv, &a);
    if (r) return r == 1 ? CLI_EXIT_OK : r - 1;
    if (a.full_step || (a.device && !strcmp(a.device, "cuda"))) return bench_step_dev_run(&a);
    for (int i = 0; i < a.nspecs; i++)
        for (int k = 0; k < a.namps; k++)
            for (int j = 0; j < a.nbatches; j++) {
                r = bench(&a, a.specs[i], a.batches[j], a.amps[k]);
                if (r != CLI_EXIT_OK) return r;
            }
    return CLI_EXIT_OK;
}
