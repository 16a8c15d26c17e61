/* test_dist_mpi.c -- the distributed runtime, the communication interface and DDP
 * under 1, 2 and 4 ranks: collectives' results against closed forms, both progress
 * modes; many tiny buckets completed in a per-rank random order equal one big
 * bucket on every rank; accumulation launches nothing for k-1 micro-steps and equals
 * one big batch; parameter broadcast, divergence guard and SyncBN.  Only rank 0
 * prints TAP; every check is reduced over all ranks first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/gpu.h"
#include "dist/dist_config.h"
#include "dist/runtime.h"
#include "core/rng.h"
#include "dist/comm.h"
#include "dist/ddp.h"
#include "dist/dist.h"
#include "tests/tap.h"
#include "train/train_config.h"

static dist_ctx D;

/* TAP check true only if true on every rank. */
static int all_ok(int ok)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}
#define CHECK(cond, ...) TAP_OK(all_ok(!!(cond)), __VA_ARGS__)
#define CHECK_S(expr, ...)                                        \
    do {                                                          \
        dy_status s_ = (expr);                                    \
        if (s_ != DY_OK) fprintf(stderr, "rank %d: %s\n", D.rank, err_msg()); \
        CHECK(s_ == DY_OK, __VA_ARGS__);                          \
    } while (0)

static void test_collectives(comm *c, const char *mode)
{
    int n = D.size, r = D.rank;
    enum { N = 1000 };
    static float f[N];
    comm_req q1, q2;
    for (int i = 0; i < N; i++) f[i] = (float)(r + 1 + i);
    static float g[N];
    for (int i = 0; i < N; i++) g[i] = (float)(r * 10 + i);
    /* Two collectives in flight at once. */
    dy_status s = comm_allreduce(c, f, N, COMM_F32, COMM_SUM, &q1);
    if (s == DY_OK) s = comm_allreduce(c, g, N, COMM_F32, COMM_MAX, &q2);
    if (s == DY_OK) s = comm_wait(c, q2);
    if (s == DY_OK) s = comm_wait(c, q1);
    int ok = s == DY_OK;
    for (int i = 0; i < N; i++) ok &= f[i] == (float)(n * (n + 1) / 2 + n * i) && g[i] == (float)((n - 1) * 10 + i);
    CHECK(ok, "%s: f32 sum and max all-reduce in flight together", mode);

    for (int i = 0; i < N; i++) f[i] = (float)(2 * r + i);
    s = comm_allreduce_sync(c, f, N, COMM_F32, COMM_AVG);
    ok = s == DY_OK;
    for (int i = 0; i < N; i++) ok &= fabsf(f[i] - (float)(n - 1 + i)) < 1e-4f;
    CHECK(ok, "%s: f32 average all-reduce", mode);

    _Float16 h[64];
    for (int i = 0; i < 64; i++) h[i] = (_Float16)(r + i);
    s = comm_allreduce_sync(c, h, 64, COMM_F16, COMM_SUM);
    ok = s == DY_OK;
    for (int i = 0; i < 64; i++) ok &= (float)h[i] == (float)(n * (n - 1) / 2 + n * i);
    CHECK(ok, "%s: f16 sum all-reduce", mode);
    for (int i = 0; i < 64; i++) h[i] = (_Float16)(r == n - 1 && i == 5 ? INFINITY : r);
    s = comm_allreduce_sync(c, h, 64, COMM_F16, COMM_MAX);
    CHECK(s == DY_OK && isinf((float)h[5]) && (float)h[6] == (float)(n - 1), "%s: f16 max all-reduce keeps inf", mode);

    int32_t b[7];
    for (int i = 0; i < 7; i++) b[i] = r == n - 1 ? 1000 + i : -1;
    s = comm_broadcast_sync(c, b, 7, COMM_I32, n - 1);
    ok = s == DY_OK;
    for (int i = 0; i < 7; i++) ok &= b[i] == 1000 + i;
    CHECK(ok, "%s: broadcast from the last rank", mode);

    uint32_t snd[3], rcv[3 * 8];
    for (int k = 0; k < 3; k++) snd[k] = (uint32_t)(r * 100 + k);
    s = comm_allgather(c, snd, 3, rcv, COMM_U32, &q1);
    if (s == DY_OK) s = comm_wait(c, q1);
    ok = s == DY_OK;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) ok &= rcv[i * 3 + k] == (uint32_t)(i * 100 + k);
    CHECK(ok, "%s: allgather", mode);

    int counts[8], displs[8], tot = 0;
    for (int i = 0; i < n; i++) counts[i] = i + 1, displs[i] = tot, tot += i + 1;
    float vs[8], vr[64];
    for (int k = 0; k <= r; k++) vs[k] = (float)(r * 10 + k);
    s = comm_allgatherv(c, vs, (size_t)r + 1, vr, counts, displs, COMM_F32, &q1);
    if (s == DY_OK) s = comm_wait(c, q1);
    ok = s == DY_OK;
    for (int i = 0; i < n; i++)
        for (int k = 0; k <= i; k++) ok &= vr[displs[i] + k] == (float)(i * 10 + k);
    CHECK(ok, "%s: allgatherv with rank-dependent counts", mode);

    comm_stats st0, st1;
    comm_stats_get(c, &st0);
    s = comm_barrier(c, &q1);
    if (s == DY_OK) s = comm_wait(c, q1);
    comm_stats_get(c, &st1);
    CHECK(s == DY_OK && st1.collectives == st0.collectives + 1, "%s: barrier, counted as one collective", mode);
    CHECK(comm_wait(c, q1) == DY_EINVAL, "%s: waiting twice on a request is an error", mode);
}

/* Parameter ranges of random sizes (same on all ranks: fixed seed). */
static int make_ranges(ddp_range *r, int nr, size_t *total)
{
    rng_stream s;
    rng_stream_init(&s, 42, 1, 0, 0);
    size_t off = 0;
    for (int i = 0; i < nr; i++) {
        r[i].offset = off;
        r[i].count = 1 + rng_u32(&s) % 3000;
        off += r[i].count;
    }
    *total = off;
    return nr;
}

/* Run one synchronised step: ranges reported in `order`, optionally several at once. */
static dy_status ddp_step(ddp *d, const ddp_range *r, const int *order, int nr)
{
    for (int k = 0; k < nr; k++) DY_TRY(ddp_grad_ready(d, r[order[k]].offset, r[order[k]].count));
    return ddp_finish(d);
}

static void fill_grads(float *g, size_t n, int rank)
{
    for (size_t i = 0; i < n; i++) g[i] = (float)((int)(i % 17) - 8 + 4 * rank); /* exact sums */
}

static void test_buckets(comm *c)
{
    enum { NR = 60 };
    ddp_range r[NR];
    size_t n;
    make_ranges(r, NR, &n);
    float *g1 = malloc(n * sizeof(float)), *g2 = malloc(n * sizeof(float));
    int order[NR], rev[NR];
    for (int i = 0; i < NR; i++) order[i] = i, rev[i] = NR - 1 - i;
    rng_stream s;
    rng_stream_init(&s, 7, 2, 0, (uint64_t)D.rank); /* a different order on every rank */
    for (int i = NR - 1; i > 0; i--) {
        int j = (int)(rng_u32(&s) % (uint32_t)(i + 1)), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    ddp *tiny = NULL, *big = NULL;
    ddp_opts ot = {.bucket_bytes = 2000, .first_bucket_bytes = 64, .dtype = COMM_F32};
    ddp_opts ob = {.bucket_bytes = (size_t)1 << 40, .first_bucket_bytes = (size_t)1 << 40, .dtype = COMM_F32};
    dy_status st = ddp_create(c, g1, r, NR, &ot, &tiny);
    if (st == DY_OK) st = ddp_create(c, g2, r, NR, &ob, &big);
    CHECK(st == DY_OK && ddp_nbuckets(tiny) > 20 && ddp_nbuckets(big) == 1, "tiny buckets: %d, big: 1",
          tiny ? ddp_nbuckets(tiny) : -1);
    size_t o0, c0, o1, c1;
    ddp_bucket_span(tiny, 0, &o0, &c0);
    ddp_bucket_span(tiny, 1, &o1, &c1);
    CHECK(o0 + c0 == n && o1 + c1 == o0, "bucket 0 holds the last ranges, bucket 1 ends where it starts");
    fill_grads(g1, n, D.rank);
    fill_grads(g2, n, D.rank);
    CHECK_S(ddp_step(tiny, r, order, NR), "tiny buckets, random per-rank completion order");
    CHECK_S(ddp_step(big, r, rev, NR), "one big bucket, reverse order");
    int same = memcmp(g1, g2, n * sizeof(float)) == 0, exact = 1;
    for (size_t i = 0; i < n; i++)
        exact &= g1[i] == (float)((int)(i % 17) - 8) + 2.0f * (float)(D.size - 1);
    CHECK(same && exact, "tiny buckets == one big bucket == the closed-form average");
    uint32_t h = ddp_param_hash(g1, n * sizeof(float)), h0 = h;
    MPI_Bcast(&h0, 1, MPI_UINT32_T, 0, MPI_COMM_WORLD);
    CHECK(h == h0, "reduced gradients identical on every rank");
    ddp_stats ds;
    ddp_stats_get(tiny, &ds);
    CHECK(ds.collectives == ddp_nbuckets(tiny) && ds.syncs == 1, "one collective per bucket (%ld)", ds.collectives);

    /* Several ranges reported at once; then misuse. */
    fill_grads(g1, n, D.rank);
    st = ddp_grad_ready(tiny, r[NR - 3].offset, r[NR - 3].count + r[NR - 2].count + r[NR - 1].count);
    for (int i = NR - 4; st == DY_OK && i >= 0; i--) st = ddp_grad_ready(tiny, r[i].offset, r[i].count);
    if (st == DY_OK) st = ddp_finish(tiny);
    CHECK(st == DY_OK && memcmp(g1, g2, n * sizeof(float)) == 0, "grad_ready over three ranges at once");
    CHECK(ddp_grad_ready(tiny, r[5].offset + 1, 3) == DY_EINVAL && strstr(err_msg(), "not the start"),
          "grad_ready inside a range is refused");
    st = ddp_grad_ready(tiny, r[5].offset, r[5].count);
    CHECK(st == DY_OK && ddp_grad_ready(tiny, r[5].offset, r[5].count) == DY_EINVAL &&
          strstr(err_msg(), "twice"), "a range reported twice is refused");
    ddp_set_sync(tiny, 0); /* finish must not talk: the step is incomplete on purpose */
    CHECK(ddp_finish(tiny) == DY_EINVAL && strstr(err_msg(), "never reported ready"),
          "finish names a range backward never reported");
    ddp_destroy(tiny);
    ddp_destroy(big);
    /* f16 gradients (amp) through f16 buckets: small integers stay exact. */
    _Float16 *hb = (_Float16 *)g1;
    ddp *hd = NULL;
    ddp_opts oh = {.bucket_bytes = 512, .first_bucket_bytes = 64, .dtype = COMM_F16};
    for (size_t i = 0; i < n; i++) hb[i] = (_Float16)((int)(i % 5) + 2 * D.rank);
    st = ddp_create(c, hb, r, NR, &oh, &hd);
    if (st == DY_OK) st = ddp_step(hd, r, order, NR);
    int hok = st == DY_OK;
    for (size_t i = 0; i < n; i++) hok &= (float)hb[i] == (float)((int)(i % 5) + (D.size - 1));
    CHECK(hok, "f16 gradients in %d f16 buckets average exactly", hd ? ddp_nbuckets(hd) : 0);
    ddp_destroy(hd);
    free(g1);
    free(g2);
}

/* Linear model y = w.x with squared loss; sample j of the global batch is synthetic. */
enum { DIM = 37 };
static void sample(long j, float *x, float *y)
{
    rng_stream s;
    rng_stream_init(&s, 3, 9, 0, (uint64_t)j);
    *y = 0;
    for (int i = 0; i < DIM; i++) x[i] = rng_uniform(&s) * 2 - 1, *y += 0.3f * x[i];
}

static void add_grad(const float *w, long j, float scale, float *g)
{
    float x[DIM], y, p = 0;
    sample(j, x, &y);
    for (int i = 0; i < DIM; i++) p += w[i] * x[i];
    for (int i = 0; i < DIM; i++) g[i] += scale * (p - y) * x[i];
}

static void test_accumulation(comm *c)
{
    const int k = 4, b = 3;
    float w[DIM], g[DIM], ref[DIM] = {0};
    for (int i = 0; i < DIM; i++) w[i] = 0.01f * (float)i;
    ddp_range r[2] = {{0, 20}, {20, DIM - 20}};
    ddp_opts o = {.bucket_bytes = 40, .first_bucket_bytes = 40, .dtype = COMM_F32};
    ddp *d = NULL;
    CHECK_S(ddp_create(c, g, r, 2, &o, &d), "ddp for the linear model");
    memset(g, 0, sizeof g);
    comm_stats c0, c1;
    comm_stats_get(c, &c0);
    long global = (long)k * b * D.size;
    int ok = 1;
    for (int m = 0; m < k; m++) {
        ddp_set_sync(d, m == k - 1);
        /* rank r, micro-step m takes samples ((m * size) + r) * b ... of the global batch */
        for (int j = 0; j < b; j++) add_grad(w, ((long)m * D.size + D.rank) * b + j, 1.0f / (float)(k * b), g);
        ok &= ddp_grad_ready(d, 20, DIM - 20) == DY_OK && ddp_grad_ready(d, 0, 20) == DY_OK;
        ok &= ddp_finish(d) == DY_OK;
        if (m == k - 2) comm_stats_get(c, &c1);
    }
    CHECK(ok, "k=%d micro-steps run", k);
    CHECK(c1.collectives == c0.collectives, "no collective on the first k-1 micro-steps");
    ddp_stats ds;
    ddp_stats_get(d, &ds);
    CHECK(ds.nosync_steps == k - 1 && ds.syncs == 1 && ds.collectives == ddp_nbuckets(d),
          "ddp counts %ld no-sync steps and %ld collectives", ds.nosync_steps, ds.collectives);
    for (long j = 0; j < global; j++) add_grad(w, j, 1.0f / (float)global, ref);
    double err = 0;
    for (int i = 0; i < DIM; i++) err = fmax(err, fabs(g[i] - ref[i]));
    CHECK(err < 1e-6, "k micro-batches of b on %d ranks == one batch of k*b*ranks (max err %.2g)", D.size, err);
    ddp_destroy(d);
}

static void test_params(comm *c)
{
    enum { P = 500, C = 5 };
    float p[P];
    for (int i = 0; i < P; i++) p[i] = (float)(D.rank * 1000 + i);
    CHECK_S(ddp_broadcast_params(c, p, P, COMM_F32), "broadcast parameters");
    int ok = 1;
    for (int i = 0; i < P; i++) ok &= p[i] == (float)i;
    CHECK(ok, "every rank holds rank 0's parameters");
    CHECK_S(ddp_check_divergence(c, p, sizeof p, 10, 5), "identical parameters pass the guard");
    if (D.rank == D.size - 1) p[17] += 1e-3f;
    dy_status s = ddp_check_divergence(c, p, sizeof p, 7, 5);
    CHECK(s == DY_OK, "the guard only looks every N steps");
    s = ddp_check_divergence(c, p, sizeof p, 15, 5);
    if (D.size == 1) {
        CHECK(s == DY_OK, "one rank cannot diverge");
    } else {
        char want[64];
        snprintf(want, sizeof want, "rank(s) %d (hash", D.size - 1);
        CHECK(s == DY_ECORRUPT && strstr(err_msg(), want), "a perturbed rank is named: %s", err_msg());
    }
    /* SyncBN: rank r holds 2 + r values per channel. */
    float st[3 * C], mean[C], var[C];
    double gs[C] = {0}, gq[C] = {0}, gn = 0;
    for (int ch = 0; ch < C; ch++) st[ch] = st[C + ch] = st[2 * C + ch] = 0;
    for (int rr = 0; rr < D.size; rr++)
        for (int v = 0; v < 2 + rr; v++)
            for (int ch = 0; ch < C; ch++) {
                float x = (float)(ch + 0.5 * v - rr);
                if (rr == D.rank) st[ch] += x, st[C + ch] += x * x, st[2 * C + ch] += 1;
                gs[ch] += x, gq[ch] += x * x;
                if (ch == 0) gn += 1;
            }
    CHECK_S(ddp_syncbn_allreduce(c, st, C), "SyncBN statistics all-reduce");
    ddp_syncbn_mean_var(st, C, mean, var);
    ok = 1;
    for (int ch = 0; ch < C; ch++) {
        double m = gs[ch] / gn, v = gq[ch] / gn - m * m;
        ok &= fabs(mean[ch] - m) < 1e-5 && fabs(var[ch] - v) < 1e-4;
    }
    CHECK(ok, "SyncBN mean/var equal the statistics of the union of all ranks' batches");
}

int main(int argc, char **argv)
{
    train_config_register_all(); /* the library's config sections */
    dy_status s = dist_init(&argc, &argv, &D);
    if (s != DY_OK) {
        fprintf(stderr, "%s\n", err_msg());
        return 1;
    }
    if (D.rank != 0 && !freopen("/dev/null", "w", stdout)) return 1;
    tap_diag("world %d, node-local %d, nodes %d, node %s", D.size, D.local_size, D.nnodes, D.node_name);
    CHECK(D.local_size == D.size && D.nnodes == 1 && D.local_rank == D.rank,
          "one host: the node communicator holds every rank");
    char text[64];
    snprintf(text, sizeof text, "{\"lr0\": 0.01}");
    CHECK_S(dist_check_same(&D, text, "the effective config"), "identical config text on every rank passes");
    if (D.rank == D.size - 1 && D.size > 1) text[10] = '2';
    s = dist_check_same(&D, text, "the effective config");
    if (D.size > 1) {
        char want[64];
        snprintf(want, sizeof want, "rank(s) %d disagree", D.size - 1);
        CHECK(s == DY_EINVAL && strstr(err_msg(), want) && strstr(err_msg(), "effective config"),
              "a different config on the last rank is named");
    } else {
        CHECK(s == DY_OK, "one rank always agrees with itself");
    }
    long per = 0;
    CHECK(dist_split_batch(&D, 16, &per) == DY_OK && per == 16 / D.size, "global batch 16 splits evenly");
    s = dist_split_batch(&D, 6, &per);
    CHECK(D.size == 4 ? s == DY_EINVAL && strstr(err_msg(), "not divisible by the 4 ranks") : s == DY_OK,
          "batch 6 on %d ranks", D.size);
    dist_devmap_out dm;
    CHECK_S(dist_select_device(&D, 0, &dm), "CPU device selection on every rank");
    CHECK(dm.device == -1, "CPU: no device");
    cfg *cf = NULL;
    dist_runtime rt;
    const char *devs[] = {"cpu", "auto"};
    for (int k = 0; k < 2; k++) {
        char kv[64];
        snprintf(kv, sizeof kv, "runtime.device=%s", devs[k]);
        s = cfg_new(&cf);
        if (s == DY_OK) s = cfg_set(cf, kv);
        if (s == DY_OK) s = cfg_set(cf, "dist.bucket_mb=3");
        if (s == DY_OK) s = dist_runtime_open(cf, &D, &rt);
        CHECK(s == DY_OK && !strcmp(comm_name(rt.comm), "mpi") && rt.dopt.bucket_bytes == 3u << 20 &&
                  rt.be == tn_backend_cpu() && strstr(rt.desc, "cpu") && strstr(rt.desc, "mpi"),
              "dist_runtime_open: %s without a GPU -> cpu backend + mpi transport, bucket size from config",
              devs[k]);
        if (s == DY_OK) dist_runtime_close(&rt);
        cfg_free(cf);
    }
    gpu_info gi;
    gpu_query(&gi);
    s = cfg_new(&cf);
    if (s == DY_OK) s = cfg_set(cf, "runtime.device=cuda");
    if (s == DY_OK && gi.device_count == 0) s = dist_runtime_open(cf, &D, &rt);
    if (gi.device_count == 0)
        CHECK(s == DY_ENOGPU && strstr(err_msg(), "runtime.device=cuda") && strstr(err_msg(), "no usable GPU"),
              "dist_runtime_open: cuda without a GPU fails on every rank with a clear error");
    else
        CHECK(1, "dist_runtime_open cuda without a GPU # SKIP this machine has a GPU");
    cfg_free(cf);
    const char *modes[] = {"poll", "thread"};
    for (int m = 0; m < 2; m++) {
        comm_opts o = {.transport = COMM_TRANSPORT_MPI, .progress = m ? COMM_PROGRESS_THREAD : COMM_PROGRESS_POLL,
                       .timeout_s = 60};
        comm *c = NULL;
        CHECK_S(comm_create(D.world, &o, &c), "%s: MPI transport created", modes[m]);
        if (!c) break;
        test_collectives(c, modes[m]);
        if (m == 0) {
            test_buckets(c);
            test_accumulation(c);
            test_params(c);
        }
        comm_destroy(c);
    }
    if (gi.device_count > 0) {
        TAP_OK(1, "nccl without a GPU is a clear error # SKIP this machine has a GPU");
    } else {
        comm_opts on = {.transport = COMM_TRANSPORT_NCCL};
        comm *cn = NULL;
        s = comm_create(D.world, &on, &cn);
        CHECK(s == DY_ENOGPU && strstr(err_msg(), "dist.transport=mpi"), "nccl without a GPU is a clear error");
        if (s != DY_ENOGPU) tap_diag("%s", err_msg());
        comm_destroy(cn);
    }

    int failed = tap_failed, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    int rc = tap_done();
    dist_finalize(&D);
    return any ? 1 : rc;
}
