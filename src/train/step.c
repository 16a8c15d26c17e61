/* step.c -- the optimizer step pipeline: schedule, unscale + overflow vote, clip,
 * update, EMA (see step.h). */
#include "train/step.h"

#include <string.h>

dy_status train_state_init(train_state *t, const tn_backend *be, const train_hyp *h, const float *params,
                           size_t n, const optim_range *ranges, int nranges)
{
    memset(t, 0, sizeof *t);
    t->hyp = *h;
    if (h->sched.batches_per_epoch <= 0 || h->sched.epochs <= 0 || h->sched.global_batch <= 0)
        return DY_ERR(DY_EINVAL, "train step: epochs, global batch and batches per epoch must be positive");
    DY_TRY(optim_create(&t->opt, be, h->optimizer, n, ranges, nranges, (float)sched_weight_decay(&h->sched)));
    scaler_init(&t->scaler, (float)h->loss_scale_init, h->loss_scale_growth_interval, (float)h->loss_scale_floor,
                h->loss_scale_max_overflows);
    if (h->ema) {
        dy_status s = ema_init(&t->ema, be, params, n, h->ema_decay, h->ema_tau);
        if (s != DY_OK) {
            optim_destroy(&t->opt);
            return s;
        }
    }
    return DY_OK;
}

void train_state_free(train_state *t)
{
    optim_destroy(&t->opt);
    if (t->hyp.ema) ema_free(&t->ema);
}

dy_status train_apply_step(train_state *t, comm *c, float *params, float *grads, int epoch, long ni,
                           train_step_info *info)
{
    memset(info, 0, sizeof *info);
    sched_at(&t->hyp.sched, epoch, ni, &info->sched);
    memcpy(t->opt.lr, info->sched.lr, sizeof t->opt.lr);
    if (t->opt.kind == OPTIM_SGD) t->opt.momentum = info->sched.momentum; /* AdamW keeps beta1 */
    if (t->hyp.amp) {
        int overflow = scaler_unscale(&t->scaler, t->opt.be, grads, t->opt.n), skip = 0;
        dy_status s = scaler_update(&t->scaler, c, overflow, &skip);
        info->loss_scale = t->scaler.scale;
        if (s != DY_OK) return s;
        if (skip) {
            info->skipped = 1;
            return DY_OK;
        }
    }
    info->grad_norm =
        t->hyp.clip_norm > 0 ? optim_clip_grad_norm(t->opt.be, grads, t->opt.n, (float)t->hyp.clip_norm) : 0;
    optim_step(&t->opt, params, grads);
    if (t->hyp.ema) {
        ema_update(&t->ema, params);
        /* d e + (1 - d) p need not round back to p: frozen weights stay exact */
        if (t->frozen) t->opt.be->copy(t->ema.v, params, sizeof(float) * t->frozen);
    }
    return DY_OK;
}
