/* test_train.c -- optimizer, schedule, EMA and loss scaler against references.
 * Optimizer references come from PyTorch 2 (float64):
 *   SGD([{'params':[b],'lr':0.05},{'params':[w],'weight_decay':0.1}], lr=0.1,
 *       momentum=0.9, nesterov=True)     and
 *   AdamW([{'params':[b],'lr':0.02,'weight_decay':0},{'params':[w],'weight_decay':0.1}],
 *         lr=0.01, betas=(0.9, 0.999)),
 * w = [1, -2], b = [0.5], three steps with grads w: [0.5, 0.25], b: [-1].
 * Schedule references come from YOLOv5's formulas evaluated in Python (round() is
 * half-to-even there, as np.round). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"
#include "dist/dist_config.h"
#include "train/ema.h"
#include "train/train_config.h"
#include "train/optim.h"
#include "train/scaler.h"
#include "train/sched.h"
#include "tests/tap.h"

static void run3(optim_kind kind, float lr_w, float lr_b, float *p)
{
    /* layout: [w0 w1 | b] as decay group then bias group */
    optim_range r[2] = {{0, 2, OPT_GROUP_DECAY}, {2, 1, OPT_GROUP_BIAS}};
    optim o;
    if (optim_create(&o, NULL, kind, 3, r, 2, 0.1f) != DY_OK) return;
    o.lr[OPT_GROUP_DECAY] = lr_w;
    o.lr[OPT_GROUP_BIAS] = lr_b;
    o.momentum = 0.9f;
    p[0] = 1, p[1] = -2, p[2] = 0.5f;
    const float g[3] = {0.5f, 0.25f, -1.0f};
    for (int s = 0; s < 3; s++) optim_step(&o, p, g);
    optim_destroy(&o);
}

static void test_optim(void)
{
    float p[3];
    run3(OPTIM_SGD, 0.1f, 0.05f, p);
    TAP_NEAR(p[0], 0.525363646, 1e-6, "SGD nesterov + decay, w0 after 3 steps (torch)");
    TAP_NEAR(p[1], -2.0395530295, 1e-6, "SGD nesterov + decay, w1 after 3 steps (torch)");
    TAP_NEAR(p[2], 0.90245, 1e-6, "SGD bias group: own lr, no decay (torch)");
    run3(OPTIM_ADAMW, 0.01f, 0.02f, p);
    TAP_NEAR(p[0], 0.9670329896, 1e-6, "AdamW w0 after 3 steps (torch)");
    TAP_NEAR(p[1], -2.0239760068, 1e-6, "AdamW w1 after 3 steps (torch)");
    TAP_NEAR(p[2], 0.5599999994, 1e-6, "AdamW bias: no decay (torch)");

    /* Interleaved groups merge into spans; a gap is refused. */
    optim_range r[5] = {{4, 2, 1}, {0, 3, 0}, {3, 1, 0}, {6, 1, 2}, {7, 3, 2}};
    optim o;
    TAP_EQ_INT(optim_create(&o, NULL, OPTIM_SGD, 10, r, 5, 0), DY_OK, "ranges in any order");
    TAP_EQ_INT(o.nspans, 3, "five ranges merge into three spans");
    optim_destroy(&o);
    r[2].count = 2;
    TAP_EQ_INT(optim_create(&o, NULL, OPTIM_SGD, 10, r, 5, 0), DY_EINVAL, "overlapping ranges refused");
    TAP_STR_HAS(err_msg(), "offset 4", "error names the offset");
    optim_kind k;
    TAP_EQ_INT(optim_kind_parse("adam", &k), DY_EINVAL, "unknown optimizer name refused");

    float g[2] = {3, 4};
    float n = optim_clip_grad_norm(NULL, g, 2, 1.0f);
    TAP_NEAR(n, 5, 1e-6, "clip returns the norm before clipping");
    TAP_NEAR(sqrt(g[0] * g[0] + g[1] * g[1]), 1.0, 1e-5, "clipped to norm 1");
    float h[2] = {0.3f, 0.4f};
    optim_clip_grad_norm(NULL, h, 2, 10.0f);
    TAP_OK(h[0] == 0.3f && h[1] == 0.4f, "below the limit: untouched");
}

static void test_sched(void)
{
    sched_cfg c = {.epochs = 300, .batches_per_epoch = 50, .global_batch = 16, .nbs = 64, .lr0 = 0.01,
                   .lrf = 0.01, .momentum = 0.937, .weight_decay = 5e-4, .warmup_epochs = 3,
                   .warmup_momentum = 0.8, .warmup_bias_lr = 0.1};
    TAP_EQ_INT(sched_warmup_iters(&c), 150, "warmup = 3 epochs x 50 batches");
    sched_point p;
    sched_at(&c, 0, 0, &p);
    TAP_NEAR(p.lr[OPT_GROUP_BIAS], 0.1, 1e-7, "iteration 0: bias lr = warmup_bias_lr");
    TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.0, 1e-9, "iteration 0: weight lr = 0");
    TAP_NEAR(p.momentum, 0.8, 1e-7, "iteration 0: momentum = warmup_momentum");
    TAP_EQ_INT(p.accumulate, 1, "iteration 0: accumulate 1");
    sched_at(&c, 1, 75, &p);
    TAP_NEAR(p.lr[OPT_GROUP_BIAS], 0.0549835, 1e-7, "iteration 75: bias lr (YOLOv5)");
    TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.0049835, 1e-8, "iteration 75: weight lr (YOLOv5)");
    TAP_NEAR(p.lr[OPT_GROUP_BN], 0.0049835, 1e-8, "iteration 75: BN lr (YOLOv5)");
    TAP_NEAR(p.momentum, 0.8685, 1e-6, "iteration 75: momentum (YOLOv5)");
    TAP_EQ_INT(p.accumulate, 2, "iteration 75: accumulate round(2.5) = 2 (half to even)");
    sched_at(&c, 2, 100, &p);
    TAP_EQ_INT(p.accumulate, 3, "iteration 100: accumulate 3");
    sched_at(&c, 3, 151, &p);
    TAP_NEAR(p.lr[OPT_GROUP_BIAS], 0.009901, 1e-8, "after warmup: lr0 * lf(3) (linear)");
    TAP_NEAR(p.momentum, 0.937, 1e-7, "after warmup: momentum");
    TAP_EQ_INT(p.accumulate, 4, "after warmup: accumulate = nbs / batch");
    sched_at(&c, 4, 200, &p);
    TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.009901, 1e-8, "epoch 4 trains at lf(3), as YOLOv5's LambdaLR");
    sched_at(&c, 5, 250, &p);
    TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.009868, 1e-8, "epoch 5 at lf(4)");
    {
        /* YOLOv5 v7.0's results.csv on the quality suite (10 batches an epoch, 100
         * epochs): x/lr0 0.00901 at epochs 10 and 11, then 0.0089110 at 12. */
        sched_cfg q = c;
        q.epochs = 100, q.batches_per_epoch = 10;
        sched_at(&q, 10, 101, &p);
        TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.00901, 1e-8, "warmup ends at epoch 10: lf(10) for its rest");
        sched_at(&q, 11, 110, &p);
        TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.00901, 1e-8, "epoch 11 still lf(10)");
        sched_at(&q, 12, 120, &p);
        TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.008911, 1e-8, "epoch 12 at lf(11)");
        q.batches_per_epoch = 18; /* warmup (100) ends inside epoch 5 */
        sched_at(&q, 5, 105, &p);
        TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.01 * (0.95 * 0.99 + 0.01), 1e-8, "warmup ends inside epoch 5: lf(5)");
        sched_at(&q, 6, 110, &p);
        TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.01 * (0.95 * 0.99 + 0.01), 1e-8, "and epoch 6 lf(5)");
    }
    c.cos_lr = 1;
    sched_at(&c, 151, 100000, &p);
    TAP_NEAR(p.lr[OPT_GROUP_DECAY], 0.00505, 1e-8, "cosine: half way (epoch 151 at lf(150)) = lr0 * (1 + lrf) / 2");
    c.batches_per_epoch = 10;
    TAP_EQ_INT(sched_warmup_iters(&c), 100, "warmup at least 100 iterations");
    c.global_batch = 24;
    TAP_EQ_INT(sched_accumulate(&c), 3, "batch 24: accumulate round(64/24) = 3");
    TAP_NEAR(sched_weight_decay(&c), 5.625e-4, 1e-10, "weight decay scaled by 24 * 3 / 64");
    c.global_batch = 128;
    TAP_EQ_INT(sched_accumulate(&c), 1, "batch 128: accumulate 1");
}

static void test_ema(void)
{
    float zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    ema e;
    TAP_EQ_INT(ema_init(&e, NULL, zero, 3, 0.9999, 2000), DY_OK, "EMA init");
    TAP_NEAR(ema_decay_at(&e, 1), 0.000499825033, 1e-12, "decay after 1 update");
    TAP_NEAR(ema_decay_at(&e, 100000), 0.9999, 1e-9, "decay tends to 0.9999");
    ema_update(&e, one);
    TAP_NEAR(e.v[0], 1 - 0.000499825033, 1e-6, "one update from 0 towards 1");
    ema_update(&e, one);
    TAP_NEAR(e.v[2], 0.99999950047, 1e-6, "two updates (YOLOv5 ModelEMA)");
    TAP_EQ_INT(e.updates, 2, "updates counted");
    ema_free(&e);
}

static void test_scaler(void)
{
    loss_scaler s;
    int skip;
    scaler_init(&s, 65536.0f, 3, 1.0f, 5);
    for (int i = 0; i < 2; i++) scaler_update(&s, NULL, 0, &skip);
    TAP_NEAR(s.scale, 65536, 0, "no growth before the interval");
    scaler_update(&s, NULL, 0, &skip);
    TAP_NEAR(s.scale, 131072, 0, "x2 after growth_interval finite steps");
    TAP_EQ_INT(scaler_update(&s, NULL, 1, &skip), DY_OK, "overflow step");
    TAP_OK(skip && s.scale == 65536 && s.skipped == 1 && s.growth_tracker == 0, "overflow: skip, halve, count");

    float g[4] = {65536, -131072, 0, 32768};
    TAP_EQ_INT(scaler_unscale(&s, NULL, g, 4), 0, "finite gradients");
    TAP_NEAR(g[1], -2, 0, "unscaled by 1/scale");
    g[2] = NAN;
    TAP_EQ_INT(scaler_unscale(&s, NULL, g, 4), 1, "NaN detected");

    /* Real f16 overflow: gradients of 2.0 scaled by 2^16 exceed f16's 65504. */
    float x[8], back[8];
    uint16_t h[8];
    for (int i = 0; i < 8; i++) x[i] = 2.0f * 65536.0f;
    scaler_f16_from_f32(x, h, 8);
    TAP_EQ_INT(scaler_unscale_f16(&s, h, back, 8), 1, "2 x 2^16 overflows binary16 to inf: detected");
    loss_scaler small;
    scaler_init(&small, 1024.0f, 2000, 1, 5);
    for (int i = 0; i < 8; i++) x[i] = 2.0f * 1024.0f;
    scaler_f16_from_f32(x, h, 8);
    TAP_EQ_INT(scaler_unscale_f16(&small, h, back, 8), 0, "2 x 2^10 fits binary16");
    TAP_NEAR(back[3], 2.0, 0, "and unscales exactly");

    scaler_init(&s, 4.0f, 2000, 1.0f, 100);
    scaler_update(&s, NULL, 1, &skip);
    scaler_update(&s, NULL, 1, &skip);
    dy_status st = scaler_update(&s, NULL, 1, &skip);
    TAP_EQ_INT(st, DY_ERANGE, "scale 4 -> 2 -> 1 -> 0.5 < floor 1: stop");
    TAP_STR_HAS(err_msg(), "below the floor 1", "message names the floor");
    scaler_init(&s, 65536.0f, 2000, 1.0f, 3);
    scaler_update(&s, NULL, 1, &skip);
    scaler_update(&s, NULL, 0, &skip);
    scaler_update(&s, NULL, 1, &skip);
    TAP_EQ_INT(scaler_update(&s, NULL, 1, &skip), DY_OK, "a finite step resets the run of overflows");
    TAP_EQ_INT(scaler_update(&s, NULL, 1, &skip), DY_ERANGE, "K=3 consecutive overflows: stop");
    TAP_STR_HAS(err_msg(), "3 consecutive steps overflowed", "message names K");
}

static void test_config(void)
{
    cfg *c = NULL;
    train_hyp h;
    comm_opts co;
    ddp_opts dopt;
    if (cfg_new(&c) != DY_OK) return;
    TAP_EQ_INT(cfg_set(c, "train.batch_size=24"), DY_OK, "train.batch_size settable");
    cfg_set(c, "train.optimizer=adamw");
    cfg_set(c, "dist.bucket_mb=2");
    TAP_EQ_INT(train_hyp_from_cfg(c, &h), DY_OK, "train section read");
    TAP_OK(h.optimizer == OPTIM_ADAMW && h.sched.global_batch == 24 && h.sched.nbs == 64 &&
           fabs(h.sched.lr0 - 0.01) < 1e-12 && h.loss_scale_init == 65536 && h.ema, "YOLOv5 defaults + overrides");
    TAP_EQ_INT(dist_opts_from_cfg(c, -1, &co, &dopt), DY_OK, "dist section read");
    TAP_OK(dopt.bucket_bytes == 2u << 20 && dopt.first_bucket_bytes == 1u << 20 &&
           co.transport == COMM_TRANSPORT_AUTO && co.timeout_s == 600, "bucket sizes and watchdog from config");
    cfg_free(c);
}

int main(void)
{
    train_config_register_all(); /* the library's config sections */
    test_config();
    test_optim();
    test_sched();
    test_ema();
    test_scaler();
    return tap_done();
}
