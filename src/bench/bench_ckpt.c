/* bench_ckpt.c -- `dyolo bench ckpt`: checkpoint write and read bandwidth for
 * yolov5n- and yolov5s-sized training states (params + EMA + momentum in f32, BN
 * buffers) with however many ranks it is launched on, next to the disk's sequential
 * bandwidth measured with dd, and the cost of a checkpoint to a training loop, sync
 * and async.  The loop's "step" is a fixed amount of memory-bound work calibrated to
 * --step-ms, so contention from the background writer shows up as slower steps.
 * Rank 0 prints Markdown table rows (benchmarks/run-ckpt.sh assembles the table). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/log.h"
#include "core/timer.h"
#include "io/ckpt.h"
#include "dist/dist.h"

static const char bench_help[] =
    "usage: mpirun -np N dyolo bench ckpt [OPTIONS]\n"
    "\n"
    "Checkpoint write/read time and MB/s for yolov5n (1.9M params) and yolov5s (7.2M)\n"
    "training states (params, EMA, momentum in f32 plus BN buffers) on the ranks it\n"
    "runs on; the disk's sequential write bandwidth with dd; and the overhead of one\n"
    "checkpoint to a training loop, synchronous and asynchronous, as a percentage of\n"
    "training time at the checkpoint interval.  Reads are cold (pages dropped with\n"
    "posix_fadvise after the fsync).\n"
    "\n"
    "  --dir DIR        where to write (default /tmp/dyolo-bench-ckpt)\n"
    "  --models LIST    n, s or n,s (default n,s)\n"
    "  --repeat R       repetitions, the median is reported (default 3)\n"
    "  --step-ms MS     simulated training step time (default 100)\n"
    "  --interval N     steps between checkpoints for the overhead percentage (default 1000)\n"
    "  --dd             also measure the disk with dd (rank 0): before each write, the\n"
    "                   same byte count with conv=fsync (the fair baseline: same size,\n"
    "                   same durability; median over the repetitions), and once\n"
    "                   256 MB with oflag=direct and no fsync (the old baseline)\n"
    "  --header         print the table header first\n"
    "  -h, --help       show this help\n";

typedef struct {
    const char *dir, *models;
    int repeat, interval, dd, header;
    double step_ms, dd_mbps;
} bopts;

static int rank, world;

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

static double max_all(double x)
{
    double m;
    MPI_Allreduce(&x, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return m;
}

/* The training step stand-in: memory-bound passes over a buffer. */
static float work_buf[1 << 20];
static volatile float work_sink;
static void work(long passes)
{
    for (long p = 0; p < passes; p++) {
        float s = 0;
        for (int i = 0; i < (1 << 20); i++) {
            work_buf[i] = work_buf[i] * 0.999f + 1e-3f;
            s += work_buf[i];
        }
        work_sink = s;
    }
}

static long calibrate(double step_ms)
{
    double t0 = timer_now();
    work(3);
    t0 = timer_now();
    work(20);
    double per = (timer_now() - t0) / 20;
    long passes = (long)(step_ms / 1e3 / per + 0.5);
    passes = passes < 1 ? 1 : passes;
    MPI_Allreduce(MPI_IN_PLACE, &passes, 1, MPI_LONG, MPI_MIN, MPI_COMM_WORLD);
    return passes;
}

typedef struct {
    float *p, *e, *m, *bn;
    int64_t n, nbn;
} state;

static dy_status add_state(ckpt_writer *w, const state *s, int copy)
{
    int64_t rng[4] = {rank, 1, 2, 3};
    dy_status (*add)(ckpt_writer *, const char *, ckpt_dtype, const void *, int64_t) =
        copy ? ckpt_add_array : ckpt_add_array_ref;
    DY_TRY(add(w, "model.params", CKPT_F32, s->p, s->n));
    DY_TRY(add(w, "ema.params", CKPT_F32, s->e, s->n));
    DY_TRY(add(w, "optim.momentum", CKPT_F32, s->m, s->n));
    DY_TRY(add(w, "model.buffers", CKPT_F32, s->bn, s->nbn));
    DY_TRY(add(w, "ema.buffers", CKPT_F32, s->bn, s->nbn));
    DY_TRY(ckpt_add_rank_array(w, "rng.state", CKPT_I64, rng, 4));
    return ckpt_attr_set_int(w, "step", 1);
}

/* Untimed: delete the previous repetition's file and commit that deletion, so the
 * next timed write does not pay for it (with online discard -- `mount -o discard`, as
 * on these VMs -- freeing 88 MB costs tens of ms at the next journal commit). */
static void fresh(const char *dir, const char *name)
{
    if (rank == 0) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        unlink(p);
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        if (fd >= 0) syncfs(fd), close(fd);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

/* One training loop of `steps` steps with a checkpoint after step steps/4:
 * mode 0 none, 1 sync, 2 async.  dt[i] gets each step's compute time; *stall the
 * time the loop was blocked in checkpoint calls; *busy how many steps ran while the
 * background write was in flight (their slowdown is the async write's other cost). */
static dy_status loop(const bopts *o, const state *s, long passes, int steps, int mode, double *dt, double *stall,
                      int *busy_from, int *busy_to)
{
    ckpt_writer *w = NULL;
    *stall = 0;
    *busy_from = *busy_to = -1;
    dy_status st = DY_OK;
    for (int i = 0; i < steps && st == DY_OK; i++) {
        double t0 = timer_now();
        work(passes);
        dt[i] = timer_now() - t0;
        MPI_Barrier(MPI_COMM_WORLD); /* the gradient all-reduce's synchronisation */
        if (w && *busy_to < 0 && ckpt_poll(w)) *busy_to = i;
        if (mode && i == steps / 4) {
            fresh(o->dir, "bench-loop.h5");
            double c0 = timer_now();
            st = ckpt_writer_begin(&w, o->dir, "bench-loop.h5", MPI_COMM_WORLD);
            if (st == DY_OK) st = add_state(w, s, mode == 2);
            if (st == DY_OK) st = mode == 2 ? ckpt_commit_async(w) : ckpt_commit(w);
            *stall += timer_now() - c0;
            *busy_from = i + 1;
        }
    }
    if (w) {
        if (*busy_to < 0) *busy_to = steps;
        double c0 = timer_now();
        if (st == DY_OK) st = ckpt_wait(w);
        *stall += timer_now() - c0;
        ckpt_writer_free(w);
    }
    return st;
}

/* Rank 0: one dd of `count` 4 MiB blocks with `flags` into DIR; returns MB/s (0 if
 * unknown) and leaves dd's summary line in `line`. */
static double dd_once(const char *dir, int count, const char *flags, char *line, size_t len)
{
    char cmd[1500], buf[512];
    snprintf(cmd, sizeof cmd, "dd if=/dev/zero of='%s/dd.tmp' bs=4M count=%d %s 2>&1; rm -f '%s/dd.tmp'; sync -f '%s'",
             dir, count, flags, dir, dir);
    snprintf(line, len, "(no output: dd failed?)");
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    while (fgets(buf, sizeof buf, p)) snprintf(line, len, "%s", buf);
    pclose(p);
    line[strcspn(line, "\n")] = '\0';
    /* "... copied, 0.17 s, 1.5 GB/s": bytes over seconds is unit-proof. */
    double b = 0, t = 0;
    char *c = strstr(line, "copied, ");
    if (c && sscanf(line, "%lf", &b) == 1 && sscanf(c + 8, "%lf", &t) == 1 && t > 0) return b / t / 1e6;
    return 0;
}

/* The old baseline: 256 MB, O_DIRECT, no fsync (printed; MB/s returned). */
static double run_dd_old(const char *dir)
{
    char line[512];
    double mbps = dd_once(dir, 64, "oflag=direct", line, sizeof line);
    printf("dd bs=4M count=64 oflag=direct (old baseline): %s\n", line);
    return mbps;
}

static dy_status bench_model(const bopts *o, const char *model, int64_t nparams, long passes)
{
    state s = {0};
    s.n = nparams;
    s.nbn = nparams / 50;
    s.p = malloc((size_t)s.n * 4);
    s.e = malloc((size_t)s.n * 4);
    s.m = malloc((size_t)s.n * 4);
    s.bn = malloc((size_t)s.nbn * 4);
    if (!s.p || !s.e || !s.m || !s.bn) return DY_ERR(DY_ENOMEM, "bench state");
    for (int64_t i = 0; i < s.n; i++) s.p[i] = s.e[i] = s.m[i] = (float)i * 1e-6f;
    for (int64_t i = 0; i < s.nbn; i++) s.bn[i] = 1.0f;
    double bytes = (3.0 * (double)s.n + 2.0 * (double)s.nbn) * 4.0;
    double wt[16], rt[16], ddf[16], ddd[16];
    int ddcount = (int)((bytes + (4 << 20) - 1) / (4 << 20));
    char path[1200];
    snprintf(path, sizeof path, "%s/bench.h5", o->dir);
    dy_status st = DY_OK;
    for (int r = 0; r < o->repeat && st == DY_OK; r++) {
        ckpt_writer *w = NULL;
        fresh(o->dir, "bench.h5");
        ddf[r] = ddd[r] = 0;
        if (o->dd && rank == 0) { /* the fair baselines, right before the write they are compared with */
            char line[512];
            ddf[r] = dd_once(o->dir, ddcount, "conv=fsync", line, sizeof line);
            ddd[r] = dd_once(o->dir, ddcount, "oflag=direct conv=fsync", line, sizeof line);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = timer_now();
        st = ckpt_writer_begin(&w, o->dir, "bench.h5", MPI_COMM_WORLD);
        if (st == DY_OK) st = add_state(w, &s, 0);
        if (st == DY_OK) st = ckpt_commit(w);
        ckpt_writer_free(w);
        wt[r] = max_all(timer_now() - t0);
        if (st != DY_OK) break;
        drop_cache(path);
        MPI_Barrier(MPI_COMM_WORLD);
        ckpt_reader *rd = NULL;
        t0 = timer_now();
        st = ckpt_reader_open(&rd, path, MPI_COMM_WORLD);
        rt[r] = max_all(timer_now() - t0);
        ckpt_reader_close(rd);
    }
    /* Training-loop overhead: base, sync and async loops; the async write's cost is
     * its stall plus the slowdown of the steps that ran beside it. */
    enum { STEPS = 16 };
    double db[STEPS], ds[STEPS], da[STEPS], sb = 0, ss = 0, sa = 0;
    int f0, f1, a0 = 0, a1 = 0;
    if (st == DY_OK) st = loop(o, &s, passes, STEPS, 0, db, &sb, &f0, &f1);
    if (st == DY_OK) st = loop(o, &s, passes, STEPS, 1, ds, &ss, &f0, &f1);
    if (st == DY_OK) st = loop(o, &s, passes, STEPS, 2, da, &sa, &a0, &a1);
    double base = median(db, STEPS), slow = 0;
    for (int i = a0; i >= 0 && i < a1 && i < STEPS; i++) slow += da[i] > base ? da[i] - base : 0;
    free(s.p);
    free(s.e);
    free(s.m);
    free(s.bn);
    DY_TRY(st);
    base = max_all(base), ss = max_all(ss), sa = max_all(sa), slow = max_all(slow);
    double w_med = median(wt, o->repeat), r_med = median(rt, o->repeat), wmb = bytes / 1e6 / w_med;
    double interval_s = base * o->interval, cost_async = sa + slow;
    char fair[64] = "- | - | -", old[32] = "-";
    if (o->dd) {
        double f = median(ddf, o->repeat), d = median(ddd, o->repeat);
        snprintf(fair, sizeof fair, "%.0f | %.0f | %.0f%%", f, d, f > 0 ? 100.0 * wmb / f : 0);
    }
    if (o->dd_mbps > 0) snprintf(old, sizeof old, "%.0f%%", 100.0 * wmb / o->dd_mbps);
    if (rank == 0)
        printf("| yolov5%s | %d | %.1f | %.3f | %.0f | %s | %s | %.3f | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f%% | %.3f%% |\n",
               model, world, bytes / 1e6, w_med, wmb, fair, old, r_med, bytes / 1e6 / r_med, base, ss, sa, slow,
               100.0 * ss / interval_s, 100.0 * cost_async / interval_s);
    fflush(stdout);
    return DY_OK;
}

static int parse(int argc, char **argv, bopts *o)
{
    *o = (bopts){"/tmp/dyolo-bench-ckpt", "n,s", 3, 1000, 0, 0, 100, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return fputs(bench_help, stdout), 1;
        if (!strcmp(a, "--dd")) o->dd = 1;
        else if (!strcmp(a, "--header")) o->header = 1;
        else if (v && !strcmp(a, "--dir")) o->dir = v, i++;
        else if (v && !strcmp(a, "--models")) o->models = v, i++;
        else if (v && !strcmp(a, "--repeat")) o->repeat = atoi(v), i++;
        else if (v && !strcmp(a, "--interval")) o->interval = atoi(v), i++;
        else if (v && !strcmp(a, "--step-ms")) o->step_ms = atof(v), i++;
        else return fprintf(stderr, "dyolo bench ckpt: unknown option or missing value \"%s\"\n", a), 2;
    }
    if (o->repeat < 1 || o->repeat > 16 || o->interval < 1 || o->step_ms <= 0) {
        fprintf(stderr, "dyolo bench ckpt: --repeat must be 1..16, --interval >= 1, --step-ms > 0\n");
        return 2;
    }
    return 0;
}

int bench_ckpt_main(int argc, char **argv)
{
    bopts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    dist_ctx d;
    if (dist_init(&argc, &argv, &d) != DY_OK) {
        fprintf(stderr, "dyolo bench ckpt: error: %s\n", err_msg());
        return 1;
    }
    rank = d.rank, world = d.size;
    log_setup(rank, 0, getenv("DYOLO_BENCH_DEBUG") ? LOG_DEBUG : LOG_WARN);
    if (rank == 0 && o.dd) o.dd_mbps = run_dd_old(o.dir);
    MPI_Bcast(&o.dd_mbps, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0 && o.header)
        printf("| model | ranks | MB | write s | write MB/s | dd fsync MB/s (same size) | dd direct+fsync MB/s (same size) | "
               "%% of dd fsync (fair) | %% of dd direct 256 MB no fsync (old) | read s (cold) | read MB/s | step s | "
               "sync stall s | async stall s | async slowdown s | sync overhead | async overhead |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    long passes = calibrate(o.step_ms);
    dy_status st = DY_OK;
    if (strchr(o.models, 'n')) st = bench_model(&o, "n", 1872157, passes);
    if (st == DY_OK && strchr(o.models, 's')) st = bench_model(&o, "s", 7235389, passes);
    if (st != DY_OK) fprintf(stderr, "dyolo bench ckpt: error: %s\n", err_msg());
    if (rank == 0) {
        char p[1200];
        snprintf(p, sizeof p, "%s/bench.h5", o.dir), unlink(p);
        snprintf(p, sizeof p, "%s/bench-loop.h5", o.dir), unlink(p);
        snprintf(p, sizeof p, "%s/latest", o.dir), unlink(p);
    }
    dist_finalize(&d);
    return st == DY_OK ? 0 : 1;
}
