/* test_scaler_mpi.c -- the loss scaler across ranks: an infinity in one rank's
 * gradients (or a real f16 overflow on one rank) makes every rank skip and halve the
 * same step; finite steps grow the scale everywhere.  Rank 0 prints TAP. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dist/comm.h"
#include "dist/dist.h"
#include "train/scaler.h"
#include "tests/tap.h"

static int all_same_float(float v)
{
    float mn, mx;
    MPI_Allreduce(&v, &mn, 1, MPI_FLOAT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&v, &mx, 1, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD);
    return mn == mx;
}

static int all_ok(int ok)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

int main(int argc, char **argv)
{
    dist_ctx d;
    if (dist_init(&argc, &argv, &d) != DY_OK) return 1;
    if (d.rank != 0 && !freopen("/dev/null", "w", stdout)) return 1;
    comm_opts o = {.transport = COMM_TRANSPORT_MPI, .timeout_s = 60};
    comm *c = NULL;
    if (comm_create(d.world, &o, &c) != DY_OK) dist_abort(1, err_msg());
    loss_scaler s;
    scaler_init(&s, 65536.0f, 2, 1.0f, 10);
    int skip = 0;
    enum { N = 256 };
    float g[N];
    /* Step 1: an inf only in the last rank's gradients. */
    for (int i = 0; i < N; i++) g[i] = 1.0f;
    if (d.rank == d.size - 1) g[100] = INFINITY;
    int local = scaler_unscale(&s, NULL, g, N);
    dy_status st = scaler_update(&s, c, local, &skip);
    TAP_OK(all_ok(st == DY_OK && skip == 1), "an inf on rank %d makes every rank skip", d.size - 1);
    TAP_OK(all_ok(s.scale == 32768.0f) && all_same_float(s.scale), "every rank halved to 2^15");
    /* Step 2: real f16 overflow on rank 0 only (gradient 4 at scale 2^15 > 65504). */
    uint16_t h[N];
    float x[N], back[N];
    for (int i = 0; i < N; i++) x[i] = (d.rank == 0 && i == 7 ? 4.0f : 0.5f) * s.scale;
    scaler_f16_from_f32(x, h, N);
    local = scaler_unscale_f16(&s, h, back, N);
    st = scaler_update(&s, c, local, &skip);
    TAP_OK(all_ok(st == DY_OK && skip == 1 && s.scale == 16384.0f), "a real f16 overflow on rank 0: all skip and halve");
    TAP_OK(all_ok(s.skipped == 2), "two skipped steps counted on every rank");
    /* Steps 3-4: finite everywhere -> growth after the interval of 2. */
    for (int k = 0; k < 2; k++) st = st == DY_OK ? scaler_update(&s, c, 0, &skip) : st;
    TAP_OK(all_ok(st == DY_OK && skip == 0 && s.scale == 32768.0f), "growth after the interval on every rank");
    comm_destroy(c);
    int failed = tap_failed, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    int rc = tap_done();
    dist_finalize(&d);
    return any ? 1 : rc;
}
