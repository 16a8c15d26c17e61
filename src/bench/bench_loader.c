/* bench_loader.c -- `dyolo bench loader`: throughput of each loader stage on real
 * shards: HDF5 payload reads (the I/O thread's work), decode (JPEG or raw crop +
 * resize), augmentation with mosaic (on decoded images), and the whole loader
 * pipeline; the CPU stages with 1 and with T threads.  Results: a table on stdout
 * (or JSON lines with --json).  With --dump it instead writes the batches the
 * training (or validation) pipeline produces, so that their pixel and box
 * statistics can be compared with another trainer's (benchmarks/quality/compare-aug.py). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "core/log.h"
#include "core/timer.h"
#include "data/loader.h"
#include "dist/dist.h"

static const char bench_loader_help[] =
    "usage: dyolo bench loader --data SHARDS [--threads T] [--imgsz PX] [--batch B]\n"
    "                          [--samples N] [--repeat R] [--json]\n"
    "\n"
    "Measure samples/s and MB/s of the loader's stages on the given shards (a manifest\n"
    "or .h5 files; JPEG or raw encoding): raw HDF5 read, decode, augmentation with\n"
    "mosaic, and the whole pipeline (I/O thread + T workers), with 1 and T threads.\n"
    "Decode MB/s counts decoded pixels, read MB/s payload bytes, the rest output bytes.\n"
    "\n"
    "  --data PATH     manifest .json or shard .h5 (repeatable)\n"
    "  --threads T     worker threads (default 2)\n"
    "  --imgsz PX      network size (default 640)\n"
    "  --batch B       batch size of the pipeline run (default 16)\n"
    "  --samples N     samples per stage (default: min(dataset, 256))\n"
    "  --repeat R      run each stage R times and report the best (default 3)\n"
    "  --json          one JSON object per line instead of a table\n"
    "  --dump PREFIX   no benchmark: write the training pipeline's batches (YOLOv5's\n"
    "                  default augmentation, data.* defaults) to PREFIX.u8 (uint8\n"
    "                  NCHW RGB, batch after batch) and PREFIX.txt (per batch a line\n"
    "                  \"B epoch step n h w ntargets\", then its targets: image class\n"
    "                  cx cy w h, normalised)\n"
    "  --epochs E      with --dump: epochs to write (default 1)\n"
    "  --seed S        with --dump: the run seed (default 0)\n"
    "  --val           with --dump: the validation pipeline (rectangular batches)\n"
    "  --encoding E    accepted for symmetry with pack; the shards' own encoding is used\n"
    "  -h, --help      show this help\n";

typedef struct {
    shard_set *sh;
    uint8_t **pay;
    size_t *len;
    aug_img *loaded;
    int n, imgsz, stage, tid, nthreads;
    aug_params aug;
    dy_status st;
    char err[512];
} job;

static void *run_stage(void *arg)
{
    job *j = arg;
    shard_sample m;
    int64_t N = j->n;
    for (int i = j->tid; i < j->n && j->st == DY_OK; i += j->nthreads) {
        if (j->stage == 0) {
            aug_img a;
            shard_sample_get(j->sh, i, &m);
            j->st = aug_load(j->pay[i], j->len[i], shard_encoding_raw(j->sh), shard_imgsz(j->sh), &m, j->imgsz, &a, "bench");
            if (j->st == DY_OK) aug_img_free(&a);
        } else {
            rng_stream r;
            int64_t p[3];
            int ns = aug_plan(&r, 1, 0, i, N, &j->aug, p);
            aug_img src[4], out;
            src[0] = j->loaded[i];
            for (int k = 1; k < ns; k++) src[k] = j->loaded[p[k - 1]];
            j->st = aug_train(src, ns, &r, &j->aug, j->imgsz, &out);
            if (j->st == DY_OK) aug_img_free(&out);
        }
    }
    if (j->st != DY_OK) snprintf(j->err, sizeof j->err, "%s", err_msg());
    return NULL;
}

static int bench_repeat = 3; /* best of N: the numbers are meant for loaded machines too */

static dy_status threaded_once(job *base, int stage, int T, double *secs);

static dy_status threaded(job *base, int stage, int T, double *secs)
{
    double best = 1e30;
    for (int r = 0; r < bench_repeat; r++) {
        DY_TRY(threaded_once(base, stage, T, secs));
        if (*secs < best) best = *secs;
    }
    *secs = best;
    return DY_OK;
}

static dy_status threaded_once(job *base, int stage, int T, double *secs)
{
    job *js = calloc((size_t)T, sizeof(job));
    pthread_t *th = calloc((size_t)T, sizeof(pthread_t));
    if (!js || !th) return DY_ERR(DY_ENOMEM, "out of memory");
    double t0 = timer_now();
    for (int t = 0; t < T; t++) {
        js[t] = *base;
        js[t].stage = stage, js[t].tid = t, js[t].nthreads = T;
        if (pthread_create(&th[t], NULL, run_stage, &js[t])) return DY_ERR(DY_EIO, "cannot start a thread");
    }
    dy_status s = DY_OK;
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        if (js[t].st != DY_OK && s == DY_OK) s = err_set(js[t].st, "%s", js[t].err);
    }
    *secs = timer_now() - t0;
    free(js);
    free(th);
    return s;
}

static void report(int json, const char *stage, const char *enc, int threads, int n, double secs, double bytes)
{
    double sps = n / secs, mbs = bytes / secs / 1e6;
    if (json)
        printf("{\"stage\":\"%s\",\"encoding\":\"%s\",\"threads\":%d,\"samples\":%d,\"seconds\":%.4f,"
               "\"samples_per_s\":%.1f,\"MB_per_s\":%.1f,\"samples_per_s_per_thread\":%.1f}\n",
               stage, enc, threads, n, secs, sps, mbs, sps / threads);
    else
        printf("| %-22s | %-4s | %7d | %9.1f | %9.1f | %12.1f |\n", stage, enc, threads, sps, mbs, sps / threads);
    fflush(stdout);
}

/* CPU seconds of the whole process (all threads): on a shared machine, samples per
 * CPU second is the per-core rate that other jobs' load does not dilute. */
static double cpu_now(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u)) return 0;
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

static dy_status pipeline(const char *const *paths, int np, int T, int imgsz, int batch, int limit, double *secs,
                          double *cpu, int *count, double *bytes)
{
    loader_opts o;
    loader_opts_default(&o);
    o.batch = batch, o.imgsz = imgsz, o.workers = T, o.prefetch = 2 * T + 2, o.train = 1, o.seed = 1;
    data_loader *l;
    DY_TRY(loader_open(&l, paths, np, &o, MPI_COMM_WORLD));
    DY_TRY(loader_start_epoch(l, 0, 0));
    double t0 = timer_now(), c0 = cpu_now();
    *count = 0;
    data_batch *b;
    dy_status s;
    while ((s = loader_next(l, &b)) == DY_OK && b && *count < limit) {
        *count += b->n;
        loader_release(l, b);
    }
    if (b) loader_release(l, b);
    *secs = timer_now() - t0, *cpu = cpu_now() - c0;
    *bytes = (double)*count * 3 * imgsz * imgsz;
    dy_status c = loader_close(l);
    return s != DY_OK ? s : c;
}

static dy_status bench(const char *const *paths, int np, int T, int imgsz, int batch, int nlim, int json)
{
    shard_set *sh;
    DY_TRY(shard_open(&sh, paths, np, MPI_COMM_WORLD));
    int n = (int)(shard_count(sh) < nlim ? shard_count(sh) : nlim);
    const char *enc = shard_encoding_raw(sh) ? "raw" : "jpeg";
    job base;
    memset(&base, 0, sizeof base);
    base.sh = sh, base.n = n, base.imgsz = imgsz, base.nthreads = 1;
    base.pay = calloc((size_t)n, sizeof(uint8_t *)), base.len = calloc((size_t)n, sizeof(size_t));
    base.loaded = calloc((size_t)n, sizeof(aug_img));
    if (!base.pay || !base.len || !base.loaded) return DY_ERR(DY_ENOMEM, "out of memory");
    aug_params_default(&base.aug);
    base.aug.mosaic = 1.0f;
    if (!json) {
        printf("| stage                  | enc  | threads | samples/s |      MB/s | per thread/s |\n");
        printf("|------------------------|------|---------|-----------|-----------|--------------|\n");
    }
    double bytes = 0, secs, best = 1e30;
    size_t *cap = calloc((size_t)n, sizeof(size_t));
    if (!cap) return DY_ERR(DY_ENOMEM, "out of memory");
    for (int r = 0; r < bench_repeat; r++) {
        double t0 = timer_now();
        bytes = 0;
        for (int i = 0; i < n; i++) {
            DY_TRY(shard_read_payload(sh, i, &base.pay[i], &cap[i], &base.len[i]));
            bytes += (double)base.len[i];
        }
        if (timer_now() - t0 < best) best = timer_now() - t0;
    }
    free(cap);
    report(json, "hdf5 read (+crc)", enc, 1, n, best, bytes);
    double pix = (double)n * 3 * imgsz * imgsz * 0.75; /* decoded bytes, approx. (aspect) */
    for (int T1 = 1; T1 <= T; T1 = T1 == T ? T + 1 : T) {
        DY_TRY(threaded(&base, 0, T1, &secs));
        report(json, shard_encoding_raw(sh) ? "raw crop+resize" : "jpeg decode+resize", enc, T1, n, secs, pix);
        if (T1 == T) break;
    }
    for (int i = 0; i < n; i++) {
        shard_sample m;
        shard_sample_get(sh, i, &m);
        DY_TRY(aug_load(base.pay[i], base.len[i], shard_encoding_raw(sh), shard_imgsz(sh), &m, imgsz, &base.loaded[i], "bench"));
    }
    for (int T1 = 1; T1 <= T; T1 = T1 == T ? T + 1 : T) {
        DY_TRY(threaded(&base, 1, T1, &secs));
        report(json, "augment (mosaic)", enc, T1, n, secs, (double)n * 3 * imgsz * imgsz);
        if (T1 == T) break;
    }
    for (int i = 0; i < n; i++) free(base.pay[i]), aug_img_free(&base.loaded[i]);
    free(base.pay), free(base.len), free(base.loaded);
    DY_TRY(shard_close(sh));
    double cpu_best = 1e30;
    int cpu_cnt = 0;
    for (int T1 = 1; T1 <= T; T1 = T1 == T ? T + 1 : T) {
        int cnt = 0;
        best = 1e30;
        for (int r = 0; r < bench_repeat; r++) {
            double cpu;
            DY_TRY(pipeline(paths, np, T1, imgsz, batch, n, &secs, &cpu, &cnt, &bytes));
            if (secs < best) best = secs;
            if (T1 == 1 && cpu > 0 && cpu < cpu_best) cpu_best = cpu, cpu_cnt = cnt;
        }
        report(json, "whole pipeline", enc, T1, cnt, best, bytes);
        if (T1 == T) break;
    }
    /* the 1-worker run per CPU second of the process (I/O, worker and consumer threads) */
    if (cpu_cnt) report(json, "whole, per CPU second", enc, 1, cpu_cnt, cpu_best, (double)cpu_cnt * 3 * imgsz * imgsz);
    return DY_OK;
}

/* --dump: the batches as the trainer gets them, one rank's view of a world of 1. */
static dy_status dump(const char *const *paths, int np, int imgsz, int batch, int epochs, int seed, int val,
                      const char *prefix)
{
    loader_opts o;
    loader_opts_default(&o);
    o.train = !val, o.rect = val, o.batch = batch, o.imgsz = imgsz, o.workers = 1, o.seed = (uint64_t)seed;
    char fn[4096];
    snprintf(fn, sizeof fn, "%s.u8", prefix);
    FILE *fi = fopen(fn, "wb"), *ft = NULL;
    int e0 = errno;
    if (fi) {
        snprintf(fn, sizeof fn, "%s.txt", prefix);
        ft = fopen(fn, "w");
        e0 = errno;
    }
    data_loader *l = NULL;
    dy_status s = fi && ft ? loader_open(&l, paths, np, &o, MPI_COMM_SELF)
                           : DY_ERR(DY_EIO, "cannot create %s: %s", fn, strerror(e0));
    for (int e = 0; s == DY_OK && e < epochs; e++) {
        s = loader_start_epoch(l, e, 0);
        for (data_batch *b = NULL; s == DY_OK;) {
            if ((s = loader_next(l, &b)) != DY_OK || !b) break;
            size_t bytes = (size_t)b->n * 3 * b->h * b->w;
            int bad = fwrite(b->images, 1, bytes, fi) != bytes ||
                      fprintf(ft, "B %lld %lld %d %d %d %d\n", (long long)b->epoch, (long long)b->step, b->n, b->h,
                              b->w, b->ntargets) < 0;
            for (int t = 0; t < b->ntargets && !bad; t++) {
                const float *x = &b->targets[6 * t];
                bad = fprintf(ft, "%d %d %.6f %.6f %.6f %.6f\n", (int)x[0], (int)x[1], x[2], x[3], x[4], x[5]) < 0;
            }
            loader_release(l, b);
            if (bad) s = DY_ERR(DY_EIO, "writing %s.u8 / .txt failed", prefix);
        }
    }
    if (l) {
        dy_status c = loader_close(l);
        if (s == DY_OK) s = c;
    }
    if (fi && fclose(fi) && s == DY_OK) s = DY_ERR(DY_EIO, "closing %s.u8 failed", prefix);
    if (ft && fclose(ft) && s == DY_OK) s = DY_ERR(DY_EIO, "closing %s.txt failed", prefix);
    return s;
}

int bench_loader_main(int argc, char **argv)
{
    const char *paths[64], *dump_to = NULL;
    int np = 0, T = 2, imgsz = 640, batch = 16, nlim = 256, json = 0, epochs = 1, seed = 0, val = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(bench_loader_help, stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!strcmp(a, "--val")) { val = 1; continue; }
        if (!v) return cli_usage_error("bench loader", "unknown option \"%s\" (or missing value)", a);
        if (!strcmp(a, "--data") && np < 64) paths[np++] = v;
        else if (!strcmp(a, "--threads")) T = atoi(v);
        else if (!strcmp(a, "--imgsz")) imgsz = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--samples")) nlim = atoi(v);
        else if (!strcmp(a, "--repeat")) bench_repeat = atoi(v) > 0 ? atoi(v) : 1;
        else if (!strcmp(a, "--encoding")) { /* the shards' own encoding is used */ }
        else if (!strcmp(a, "--dump")) dump_to = v;
        else if (!strcmp(a, "--epochs")) epochs = atoi(v);
        else if (!strcmp(a, "--seed")) seed = atoi(v);
        else return cli_usage_error("bench loader", "unknown option \"%s\"", a);
        i++;
    }
    if (!np) return cli_usage_error("bench loader", "--data is required");
    if (T < 1 || T > 256 || imgsz < 32 || batch < 1 || nlim < 1 || epochs < 1 || seed < 0)
        return cli_usage_error("bench loader", "bad --threads/--imgsz/--batch/--samples/--epochs/--seed");
    if (imgsz % 32) return cli_usage_error("bench loader", "--imgsz must be a multiple of 32");
    dist_ctx d;
    if (dist_init(&argc, &argv, &d) != DY_OK) return cli_fail("bench loader");
    log_setup(d.rank, 0, LOG_INFO);
    int rc = CLI_EXIT_OK;
    /* Every rank runs the same loader on its own; a failure is not agreed. */
    dy_status s = dump_to ? (d.rank ? DY_OK : dump(paths, np, imgsz, batch, epochs, seed, val, dump_to))
                          : bench(paths, np, T, imgsz, batch, nlim, json);
    if (s != DY_OK) rc = cli_fail_dist("bench loader", d.rank, d.size, 0);
    dist_finalize(&d);
    return rc;
}
