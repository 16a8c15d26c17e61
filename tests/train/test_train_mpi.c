/* test_train_mpi.c -- the parts assembled into a data-parallel training loop on a
 * synthetic model y = s * (W x) + b (W: decay group, s: "BN weight" group, b: bias
 * group), fixed global batch G split over the ranks:
 *   - the loss falls steadily with AMP off and on (AMP: gradients of the scaled loss
 *     rounded through binary16; the first steps overflow, are skipped on every rank
 *     and the scale backs off);
 *   - the parameters after K steps on N ranks equal a single-process run on the
 *     whole batch (tolerance 1e-5: only the reduction order differs);
 *   - the divergence guard passes every 10 steps;
 *   - train_sync_buffers leaves rank 0's BN buffers on every rank, or (dist.bn_stats
 *     = mean) their mean over the ranks.
 * Rank 0 prints TAP. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "dist/ddp.h"
#include "dist/dist.h"
#include "train/micro_step.h"
#include "train/step.h"
#include "tests/tap.h"

enum { DIN = 8, DOUT = 3, NW = DIN * DOUT, NP = NW + 2 * DOUT, G = 16, K = 80 };

static void sample(long j, float *x, float *t)
{
    rng_stream s;
    rng_stream_init(&s, 11, 5, 0, (uint64_t)j);
    for (int i = 0; i < DIN; i++) x[i] = rng_uniform(&s) * 2 - 1;
    for (int o = 0; o < DOUT; o++) {
        float y = 0.5f * (float)(o + 1);
        for (int i = 0; i < DIN; i++) y += (float)((i + o) % 3 - 1) * 0.7f * x[i];
        t[o] = 1.5f * y;
    }
}

/* Mean loss over samples [first, first+count) and its gradient (scaled by gscale). */
static double forward_backward(const float *p, long first, int count, float gscale, float *g)
{
    const float *W = p, *s = p + NW, *b = p + NW + DOUT;
    double loss = 0;
    memset(g, 0, NP * sizeof(float));
    for (int j = 0; j < count; j++) {
        float x[DIN], t[DOUT];
        sample(first + j, x, t);
        for (int o = 0; o < DOUT; o++) {
            float z = 0;
            for (int i = 0; i < DIN; i++) z += W[o * DIN + i] * x[i];
            float e = s[o] * z + b[o] - t[o];
            loss += 0.5 * e * e / count;
            float de = e / (float)count * gscale;
            for (int i = 0; i < DIN; i++) g[o * DIN + i] += de * s[o] * x[i];
            g[NW + o] += de * z;
            g[NW + DOUT + o] += de;
        }
    }
    return loss;
}

static void init_params(float *p)
{
    for (int i = 0; i < NW; i++) p[i] = 0.05f * (float)((i * 7) % 5 - 2);
    for (int o = 0; o < DOUT; o++) p[NW + o] = 1.0f, p[NW + DOUT + o] = 0.0f;
}

static train_hyp hyp(int amp)
{
    train_hyp h = {0};
    h.sched = (sched_cfg){.epochs = 10, .batches_per_epoch = K / 10, .global_batch = G, .nbs = 64, .lr0 = 0.05,
                          .lrf = 0.01, .momentum = 0.937, .weight_decay = 5e-4, .warmup_epochs = 3,
                          .warmup_momentum = 0.8, .warmup_bias_lr = 0.1};
    h.optimizer = OPTIM_SGD;
    h.clip_norm = 10;
    h.ema = 1, h.ema_decay = 0.9999, h.ema_tau = 2000;
    h.amp = amp;
    h.loss_scale_init = 65536 * 4, h.loss_scale_floor = 1, h.loss_scale_growth_interval = 2000;
    h.loss_scale_max_overflows = 20;
    return h;
}

static const optim_range groups[3] = {{0, NW, OPT_GROUP_DECAY}, {NW, DOUT, OPT_GROUP_BN}, {NW + DOUT, DOUT, OPT_GROUP_BIAS}};

static void through_f16(float *g, int n)
{
    for (int i = 0; i < n; i++) g[i] = (float)(_Float16)g[i];
}

typedef struct {
    double loss0, loss_end;
    double win[4]; /* mean loss over steps [10i, 10i+10) */
    int monotone;
    long skipped;
    float params[NP];
} run_result;

/* world: comm (NULL = single process on the whole batch). */
static dy_status train(comm *c, int rank, int size, int amp, run_result *r)
{
    train_state ts;
    train_hyp h = hyp(amp);
    float p[NP], g[NP];
    init_params(p);
    if (c) DY_TRY(ddp_broadcast_params(c, p, NP, COMM_F32));
    DY_TRY(train_state_init(&ts, NULL, &h, p, NP, groups, 3));
    ddp *d = NULL;
    ddp_range ranges[3] = {{0, NW}, {NW, DOUT}, {NW + DOUT, DOUT}};
    ddp_opts dop = {.bucket_bytes = 16, .first_bucket_bytes = 16, .dtype = COMM_F32};
    dy_status s = c ? ddp_create(c, g, ranges, 3, &dop, &d) : DY_OK;
    int per = G / size;
    memset(r->win, 0, sizeof r->win);
    for (int k = 0; s == DY_OK && k < K; k++) {
        float scale = amp ? ts.scaler.scale : 1.0f;
        double loss = forward_backward(p, (long)k * G + (long)rank * per, per, scale, g);
        if (amp) through_f16(g, NP);
        for (int i = 2; c && s == DY_OK && i >= 0; i--) s = ddp_grad_ready(d, ranges[i].offset, ranges[i].count);
        if (c && s == DY_OK) s = ddp_finish(d);
        double gl = loss;
        if (c) {
            float lf = (float)loss;
            MPI_Allreduce(MPI_IN_PLACE, &lf, 1, MPI_FLOAT, MPI_SUM, comm_mpi(c));
            gl = lf / size;
        }
        if (k == 0) r->loss0 = gl;
        if (k < 40) r->win[k / 10] += gl / 10;
        r->loss_end = gl;
        train_step_info info;
        if (s == DY_OK) s = train_apply_step(&ts, c, p, g, k / (K / 10), k, &info);
        if (c && s == DY_OK) s = ddp_check_divergence(c, p, sizeof p, k, 10);
    }
    r->monotone = r->win[0] > r->win[1] && r->win[1] > r->win[2] && r->win[2] > r->win[3];
    r->skipped = ts.scaler.skipped;
    memcpy(r->params, p, sizeof p);
    ddp_destroy(d);
    train_state_free(&ts);
    return s;
}

static int all_ok(int ok)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

/* Rank r's buffers are r * 10 + i: rank 0's are i, the ranks' mean is
 * 5 (size - 1) + i (exact in binary32 for these values). */
static void test_sync_buffers(comm *c, int rank, int size)
{
    enum { NB = 7 };
    for (int mean = 0; mean < 2; mean++) {
        float b[NB];
        for (int i = 0; i < NB; i++) b[i] = (float)(rank * 10 + i);
        dy_status s = train_sync_buffers(c, b, NB, mean);
        int ok = s == DY_OK;
        for (int i = 0; i < NB; i++) ok &= b[i] == (float)((mean ? 5.0 * (size - 1) : 0.0) + i);
        TAP_OK(all_ok(ok), "BN buffers on %d rank(s): %s (rank %d has %g %g ...)", size,
               mean ? "the mean over ranks" : "rank 0's", rank, b[0], b[1]);
    }
}

int main(int argc, char **argv)
{
    dist_ctx dc;
    if (dist_init(&argc, &argv, &dc) != DY_OK) return 1;
    if (dc.rank != 0 && !freopen("/dev/null", "w", stdout)) return 1;
    comm_opts o = {.transport = COMM_TRANSPORT_MPI, .timeout_s = 60};
    comm *c = NULL;
    if (comm_create(dc.world, &o, &c) != DY_OK) dist_abort(1, err_msg());
    for (int amp = 0; amp < 2; amp++) {
        run_result dist, ref;
        dy_status s = train(c, dc.rank, dc.size, amp, &dist);
        if (s != DY_OK) fprintf(stderr, "rank %d: %s\n", dc.rank, err_msg());
        TAP_OK(all_ok(s == DY_OK), "amp=%d: %d steps on %d rank(s)", amp, K, dc.size);
        tap_diag("amp=%d: loss %.4f -> %.4f, skipped %ld", amp, dist.loss0, dist.loss_end, dist.skipped);
        TAP_OK(all_ok(dist.loss_end < 0.1 * dist.loss0), "amp=%d: loss falls by 10x", amp);
        tap_diag("amp=%d: mean loss per 10 steps %.4f %.4f %.4f %.4f", amp, dist.win[0], dist.win[1], dist.win[2],
                 dist.win[3]);
        TAP_OK(all_ok(dist.monotone), "amp=%d: steadily (each 10-step mean below the previous)", amp);
        if (amp) TAP_OK(all_ok(dist.skipped >= 1 && dist.skipped < 10), "amp: early overflows skipped (%ld)", dist.skipped);
        s = train(NULL, 0, 1, amp, &ref);
        double err = 0;
        for (int i = 0; i < NP; i++) err = fmax(err, fabs(dist.params[i] - ref.params[i]) / fmax(1, fabs(ref.params[i])));
        TAP_OK(all_ok(s == DY_OK && err < (amp ? 2e-3 : 1e-5)), "amp=%d: %d ranks == one process on the whole batch (rel err %.2g)",
               amp, dc.size, err);
    }
    test_sync_buffers(c, dc.rank, dc.size);
    comm_destroy(c);
    int failed = tap_failed, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    int rc = tap_done();
    dist_finalize(&dc);
    return any ? 1 : rc;
}
