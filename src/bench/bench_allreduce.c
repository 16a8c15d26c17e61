/* bench_allreduce.c -- `dyolo bench allreduce` (see bench_allreduce.h).
 *
 * Bandwidth: for each size, the mean time of `iters` all-reduces (after `warmup`),
 * taken as the maximum over ranks; algbw = bytes / time, and the bus bandwidth as
 * nccl-tests defines it, busbw = algbw * 2(n-1)/n (what each link carries in a ring),
 * comparable across world sizes.  Rows: "MPI_Allreduce" (plain blocking call),
 * "mpi" (the comm interface: MPI_Iallreduce + wait) and "nccl" when a GPU is usable.
 *
 * Overlap: a synthetic backward walks `layers` equal parameter ranges of a flat
 * `params_mb` gradient buffer from last to first; each layer does `work` passes of
 * arithmetic over its range (about as long as a conv backward would be on this
 * buffer) and then calls ddp_grad_ready.  ddp_finish waits for the rest.
 *   compute  = the same backward without DDP
 *   comm     = the same buckets all-reduced blocking, one after the other
 *   exposed  = time waiting in ddp_finish
 *   hidden   = 1 - exposed / comm
 * for each progress mode (poll: MPI_Test from grad_ready; thread; none).
 */
#include "bench/bench_allreduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gpu.h"
#include "core/timer.h"
#include "comm_nccl.h"
#include "dist/comm.h"
#include "dist/ddp.h"
#include "dist/dist.h"

typedef struct {
    size_t sizes[32];
    int nsizes, iters, warmup, layers, steps, work;
    double params_mb, bucket_mb, first_bucket_mb;
    int overlap_only, bw_only;
} bench_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpirun -np N dyolo bench allreduce [OPTIONS]\n\n"
            "All-reduce time, algorithm and bus bandwidth (busbw = algbw * 2(n-1)/n) per message\n"
            "size for each transport next to a blocking MPI_Allreduce; then the DDP overlap\n"
            "benchmark: share of all-reduce time hidden behind a synthetic backward.\n\n"
            "  --sizes LIST        message sizes, e.g. 4K,256K,1M,16M,64M (bytes; K/M suffixes)\n"
            "  --iters N           timed repetitions per size (default 20)\n"
            "  --warmup N          untimed repetitions first (default 3)\n"
            "  --params-mb X       overlap: gradient buffer size (default 64)\n"
            "  --layers N          overlap: parameter ranges (default 60)\n"
            "  --work N            overlap: arithmetic passes per layer (default 12)\n"
            "  --steps N           overlap: timed steps per mode (default 5)\n"
            "  --bucket-mb X       overlap: bucket size (default 25; first bucket --first-bucket-mb 1)\n"
            "  --bandwidth-only    skip the overlap benchmark\n"
            "  --overlap-only      skip the bandwidth table\n"
            "  -h, --help          show this help\n");
}

static int parse_sizes(const char *s, bench_opts *o)
{
    o->nsizes = 0;
    while (*s && o->nsizes < 32) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || v <= 0) return -1;
        if (*end == 'K' || *end == 'k') v *= 1024, end++;
        else if (*end == 'M' || *end == 'm') v *= 1048576, end++;
        o->sizes[o->nsizes++] = (size_t)v;
        if (*end == ',') end++;
        else if (*end) return -1;
        s = end;
    }
    return o->nsizes ? 0 : -1;
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    static const size_t def[] = {4096, 65536, 1 << 20, 4 << 20, 16 << 20, 64 << 20};
    memcpy(o->sizes, def, sizeof def);
    o->nsizes = 6;
    o->iters = 20, o->warmup = 3, o->layers = 60, o->steps = 5, o->work = 12;
    o->params_mb = 64, o->bucket_mb = 25, o->first_bucket_mb = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return 1;
        if (!strcmp(a, "--bandwidth-only")) { o->bw_only = 1; continue; }
        if (!strcmp(a, "--overlap-only")) { o->overlap_only = 1; continue; }
        if (!v) return -1;
        i++;
        if (!strcmp(a, "--sizes")) { if (parse_sizes(v, o)) return -1; }
        else if (!strcmp(a, "--iters")) o->iters = atoi(v);
        else if (!strcmp(a, "--warmup")) o->warmup = atoi(v);
        else if (!strcmp(a, "--params-mb")) o->params_mb = atof(v);
        else if (!strcmp(a, "--layers")) o->layers = atoi(v);
        else if (!strcmp(a, "--work")) o->work = atoi(v);
        else if (!strcmp(a, "--steps")) o->steps = atoi(v);
        else if (!strcmp(a, "--bucket-mb")) o->bucket_mb = atof(v);
        else if (!strcmp(a, "--first-bucket-mb")) o->first_bucket_mb = atof(v);
        else return -1;
    }
    if (o->iters < 1 || o->warmup < 0 || o->layers < 1 || o->steps < 1 || o->work < 0 || o->params_mb <= 0)
        return -1;
    return 0;
}

static double max_over_ranks(MPI_Comm w, double t)
{
    double m = t;
    MPI_Allreduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, w);
    return m;
}

/* Mean seconds per all-reduce of n floats, blocking MPI or through c. */
static dy_status time_allreduce(MPI_Comm w, comm *c, float *buf, size_t n, const bench_opts *o, double *out)
{
    double t0 = 0;
    for (int i = 0; i < o->warmup + o->iters; i++) {
        if (i == o->warmup) {
            MPI_Barrier(w);
            t0 = timer_now();
        }
        if (c) DY_TRY(comm_allreduce_sync(c, buf, n, COMM_F32, COMM_SUM));
        else if (MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, w) != MPI_SUCCESS)
            return DY_ERR(DY_EMPI, "MPI_Allreduce of %zu floats failed", n);
    }
    *out = max_over_ranks(w, (timer_now() - t0) / o->iters);
    return DY_OK;
}

static void row(int rank, int n, const char *what, size_t bytes, double t)
{
    double alg = (double)bytes / t / 1e9, bus = alg * 2.0 * (n - 1) / n;
    if (rank == 0) printf("| %10zu | %-14s | %10.2f | %10.3f | %10.3f |\n", bytes, what, t * 1e6, alg, bus);
}

static dy_status bench_bandwidth(const dist_ctx *d, const bench_opts *o)
{
    gpu_info gi;
    gpu_query(&gi);
    comm *cm = NULL, *cn = NULL;
    comm_opts om = {.transport = COMM_TRANSPORT_MPI, .progress = COMM_PROGRESS_POLL, .timeout_s = 600};
    DY_TRY(comm_create(d->world, &om, &cm));
    void *dev = NULL;
    size_t maxb = 0;
    for (int i = 0; i < o->nsizes; i++) maxb = o->sizes[i] > maxb ? o->sizes[i] : maxb;
    if (gi.device_count > 0) {
        comm_opts on = {.transport = COMM_TRANSPORT_NCCL, .timeout_s = 600, .device = d->local_rank % gi.device_count};
        if (comm_create(d->world, &on, &cn) != DY_OK || dnccl_device_alloc(on.device, maxb, &dev) != DY_OK) {
            if (d->rank == 0) printf("(nccl skipped: %s)\n", err_msg());
            comm_destroy(cn);
            cn = NULL;
        }
    } else if (d->rank == 0) {
        printf("(nccl not measured: %s)\n\n", gi.reason);
    }
    float *buf = calloc(maxb / sizeof(float) + 1, sizeof(float));
    if (!buf) return DY_ERR(DY_ENOMEM, "bench: out of memory for %zu bytes", maxb);
    if (d->rank == 0)
        printf("| %10s | %-14s | %10s | %10s | %10s |\n|-----------:|:---------------|-----------:|-----------:|-----------:|\n",
               "bytes", "transport", "time (us)", "algbw GB/s", "busbw GB/s");
    dy_status s = DY_OK;
    for (int i = 0; i < o->nsizes && s == DY_OK; i++) {
        size_t n = o->sizes[i] / sizeof(float), bytes = n * sizeof(float);
        double t;
        s = time_allreduce(d->world, NULL, buf, n, o, &t);
        if (s == DY_OK) row(d->rank, d->size, "MPI_Allreduce", bytes, t);
        if (s == DY_OK) s = time_allreduce(d->world, cm, buf, n, o, &t);
        if (s == DY_OK) row(d->rank, d->size, "mpi (comm)", bytes, t);
        if (s == DY_OK && cn) s = time_allreduce(d->world, cn, dev, n, o, &t);
        if (s == DY_OK && cn) row(d->rank, d->size, "nccl (comm)", bytes, t);
    }
    free(buf);
    dnccl_device_free(dev);
    comm_destroy(cn);
    comm_destroy(cm);
    return s;
}

/* A layer's share of backward: `work` dependent passes of arithmetic over its range. */
static void layer_compute(float *g, size_t n, int work, float seed)
{
    for (int w = 0; w < work; w++)
        for (size_t i = 0; i < n; i++) g[i] = g[i] * 0.999f + seed * 1e-3f;
}

typedef struct {
    double step, compute, comm, exposed, hidden;
} overlap_result;

static dy_status run_backward(ddp *dp, float *g, const ddp_range *r, const bench_opts *o)
{
    for (int l = o->layers - 1; l >= 0; l--) {
        layer_compute(g + r[l].offset, r[l].count, o->work, (float)l);
        if (dp) DY_TRY(ddp_grad_ready(dp, r[l].offset, r[l].count));
    }
    return dp ? ddp_finish(dp) : DY_OK;
}

static dy_status overlap_mode(const dist_ctx *d, const bench_opts *o, comm_progress mode, float *g,
                              const ddp_range *r, overlap_result *res)
{
    comm_opts co = {.transport = COMM_TRANSPORT_MPI, .progress = mode, .timeout_s = 600};
    ddp_opts dop = {.bucket_bytes = (size_t)(o->bucket_mb * 1048576), .first_bucket_bytes = (size_t)(o->first_bucket_mb * 1048576),
                    .dtype = COMM_F32};
    comm *c = NULL;
    ddp *dp = NULL;
    DY_TRY(comm_create(d->world, &co, &c));
    dy_status s = ddp_create(c, g, r, o->layers, &dop, &dp);
    /* Reference: each bucket blocking, one after the other. */
    double tc = 0;
    for (int k = 0; s == DY_OK && k < o->steps + 1; k++) {
        MPI_Barrier(d->world);
        double t0 = timer_now();
        for (int b = 0; s == DY_OK && b < ddp_nbuckets(dp); b++) {
            size_t off, cnt;
            ddp_bucket_span(dp, b, &off, &cnt);
            s = comm_allreduce_sync(c, g + off, cnt, COMM_F32, COMM_AVG);
        }
        if (k) tc += timer_now() - t0; /* the first round is warm-up */
    }
    double tcomp = 0, tstep = 0;
    for (int k = 0; s == DY_OK && k < o->steps + 1; k++) {
        MPI_Barrier(d->world);
        double t0 = timer_now();
        s = run_backward(NULL, g, r, o);
        double t1 = timer_now();
        MPI_Barrier(d->world);
        double t2 = timer_now();
        if (s == DY_OK) s = run_backward(dp, g, r, o);
        double t3 = timer_now();
        if (k == 0) ddp_stats_reset(dp);
        else tcomp += t1 - t0, tstep += t3 - t2;
    }
    if (s == DY_OK) {
        ddp_stats st;
        ddp_stats_get(dp, &st);
        res->step = max_over_ranks(d->world, tstep / o->steps);
        res->compute = max_over_ranks(d->world, tcomp / o->steps);
        res->comm = max_over_ranks(d->world, tc / o->steps);
        res->exposed = max_over_ranks(d->world, st.exposed_s / o->steps);
        res->hidden = res->comm > 0 ? 1 - res->exposed / res->comm : 0;
        if (res->hidden < 0) res->hidden = 0;
    }
    ddp_destroy(dp);
    comm_destroy(c);
    return s;
}

static dy_status bench_overlap(const dist_ctx *d, const bench_opts *o)
{
    size_t n = (size_t)(o->params_mb * 1048576 / sizeof(float));
    ddp_range *r = malloc(sizeof *r * (size_t)o->layers);
    float *g = malloc(n * sizeof(float));
    if (!r || !g) {
        free(r);
        free(g);
        return DY_ERR(DY_ENOMEM, "bench: out of memory for %.0f MB", o->params_mb);
    }
    for (size_t i = 0; i < n; i++) g[i] = 1.0f;
    for (int l = 0; l < o->layers; l++) {
        r[l].offset = n * (size_t)l / (size_t)o->layers;
        r[l].count = n * (size_t)(l + 1) / (size_t)o->layers - r[l].offset;
    }
    if (d->rank == 0)
        printf("\nDDP overlap: %.0f MB of f32 gradients, %d layers, buckets %.3g MB (first %.3g MB), %d ranks\n\n"
               "| progress | step (ms) | backward compute (ms) | all-reduce alone (ms) | exposed (ms) | hidden |\n"
               "|:---------|----------:|----------------------:|----------------------:|-------------:|-------:|\n",
               o->params_mb, o->layers, o->bucket_mb, o->first_bucket_mb, d->size);
    const char *names[] = {"poll", "thread", "none"};
    dy_status s = DY_OK;
    for (int m = 0; m < 3 && s == DY_OK; m++) {
        overlap_result res;
        s = overlap_mode(d, o, (comm_progress)m, g, r, &res);
        if (s == DY_OK && d->rank == 0)
            printf("| %-8s | %9.1f | %21.1f | %21.1f | %12.1f | %5.1f%% |\n", names[m], res.step * 1e3,
                   res.compute * 1e3, res.comm * 1e3, res.exposed * 1e3, 100 * res.hidden);
    }
    free(r);
    free(g);
    return s;
}

int bench_allreduce_main(int argc, char **argv)
{
    bench_opts o;
    memset(&o, 0, sizeof o);
    int pr = parse_args(argc, argv, &o);
    if (pr) {
        usage(pr > 0 ? stdout : stderr);
        return pr > 0 ? 0 : 2;
    }
    dist_ctx d;
    if (dist_init(&argc, &argv, &d) != DY_OK) {
        fprintf(stderr, "dyolo bench allreduce: error: %s\n", err_msg());
        return 1;
    }
    if (d.rank == 0)
        printf("dyolo bench allreduce: %d rank(s) on %d node(s), f32, mean of %d after %d warm-up\n\n", d.size,
               d.nnodes, o.iters, o.warmup);
    dy_status s = DY_OK;
    if (!o.overlap_only) s = bench_bandwidth(&d, &o);
    if (s == DY_OK && !o.bw_only) s = bench_overlap(&d, &o);
    if (s != DY_OK) {
        char why[1200];
        snprintf(why, sizeof why, "dyolo bench allreduce: %s", err_msg());
        dist_abort(1, why);
    }
    fflush(stdout);
    dist_finalize(&d);
    return 0;
}
