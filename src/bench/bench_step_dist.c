/* bench_step_dist.c -- `dyolo bench step --dist`: the distributed training step
 * benchmark.  Under `mpirun -np N` it builds the model, the communicator and DDP
 * exactly as `dyolo train` does (from a config assembled from the options) and runs
 * real training steps through the trainer's own micro-step (train/micro_step.c):
 * forward, loss, backward with the bucketed all-reduce launched from the gradient
 * hook, the wait for the buckets, the optimizer.  It reports per phase the mean ms
 * per step on rank 0 and the maximum over ranks, and how much of the all-reduce the
 * backward hid:
 *
 *   sync wait        the time a rank waits for the slowest one: for its forward (in
 *                    the loss normalizer's all-reduce) and its backward (in
 *                    ddp_finish); rank imbalance, not communication.  On one node
 *                    from time stamps (every rank reads the same monotonic clock),
 *                    otherwise from a barrier before ddp_finish
 *   exposed comm     the rest of the wait in ddp_finish: communication still
 *                    running after the slowest rank finished backward
 *   all-reduce alone the same buckets all-reduced blocking, one after the other,
 *                    after the timed steps, ranks aligned by a barrier; best round
 *   hidden           1 - exposed / alone
 *   hooks            time inside ddp_grad_ready during backward: launching and
 *                    testing buckets; on the MPI transport over shared memory the
 *                    copies and sums of the all-reduce run here, on the rank's own
 *                    core, so they lengthen backward rather than vanish
 *   hidden net       1 - (exposed + hooks) / alone: what overlap hid at no cost
 *
 * Data: synthetic images and boxes (different per rank; data wait 0), or with
 * --data the real loader on those shards.
 *
 * On a GPU (--set runtime.device=cuda: CUDA backend, NCCL) the same breakdown holds
 * because the micro-step waits for the compute stream at the end of backward and of
 * the optimizer (train/micro_step.c): backward is then its kernels' time, exposed
 * comm only the NCCL work left after them, and nothing leaks into the next step.
 * Rank 0 also prints the backend's peak memory over the timed steps.
 *
 * --json PATH: rank 0 also writes the numbers (rank 0's means and the maximum over
 * ranks, and each bucket's size and launch time within the last step's backward) for
 * `dyolo bench scaling`, which predicts other rank counts from them.
 *
 * defines: bench_step_dist_wanted, bench_step_dist_main
 */
#include "bench/bench_step_dist.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/check.h"
#include "core/config.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/timer.h"
#include "data/loader.h"
#include "dist/dist.h"
#include "dist/dist_config.h"
#include "dist/runtime.h"
#include "bench/bench_step.h"
#include "train/micro_step.h"
#include "train/train_config.h"

#define MAX_SETS 64

enum { SYNC_AUTO = 0, SYNC_CLOCK, SYNC_BARRIER, SYNC_OFF };

static const char dist_help[] =
    "usage: mpirun -np N dyolo bench step --dist --config SPEC [--imgsz PX] [--batch B]\n"
    "         [--threads T] [--iters K] [--warmup W] [--bucket-mb M] [--first-bucket-mb M]\n"
    "         [--data MANIFEST] [--nc N] [--sync-wait MODE] [--json PATH] [--set KEY=VALUE]...\n"
    "\n"
    "Distributed mode of `dyolo bench step` (chosen by --dist, by running under mpirun\n"
    "with more than one rank, or by any option below that only it has): real training\n"
    "steps through the trainer's code (forward, loss, backward with bucketed all-reduce\n"
    "overlapped through the gradient hook, optimizer) and the step-time breakdown per\n"
    "phase on rank 0 and the maximum over ranks: data wait, forward, loss, backward,\n"
    "sync wait (rank imbalance: waiting for the slowest rank's forward and backward),\n"
    "exposed communication (after the slowest rank's backward), optimizer; the blocking\n"
    "time of the same all-reduces alone and the share hidden, 1 - exposed / alone.\n"
    "\n"
    "  --config SPEC        model spec (default configs/models/yolov5n.json)\n"
    "  --imgsz PX           input size (default 320)   --batch B   per rank (default 8)\n"
    "  --threads T          threads per rank (default: cores / ranks on the node)\n"
    "  --iters K            timed steps (default 5)    --warmup W  untimed first (default 2)\n"
    "  --bucket-mb M        DDP bucket size, taken as is (default: dist.bucket_mb capped\n"
    "                       by the small-model rule dist.min_buckets)\n"
    "  --first-bucket-mb M  first bucket (dist.first_bucket_mb)\n"
    "  --data MANIFEST      real loader on these shards (default: synthetic batches)\n"
    "  --nc N               classes for synthetic data (default: the spec's)\n"
    "  --sync-wait MODE     how rank imbalance is told from communication: clock (time\n"
    "                       stamps; default on one node), barrier (before the bucket\n"
    "                       wait; default on several nodes; it also progresses the\n"
    "                       all-reduce), off (imbalance counts as exposed comm)\n"
    "  --json PATH          rank 0 writes the breakdown and the buckets (sizes, launch\n"
    "                       times in backward) as JSON, the input of `dyolo bench scaling`\n"
    "  --set KEY=VALUE      any config key (dist.progress=thread, train.amp=true, ...)\n"
    "  -h, --help           show this help\n";

typedef struct {
    const char *spec, *data, *json, *sets[MAX_SETS];
    int imgsz, batch, threads, iters, warmup, nc, sync_wait, nsets; /* sync_wait: SYNC_* */
    double bucket_mb, first_bucket_mb; /* < 0: the config's default */
} dist_args;

typedef struct {
    dist_ctx d;
    cfg *cfg;
    dist_runtime rt;
    comm *comm; /* rt.comm */
    ddp *ddp;
    yolo_model *model;
    train_state ts;
    ema buf_ema;
    int have_state, have_ema;
    data_loader *loader;
    data_batch *cur;
    int64_t epoch;
    uint8_t *img;
    float *tg;
    int ntg;
} bench_ctx;

/* Per-rank totals of the timed steps. */
typedef struct {
    double tm[TRAIN_TM_N], step, alone;
    double t_backward[2]; /* the last step's backward (for the bucket timeline) */
} bench_times;

int bench_step_dist_wanted(int argc, char **argv)
{
    /* --warmup is not here: the single-process --device cuda / --full-step mode has it too */
    static const char *const only_dist[] = {"--dist", "--bucket-mb", "--first-bucket-mb", "--data", "--set",
                                            "--sync-wait", "--json"};
    for (int i = 1; i < argc; i++)
        for (size_t k = 0; k < sizeof only_dist / sizeof *only_dist; k++)
            if (!strcmp(argv[i], only_dist[k])) return 1;
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (!n) n = getenv("PMI_SIZE");
    return n && atoi(n) > 1;
}

/* ------------------------------------------------------------------ options */

static int parse_int(const char *o, const char *v, int lo, int *dst)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > 100000)
        return cli_usage_error("bench step", "%s wants an integer >= %d, got \"%s\"", o, lo, v);
    *dst = (int)x;
    return 0;
}

static int parse_mb(const char *o, const char *v, double *dst)
{
    char *end;
    double x = strtod(v, &end);
    if (*end || !(x >= 0.001 && x <= 4096))
        return cli_usage_error("bench step", "%s wants MB in [0.001, 4096], got \"%s\"", o, v);
    *dst = x;
    return 0;
}

static int parse_value(dist_args *a, const char *o, const char *v)
{
    if (!strcmp(o, "--imgsz")) return parse_int(o, v, 32, &a->imgsz);
    if (!strcmp(o, "--batch")) return parse_int(o, v, 1, &a->batch);
    if (!strcmp(o, "--threads")) return parse_int(o, v, 1, &a->threads);
    if (!strcmp(o, "--iters")) return parse_int(o, v, 1, &a->iters);
    if (!strcmp(o, "--warmup")) return parse_int(o, v, 0, &a->warmup);
    if (!strcmp(o, "--nc")) return parse_int(o, v, 1, &a->nc);
    if (!strcmp(o, "--bucket-mb")) return parse_mb(o, v, &a->bucket_mb);
    if (!strcmp(o, "--first-bucket-mb")) return parse_mb(o, v, &a->first_bucket_mb);
    if (!strcmp(o, "--config") || !strcmp(o, "--spec")) a->spec = v;
    else if (!strcmp(o, "--data")) a->data = v;
    else if (!strcmp(o, "--json")) a->json = v;
    else if (!strcmp(o, "--sync-wait")) {
        a->sync_wait = !strcmp(v, "clock") ? SYNC_CLOCK : !strcmp(v, "barrier") ? SYNC_BARRIER
                     : !strcmp(v, "off") ? SYNC_OFF : -1;
        if (a->sync_wait < 0) return cli_usage_error("bench step", "--sync-wait is clock, barrier or off, not \"%s\"", v);
    }
    else if (!strcmp(o, "--set") && a->nsets < MAX_SETS) a->sets[a->nsets++] = v;
    else return cli_usage_error("bench step", "unknown option \"%s\"", o);
    return 0;
}

/* 0: run; 1: help shown; else an exit code + 1. */
static int parse_args(int argc, char **argv, dist_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(dist_help, stdout);
            return 1;
        }
        if (!strcmp(o, "--dist")) continue;
        if (i + 1 >= argc) return cli_usage_error("bench step", "option \"%s\" needs a value", o) + 1;
        int r = parse_value(a, o, argv[++i]);
        if (r) return r + 1;
    }
    if (a->imgsz % 32) return cli_usage_error("bench step", "--imgsz must be a multiple of 32") + 1;
    return 0;
}

/* ------------------------------------------------------------------ set-up */

static dy_status set_kv(cfg *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static dy_status set_kv(cfg *c, const char *key, const char *fmt, ...)
{
    char v[1024], kv[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    snprintf(kv, sizeof kv, "%s=%s", key, v);
    return cfg_set(c, kv);
}

/* Schema defaults < what the options say < --set.  No accumulation (nbs = global
 * batch); the schedule spans many epochs so the LR stays in warmup's range. */
static dy_status build_config(const dist_args *a, int world, cfg **out)
{
    cfg *c = NULL;
    DY_TRY(cfg_new(&c));
    dy_status s = set_kv(c, "model.spec", "%s", a->spec);
    if (s == DY_OK) s = set_kv(c, "data.imgsz", "%d", a->imgsz);
    if (s == DY_OK) s = set_kv(c, "train.batch_size", "%d", a->batch * world);
    if (s == DY_OK) s = set_kv(c, "train.nbs", "%d", a->batch * world);
    if (s == DY_OK) s = set_kv(c, "runtime.threads", "%d", a->threads);
    if (s == DY_OK && a->data) s = set_kv(c, "data.train", "%s", a->data);
    /* An explicit bucket size is taken as it is (no small-model rule). */
    if (s == DY_OK && a->bucket_mb > 0) s = set_kv(c, "dist.bucket_mb", "%g", a->bucket_mb);
    if (s == DY_OK && a->bucket_mb > 0) s = cfg_set(c, "dist.min_buckets=0");
    if (s == DY_OK && a->first_bucket_mb > 0) s = set_kv(c, "dist.first_bucket_mb", "%g", a->first_bucket_mb);
    for (int i = 0; s == DY_OK && i < a->nsets; i++) s = cfg_set(c, a->sets[i]);
    if (s != DY_OK) {
        cfg_free(c);
        return s;
    }
    *out = c;
    return DY_OK;
}

static dy_status setup_data(bench_ctx *b, const dist_args *a, int *nc)
{
    if (a->data) {
        loader_opts lo;
        loader_opts_from_cfg(b->cfg, 1, &lo);
        lo.batch = a->batch;
        DY_TRY_CTX(loader_open(&b->loader, &a->data, 1, &lo, b->d.world), "--data \"%s\"", a->data);
        *nc = shard_nclass(loader_shards(b->loader));
        return loader_start_epoch(b->loader, 0, 0);
    }
    *nc = a->nc;
    return DY_OK;
}

static dy_status setup_synth(bench_ctx *b, const dist_args *a)
{
    if (a->data) return DY_OK;
    b->ntg = 4 * a->batch;
    b->img = malloc((size_t)a->batch * 3 * a->imgsz * a->imgsz);
    b->tg = malloc(sizeof(float) * 6 * (size_t)b->ntg);
    if (!b->img || !b->tg) return DY_ERR(DY_ENOMEM, "bench step: out of memory for the synthetic batch");
    /* keyed by rank, so the ranks see different data (as with a sampler) */
    bench_synth_batch(b->img, b->tg, a->batch, a->imgsz, yolo_model_nc(b->model), 0xbe57, (uint64_t)b->d.rank);
    return DY_OK;
}

/* Model, DDP and optimizer state as the trainer builds them. */
static dy_status setup_model(bench_ctx *b, const dist_args *a, int nc)
{
    DY_TRY(dist_runtime_open(b->cfg, &b->d, &b->rt));
    b->comm = b->rt.comm;
    ddp_opts dopt = b->rt.dopt;
    DY_TRY(yolo_model_from_config(b->cfg, nc, b->rt.be, &b->model));
    yolo_model *m = b->model;
    DY_TRY(yolo_model_init(m, 1));
    DY_TRY(yolo_model_plan(m, a->batch, a->imgsz, a->imgsz));
    int nr = yolo_model_num_param_ranges(m);
    ddp_range *dr = malloc(sizeof *dr * (size_t)nr);
    dy_status s = dr ? DY_OK : DY_ERR(DY_ENOMEM, "out of memory");
    for (int i = 0; s == DY_OK && i < nr; i++) {
        const nn_param_range *r = yolo_model_param_range(m, i);
        dr[i] = (ddp_range){r->offset, r->count};
    }
    if (s == DY_OK) s = ddp_create(b->comm, yolo_model_grads(m), dr, nr, &dopt, &b->ddp);
    free(dr);
    DY_TRY(s);
    DY_TRY(bench_train_state(b->cfg, m, b->rt.be, &b->ts, &b->buf_ema, &b->have_state, &b->have_ema));
    train_micro_attach(m, b->ddp, b->comm, cfg_bool(b->cfg, "dist.sync_bn"), cfg_bool(b->cfg, "dist.global_loss_norm"));
    DY_TRY(ddp_broadcast_params(b->comm, yolo_model_params(m), yolo_model_num_params(m), COMM_F32));
    return ddp_broadcast_params(b->comm, yolo_model_buffers(m), yolo_model_num_buffers(m), COMM_F32);
}

dy_status bench_train_state(const cfg *c, yolo_model *m, const tn_backend *be, train_state *ts, ema *buf_ema,
                            int *have_ts, int *have_ema)
{
    int nr = yolo_model_num_param_ranges(m);
    optim_range *orr = malloc(sizeof *orr * (size_t)nr);
    if (!orr) return DY_ERR(DY_ENOMEM, "bench step: out of memory");
    for (int i = 0; i < nr; i++) {
        const nn_param_range *r = yolo_model_param_range(m, i);
        orr[i] = (optim_range){r->offset, r->count, r->group};
    }
    train_hyp hyp;
    dy_status s = train_hyp_from_cfg(c, &hyp);
    hyp.sched.batches_per_epoch = 1000; /* the LR stays in warm-up's range */
    if (s == DY_OK) s = train_state_init(ts, be, &hyp, yolo_model_params(m), yolo_model_num_params(m), orr, nr);
    free(orr);
    DY_TRY(s);
    *have_ts = 1;
    DY_TRY(ema_init(buf_ema, be, yolo_model_buffers(m), yolo_model_num_buffers(m), hyp.ema_decay, hyp.ema_tau));
    *have_ema = 1;
    return DY_OK;
}

static void teardown(bench_ctx *b)
{
    if (b->cur) loader_release(b->loader, b->cur);
    if (b->loader) loader_close(b->loader);
    ddp_destroy(b->ddp);
    yolo_model_free(b->model);
    if (b->have_state) train_state_free(&b->ts);
    if (b->have_ema) ema_free(&b->buf_ema);
    dist_runtime_close(&b->rt); /* after every buffer of its backend */
    b->comm = NULL;
    free(b->img);
    free(b->tg);
    cfg_free(b->cfg);
}

/* ------------------------------------------------------------------ the steps */

/* The next batch (the loader wraps around epochs); returns the seconds waited. */
static dy_status next_batch(bench_ctx *b, const uint8_t **img, const float **tg, int *nt, double *wait)
{
    *wait = 0;
    if (!b->loader) {
        *img = b->img, *tg = b->tg, *nt = b->ntg;
        return DY_OK;
    }
    double t0 = timer_now();
    if (b->cur) loader_release(b->loader, b->cur);
    b->cur = NULL;
    DY_TRY(loader_next(b->loader, &b->cur));
    if (!b->cur) {
        DY_TRY(loader_start_epoch(b->loader, ++b->epoch, 0));
        DY_TRY(loader_next(b->loader, &b->cur));
        if (!b->cur) return DY_ERR(DY_EINVAL, "bench step: the shards give no batch of this size");
    }
    *wait = timer_now() - t0;
    *img = b->cur->images, *tg = b->cur->targets, *nt = b->cur->ntargets;
    return DY_OK;
}

/* Rank imbalance from time stamps (all ranks on one node read the same monotonic
 * clock): in the loss normalizer's all-reduce a rank first waits for the slowest
 * forward; in ddp_finish it waits for the slowest backward, and only what remains
 * after that is communication that backward did not hide.  One small all-reduce
 * after the step, like the trainer's per-step agreement. */
static dy_status split_by_clock(bench_ctx *b, train_micro_out *mo)
{
    double mine[2] = {mo->t_forward_end, mo->t_backward[1]}, last[2];
    MPI_CHECK(MPI_Allreduce(mine, last, 2, MPI_DOUBLE, MPI_MAX, b->d.world));
    double fwd_wait = 0, *loss = &mo->tm[TRAIN_TM_LOSS], *comm = &mo->tm[TRAIN_TM_COMM];
    if (yolo_model_opts_ptr(b->model)->count_reduce) {
        fwd_wait = last[0] - mine[0];
        if (fwd_wait > *loss) fwd_wait = *loss;
        *loss -= fwd_wait;
    }
    double bwd_wait = last[1] - mine[1];
    if (bwd_wait > *comm) bwd_wait = *comm;
    *comm -= bwd_wait;
    mo->tm[TRAIN_TM_SYNC] = fwd_wait + bwd_wait;
    return DY_OK;
}

static dy_status run_steps(bench_ctx *b, const dist_args *a, bench_times *bt)
{
    train_micro mc = {b->model, b->ddp, b->comm, &b->ts, &b->buf_ema,
                      a->sync_wait == SYNC_BARRIER ? b->d.world : MPI_COMM_NULL, NULL, NULL,
                      dist_bn_stats_mean(b->cfg)};
    memset(bt, 0, sizeof *bt);
    for (long ni = 0; ni < a->warmup + a->iters; ni++) {
        if (ni == a->warmup) {
            ddp_stats_reset(b->ddp);
            if (b->rt.be->mem_reset_peak) b->rt.be->mem_reset_peak();
            MPI_CHECK(MPI_Barrier(b->d.world));
        }
        const uint8_t *img = NULL;
        const float *tg = NULL;
        int nt = 0;
        double wait, t0 = timer_now();
        DY_TRY(next_batch(b, &img, &tg, &nt, &wait));
        train_micro_out mo;
        DY_TRY(train_micro_step(&mc, img, tg, nt, 0, ni, ni - 1, &mo));
        if (ni < a->warmup) continue;
        mo.tm[TRAIN_TM_DATA] = wait;
        bt->step += timer_now() - t0;
        if (a->sync_wait == SYNC_CLOCK) DY_TRY(split_by_clock(b, &mo));
        for (int i = 0; i < TRAIN_TM_N; i++) bt->tm[i] += mo.tm[i];
        memcpy(bt->t_backward, mo.t_backward, sizeof bt->t_backward);
    }
    return DY_OK;
}

/* DYOLO_BENCH_BUCKETS=1: each rank prints when each bucket of the last step was
 * launched and seen complete, in ms from the start of its backward. */
static void print_timeline(const bench_ctx *b, const bench_times *bt)
{
    if (!getenv("DYOLO_BENCH_BUCKETS")) return;
    char line[4096];
    int u = snprintf(line, sizeof line, "rank %d: backward %.1f ms; bucket MB@launch->done ms:", b->d.rank,
                     1e3 * (bt->t_backward[1] - bt->t_backward[0]));
    for (int k = 0; k < ddp_nbuckets(b->ddp) && u < (int)sizeof line - 64; k++) {
        size_t off, cnt;
        double tl, td;
        ddp_bucket_span(b->ddp, k, &off, &cnt);
        ddp_bucket_times(b->ddp, k, &tl, &td);
        u += snprintf(line + u, sizeof line - (size_t)u, " %.2f@%.1f->%.1f", cnt * 4.0 / 1048576,
                      1e3 * (tl - bt->t_backward[0]), 1e3 * (td - bt->t_backward[0]));
    }
    fprintf(stderr, "%s\n", line);
}

/* The same buckets all-reduced blocking, one after the other, ranks aligned; the
 * best of `rounds` (a busy machine only makes rounds slower, and a smaller reference
 * makes the hidden share conservative). */
static dy_status time_alone(bench_ctx *b, int rounds, double *best)
{
    float *g = yolo_model_grads(b->model);
    *best = 0;
    for (int r = 0; r <= rounds; r++) { /* round 0 warms up */
        MPI_CHECK(MPI_Barrier(b->d.world));
        double t0 = timer_now();
        for (int k = 0; k < ddp_nbuckets(b->ddp); k++) {
            size_t off, cnt;
            ddp_bucket_span(b->ddp, k, &off, &cnt);
            DY_TRY(comm_allreduce_sync(b->comm, g + off, cnt, COMM_F32, COMM_AVG));
        }
        double t = timer_now() - t0;
        if (r == 1 || (r > 1 && t < *best)) *best = t;
    }
    return DY_OK;
}

/* ------------------------------------------------------------------ report */

enum { V_STEP = TRAIN_TM_N, V_ALONE, V_LAUNCH, V_HOOK, V_NEG_HIDDEN, V_NEG_NET, V_N };

static void print_header(const bench_ctx *b, const dist_args *a)
{
    if (b->d.rank != 0) return;
    size_t np = yolo_model_num_params(b->model);
    printf("dyolo bench step --dist: %s, %d rank(s) x %d thread(s), batch %d per rank (%d global), %d px\n",
           a->spec, b->d.size, a->threads, a->batch, a->batch * b->d.size, a->imgsz);
    static const char *const sync[] = {"", "clock", "barrier", "off"};
    printf("%d timed step(s) after %d warm-up; data: %s; transport %s, progress %s; sync wait: %s\n", a->iters,
           a->warmup, a->data ? a->data : "synthetic (data wait 0)", comm_name(b->comm),
           cfg_str(b->cfg, "dist.progress"), sync[a->sync_wait]);
    printf("gradients: %zu parameters = %.2f MB f32 in %d bucket(s) (dist.bucket_mb %g, first_bucket_mb %g, "
           "min_buckets %d); sizes MB:", np, np * 4.0 / 1048576, ddp_nbuckets(b->ddp),
           cfg_float(b->cfg, "dist.bucket_mb"), cfg_float(b->cfg, "dist.first_bucket_mb"),
           (int)cfg_int(b->cfg, "dist.min_buckets"));
    for (int k = 0; k < ddp_nbuckets(b->ddp); k++) {
        size_t off, cnt;
        ddp_bucket_span(b->ddp, k, &off, &cnt);
        printf(" %.2f", cnt * 4.0 / 1048576);
    }
    printf("\n\n");
}

static void print_report(const bench_ctx *b, const dist_args *a, const double *v0, const double *vmax,
                         const ddp_stats *ds)
{
    static const char *const names[TRAIN_TM_N] = {"data wait", "forward", "loss", "backward",
                                                  "exposed comm", "optimizer", "sync wait"};
    static const int order[] = {TRAIN_TM_DATA, TRAIN_TM_FORWARD, TRAIN_TM_LOSS, TRAIN_TM_BACKWARD,
                                TRAIN_TM_SYNC, TRAIN_TM_COMM, TRAIN_TM_OPTIM};
    printf("%-40s %10s %10s\n", "ms per step", "rank 0", "max ranks");
    for (int i = 0; i < TRAIN_TM_N; i++)
        printf("%-40s %10.2f %10.2f\n", names[order[i]], 1e3 * v0[order[i]], 1e3 * vmax[order[i]]);
    printf("%-40s %10.2f %10.2f\n", "step (wall)", 1e3 * v0[V_STEP], 1e3 * vmax[V_STEP]);
    printf("%-40s %10.2f %10.2f\n", "all-reduce alone (blocking)", 1e3 * v0[V_ALONE], 1e3 * vmax[V_ALONE]);
    printf("%-40s %10.2f %10.2f\n", "all-reduce launch->done (DDP)", 1e3 * v0[V_LAUNCH], 1e3 * vmax[V_LAUNCH]);
    printf("%-40s %10.2f %10.2f\n", "in backward's gradient hooks", 1e3 * v0[V_HOOK], 1e3 * vmax[V_HOOK]);
    if (b->d.size > 1) {
        printf("%-40s %10.3f %10.3f\n", "hidden (1 - exposed/alone)", -v0[V_NEG_HIDDEN], -vmax[V_NEG_HIDDEN]);
        printf("%-40s %10.3f %10.3f\n", "hidden net (1 - (exposed+hooks)/alone)", -v0[V_NEG_NET], -vmax[V_NEG_NET]);
    } else {
        printf("%-40s %10s %10s\n", "hidden (1 - exposed/alone)", "n/a", "n/a");
        printf("%-40s %10s %10s\n", "hidden net (1 - (exposed+hooks)/alone)", "n/a", "n/a");
    }
    double steps = ds->syncs > 0 ? (double)ds->syncs : 1;
    printf("\nall-reduced per step: %.0f bytes in %.1f collective(s) (gradients: %zu bytes)\n", ds->bytes / steps,
           ds->collectives / steps, yolo_model_num_params(b->model) * sizeof(float));
    printf("images/s (global): %.2f\n", a->batch * b->d.size / vmax[V_STEP]);
    if (b->rt.be->mem_stats) {
        size_t now = 0, peak = 0;
        b->rt.be->mem_stats(&now, &peak);
        printf("peak backend memory (rank 0, %s): %.1f MiB\n", b->rt.be->name, peak / 1048576.0);
    }
    printf("(max ranks: the largest per-rank mean; its hidden is the worst rank's)\n");
}

static void json_phases(cJSON *o, const char *name, const double *v)
{
    static const char *const keys[TRAIN_TM_N] = {"data_wait", "forward", "loss", "backward", "exposed_comm",
                                                 "optimizer", "sync_wait"};
    cJSON *p = cJSON_AddObjectToObject(o, name);
    for (int i = 0; i < TRAIN_TM_N; i++) cJSON_AddNumberToObject(p, keys[i], 1e3 * v[i]);
    cJSON_AddNumberToObject(p, "step", 1e3 * v[V_STEP]);
    cJSON_AddNumberToObject(p, "allreduce_alone", 1e3 * v[V_ALONE]);
    cJSON_AddNumberToObject(p, "hooks", 1e3 * v[V_HOOK]);
}

/* Rank 0's numbers for `dyolo bench scaling` (times in ms). */
static dy_status write_json(const bench_ctx *b, const dist_args *a, const bench_times *bt, const double *v0,
                            const double *vmax)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "spec", a->spec);
    cJSON_AddNumberToObject(o, "ranks", b->d.size);
    cJSON_AddNumberToObject(o, "nodes", b->d.nnodes);
    cJSON_AddNumberToObject(o, "ranks_per_node", b->d.local_size);
    cJSON_AddNumberToObject(o, "threads", a->threads);
    cJSON_AddNumberToObject(o, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddNumberToObject(o, "batch", a->batch);
    cJSON_AddNumberToObject(o, "imgsz", a->imgsz);
    cJSON_AddNumberToObject(o, "iters", a->iters);
    cJSON_AddStringToObject(o, "transport", comm_name(b->comm));
    json_phases(o, "ms", v0);
    json_phases(o, "ms_max", vmax);
    cJSON_AddNumberToObject(o, "last_backward_ms", 1e3 * (bt->t_backward[1] - bt->t_backward[0]));
    cJSON *bk = cJSON_AddArrayToObject(o, "buckets");
    for (int k = 0; k < ddp_nbuckets(b->ddp); k++) {
        size_t off, cnt;
        double tl, td;
        ddp_bucket_span(b->ddp, k, &off, &cnt);
        ddp_bucket_times(b->ddp, k, &tl, &td);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "bytes", (double)cnt * sizeof(float));
        cJSON_AddNumberToObject(e, "launch_ms", 1e3 * (tl - bt->t_backward[0]));
        cJSON_AddNumberToObject(e, "done_ms", 1e3 * (td - bt->t_backward[0]));
        cJSON_AddItemToArray(bk, e);
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    FILE *f = text ? fopen(a->json, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f)) ok = 0;
    free(text);
    return ok ? DY_OK : DY_ERR(DY_EIO, "--json %s: cannot write it", a->json);
}

static dy_status report(bench_ctx *b, const dist_args *a, const bench_times *bt)
{
    ddp_stats ds;
    ddp_stats_get(b->ddp, &ds);
    double v[V_N], vmax[V_N], n = a->iters;
    for (int i = 0; i < TRAIN_TM_N; i++) v[i] = bt->tm[i] / n;
    v[V_STEP] = bt->step / n;
    v[V_ALONE] = bt->alone;
    v[V_LAUNCH] = ds.comm_s / n;
    v[V_HOOK] = ds.hook_s / n;
    double hidden = v[V_ALONE] > 0 ? 1 - v[TRAIN_TM_COMM] / v[V_ALONE] : 1;
    double net = v[V_ALONE] > 0 ? 1 - (v[TRAIN_TM_COMM] + v[V_HOOK]) / v[V_ALONE] : 1;
    v[V_NEG_HIDDEN] = -(hidden < 0 ? 0 : hidden); /* max of -hidden: the worst rank */
    v[V_NEG_NET] = -(net < 0 ? 0 : net);
    MPI_CHECK(MPI_Reduce(v, vmax, V_N, MPI_DOUBLE, MPI_MAX, 0, b->d.world));
    if (b->d.rank == 0) print_report(b, a, v, vmax, &ds);
    dy_status s = b->d.rank == 0 && a->json ? write_json(b, a, bt, v, vmax) : DY_OK;
    return dist_agree(b->d.world, s);
}

static dy_status bench(bench_ctx *b, const dist_args *a)
{
    int nc = 0;
    DY_TRY(build_config(a, b->d.size, &b->cfg));
    DY_TRY(setup_data(b, a, &nc));
    DY_TRY(setup_model(b, a, nc));
    DY_TRY(setup_synth(b, a));
    print_header(b, a);
    bench_times bt;
    DY_TRY(run_steps(b, a, &bt));
    print_timeline(b, &bt);
    DY_TRY(time_alone(b, a->iters > 5 ? a->iters : 5, &bt.alone));
    return report(b, a, &bt);
}

int bench_step_dist_main(int argc, char **argv)
{
    dist_args a = {.spec = "configs/models/yolov5n.json", .imgsz = 320, .batch = 8, .iters = 5, .warmup = 2,
                   .bucket_mb = -1, .first_bucket_mb = -1};
    int r = parse_args(argc, argv, &a);
    if (r) return r == 1 ? CLI_EXIT_OK : r - 1;
    bench_ctx b;
    memset(&b, 0, sizeof b);
    if (dist_init(&argc, &argv, &b.d) != DY_OK) return cli_fail("bench step");
    log_setup(b.d.rank, 0, LOG_WARN);
    if (a.sync_wait == SYNC_AUTO) a.sync_wait = b.d.nnodes > 1 ? SYNC_BARRIER : SYNC_CLOCK;
    a.threads = cli_default_threads(a.threads, b.d.local_size);
    dy_status s = bench(&b, &a);
    if (s != DY_OK) {
        cli_fail("bench step");
        /* Other ranks may be inside a collective this rank will never join. */
        if (b.d.size > 1) dist_abort(CLI_EXIT_ERROR, "bench step failed");
    }
    teardown(&b);
    fflush(stdout);
    dist_finalize(&b.d);
    return s != DY_OK ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
