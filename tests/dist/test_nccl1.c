/* test_nccl1.c -- the NCCL transport of the comm interface on one rank (one GPU: NCCL
 * refuses two ranks on the same device), on device buffers: all-reduce (f32/f16/i32/u8,
 * sum/avg/max, several in flight, waited in any order), broadcast, all-gather(v),
 * barrier, completion by comm_test polling and comm_wait (the per-slot CUDA events),
 * and abort (ncclCommAbort through the transport's abort hook) leaving later
 * collectives failing with a message instead of hanging.
 *
 * Without a usable GPU (or in a build without CUDA) it checks that asking for the
 * NCCL transport fails at once with a message that says so and names the remedy,
 * then prints "ok N # SKIP: no usable GPU (<reason>)"; DYOLO_REQUIRE_GPU=1 makes
 * that a failure.  Runs under `mpirun -np 1` or as an MPI singleton (nccl1.sh; the
 * GPU check script runs it directly). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_nccl.h"
#include "core/gpu.h"
#include "core/timer.h"
#include "dist/comm.h"
#include "dist/comm_impl.h"
#include "dist/dist.h"
#include "tests/dist/nccl1_devmem.h"
#include "tests/tap.h"

static int dev;
static comm *C;

#define CHECK_S(expr, ...)                                                   \
    do {                                                                     \
        dy_status s_ = (expr);                                               \
        if (!TAP_OK(s_ == DY_OK, __VA_ARGS__)) tap_diag("%s", err_msg());   \
    } while (0)

static void *dalloc(size_t bytes)
{
    void *p = NULL;
    if (dnccl_device_alloc(dev, bytes, &p) != DY_OK) {
        printf("Bail out! device alloc of %zu bytes: %s\n", bytes, err_msg());
        exit(1);
    }
    return p;
}

/* Upload `host`, run one collective on it, wait, download, compare with `host`
 * (one rank: sum, average, max, broadcast and gather all give back the input). */
static void same_after(const char *name, comm_dtype t, comm_redop op, size_t n, uint64_t seed)
{
    size_t es = comm_dtype_size(t), bytes = n * es;
    unsigned char *h = malloc(bytes), *g = malloc(bytes);
    for (size_t i = 0; i < bytes; i++) h[i] = (unsigned char)((i * 2654435761u + seed) >> 13);
    if (t == COMM_F16)
        for (size_t i = 0; i < n; i++) ((uint16_t *)h)[i] &= 0xbbff; /* finite halves, no NaN */
    if (t == COMM_F32)
        for (size_t i = 0; i < n; i++) ((uint32_t *)h)[i] &= 0xbf7fffffu; /* finite floats */
    void *d = dalloc(bytes);
    dy_status s = t_dev_upload(d, h, bytes);
    comm_req r = COMM_REQ_NONE;
    if (s == DY_OK) s = comm_allreduce(C, d, n, t, op, &r);
    if (s == DY_OK) s = comm_wait(C, r);
    if (s == DY_OK) s = t_dev_download(g, d, bytes);
    if (!TAP_OK(s == DY_OK && !memcmp(g, h, bytes), "%s", name)) tap_diag("%s", s != DY_OK ? err_msg() : "data changed");
    dnccl_device_free(d);
    free(h);
    free(g);
}

static void test_inflight(void)
{
    enum { K = 8, N = 100003 };
    void *d[K];
    float *h = malloc(sizeof(float) * N * K), *g = malloc(sizeof(float) * N);
    comm_req r[K];
    dy_status s = DY_OK;
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < N; i++) h[(size_t)k * N + i] = (float)(k * 1000 + i % 997) * 0.5f;
        d[k] = dalloc(sizeof(float) * N);
        if (s == DY_OK) s = t_dev_upload(d[k], h + (size_t)k * N, sizeof(float) * N);
    }
    for (int k = 0; k < K && s == DY_OK; k++) s = comm_allreduce(C, d[k], N, COMM_F32, k % 2 ? COMM_MAX : COMM_SUM, &r[k]);
    /* waited in reverse order, the odd ones by polling comm_test */
    long polls = 0;
    for (int k = K - 1; k >= 0 && s == DY_OK; k--) {
        if (k % 2 == 0) {
            s = comm_wait(C, r[k]);
            continue;
        }
        int done = 0;
        double t0 = timer_now();
        while (s == DY_OK && !done && timer_now() - t0 < 30) s = comm_test(C, r[k], &done), polls++;
        if (s == DY_OK && !done) s = DY_ERR(DY_ETIMEOUT, "comm_test never reported request %d done in 30 s", k);
    }
    int same = s == DY_OK;
    for (int k = 0; k < K && same; k++) {
        if (t_dev_download(g, d[k], sizeof(float) * N) != DY_OK) same = 0;
        else same = !memcmp(g, h + (size_t)k * N, sizeof(float) * N);
    }
    if (!TAP_OK(same, "8 all-reduces in flight, waited in reverse order (4 by comm_test polling, %ld polls)", polls))
        tap_diag("%s", s != DY_OK ? err_msg() : "data changed");
    for (int k = 0; k < K; k++) dnccl_device_free(d[k]);
    free(h);
    free(g);
}

static void test_bcast_gather(void)
{
    int32_t hb[7] = {1, -2, 3, -4, 5, -6, 7}, gb[7];
    void *d = dalloc(sizeof hb);
    dy_status s = t_dev_upload(d, hb, sizeof hb);
    if (s == DY_OK) s = comm_broadcast_sync(C, d, 7, COMM_I32, 0);
    if (s == DY_OK) s = t_dev_download(gb, d, sizeof gb);
    if (!TAP_OK(s == DY_OK && !memcmp(hb, gb, sizeof hb), "broadcast from rank 0 (i32)")) tap_diag("%s", err_msg());
    comm_req r;
    s = comm_broadcast(C, d, 7, COMM_I32, 1, &r);
    TAP_OK(s == DY_EINVAL && r == COMM_REQ_NONE, "broadcast from a root outside the world is refused");
    dnccl_device_free(d);

    uint32_t snd[5] = {11, 22, 33, 44, 55}, rcv[8];
    uint32_t fill[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    void *ds = dalloc(sizeof snd), *dr = dalloc(sizeof rcv);
    s = t_dev_upload(ds, snd, sizeof snd);
    if (s == DY_OK) s = t_dev_upload(dr, fill, sizeof fill);
    if (s == DY_OK) s = comm_allgather(C, ds, 3, dr, COMM_U32, &r);
    if (s == DY_OK) s = comm_wait(C, r);
    if (s == DY_OK) s = t_dev_download(rcv, dr, sizeof rcv);
    if (!TAP_OK(s == DY_OK && rcv[0] == 11 && rcv[2] == 33 && rcv[3] == 9, "all-gather (u32) of 3 values, nothing beyond"))
        tap_diag("%s", err_msg());
    static const int counts[1] = {5}, displs[1] = {2};
    s = t_dev_upload(dr, fill, sizeof fill);
    if (s == DY_OK) s = comm_allgatherv(C, ds, 5, dr, counts, displs, COMM_U32, &r);
    if (s == DY_OK) s = comm_wait(C, r);
    if (s == DY_OK) s = t_dev_download(rcv, dr, sizeof rcv);
    if (!TAP_OK(s == DY_OK && rcv[1] == 9 && rcv[2] == 11 && rcv[6] == 55 && rcv[7] == 9,
                "all-gatherv (u32) at displacement 2, neighbours untouched"))
        tap_diag("%s", err_msg());
    dnccl_device_free(ds);
    dnccl_device_free(dr);

    s = comm_barrier(C, &r);
    if (s == DY_OK) s = comm_wait(C, r);
    CHECK_S(s, "barrier");
    CHECK_S(comm_wait_all(C), "comm_wait_all with nothing outstanding");
}

/* The transport's abort (what the watchdog calls on a timeout): outstanding work
 * gives up or finishes, later collectives fail with a message, destroy is safe. */
static void test_abort(void)
{
    size_t n = (size_t)16 << 20;
    void *d = dalloc(n * sizeof(float));
    comm_req r = COMM_REQ_NONE;
    dy_status s = comm_allreduce(C, d, n, COMM_F32, COMM_SUM, &r);
    CHECK_S(s, "a 64 MB all-reduce starts before the abort");
    double t0 = timer_now();
    C->ops->abort(C);
    if (s == DY_OK) {
        dy_status w = comm_wait(C, r); /* either finished or reports the abort; must not hang */
        tap_diag("wait after abort: %s%s%s", err_name(w), w != DY_OK ? ": " : "", w != DY_OK ? err_msg() : "");
    }
    TAP_OK(timer_now() - t0 < 20, "abort: the outstanding request is settled within 20 s (%.2f s)", timer_now() - t0);
    s = comm_allreduce(C, d, 16, COMM_F32, COMM_SUM, &r);
    if (s == DY_OK) s = comm_wait(C, r);
    TAP_OK(s != DY_OK && err_msg()[0], "after abort a new all-reduce fails with a message: %s", s != DY_OK ? err_msg() : "(succeeded)");
    dnccl_device_free(d);
}

static int skip_no_gpu(const char *why)
{
    char w[600];
    snprintf(w, sizeof w, "%s", why);
    for (char *p = w; *p; p++)
        if (*p == '\n' || *p == '#') *p = ' ';
    const char *req = getenv("DYOLO_REQUIRE_GPU");
    if (req && atoi(req)) TAP_OK(0, "nccl transport on a GPU (DYOLO_REQUIRE_GPU=1): %s", w);
    else {
        printf("ok %d - nccl transport on device buffers: SKIP: no usable GPU (%s) # SKIP no usable GPU\n", ++tap_n, w);
        fprintf(stderr, "SKIP: no usable GPU (%s)\n", w);
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    dist_ctx d;
    if (dist_init(&argc, &argv, &d) != DY_OK) {
        printf("Bail out! %s\n", err_msg());
        return 1;
    }
    gpu_info gi;
    gpu_query(&gi);
    TAP_EQ_INT(d.size, 1, "one rank (NCCL refuses two ranks on one GPU)");
    comm_opts o = {.transport = COMM_TRANSPORT_NCCL, .progress = COMM_PROGRESS_POLL, .timeout_s = 30, .device = 0};
    err_clear();
    dy_status s = comm_create(d.world, &o, &C);
    if (!gi.cuda_built || gi.device_count <= 0) {
        /* what a CPU machine can check: asking for NCCL fails at once, and says why */
        TAP_OK(s != DY_OK && C == NULL, "without a GPU, transport nccl is refused (%s)", err_name(s));
        TAP_STR_HAS(err_msg(), "dist.transport=mpi", "the message names the remedy");
        skip_no_gpu(gi.cuda_built ? gi.reason : "this dyolo was built without CUDA");
        dist_finalize(&d);
        return tap_done();
    }
    if (!TAP_OK(s == DY_OK, "comm_create with transport nccl on device 0 (%s)", gi.dev[0].name)) {
        tap_diag("%s", err_msg());
        dist_finalize(&d);
        return tap_done();
    }
    TAP_STR_HAS(comm_name(C), "nccl", "the communicator's transport is nccl");
    void *probe = dalloc(64);
    TAP_OK(t_dev_is_device(probe), "test buffers are device memory");
    dnccl_device_free(probe);

    same_after("all-reduce f32 sum, 1000003 values", COMM_F32, COMM_SUM, 1000003, 1);
    same_after("all-reduce f32 avg (1 rank: unchanged)", COMM_F32, COMM_AVG, 4099, 2);
    same_after("all-reduce f16 sum", COMM_F16, COMM_SUM, 65537, 3);
    same_after("all-reduce i32 max", COMM_I32, COMM_MAX, 1001, 4);
    same_after("all-reduce u8 sum", COMM_U8, COMM_SUM, 333, 5);
    test_inflight();
    test_bcast_gather();
    comm_stats st;
    comm_stats_get(C, &st);
    TAP_OK(st.collectives >= 16, "stats count the collectives (%ld)", st.collectives);
    CHECK_S(t_dev_sync(), "device still healthy before the abort");
    test_abort();
    comm_destroy(C);
    TAP_OK(1, "comm_destroy after abort returns");
    dist_finalize(&d);
    return tap_done();
}
