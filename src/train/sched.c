/* sched.c -- YOLOv5's warmup and LR decay (see sched.h). */
#include "train/sched.h"

#include <math.h>

double sched_interp(double x, double x0, double x1, double y0, double y1)
{
    if (x <= x0) return y0;
    if (x >= x1) return y1;
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

double sched_lf(const sched_cfg *c, double epoch)
{
    if (c->cos_lr) return ((1 - cos(epoch * M_PI / c->epochs)) / 2) * (c->lrf - 1) + 1;
    return (1 - epoch / c->epochs) * (1.0 - c->lrf) + c->lrf;
}

long sched_warmup_iters(const sched_cfg *c)
{
    long nw = (long)rint(c->warmup_epochs * (double)c->batches_per_epoch); /* half to even */
    return nw > 100 ? nw : 100;
}

int sched_accumulate(const sched_cfg *c)
{
    int a = (int)rint((double)c->nbs / c->global_batch);
    return a > 1 ? a : 1;
}

double sched_weight_decay(const sched_cfg *c)
{
    return c->weight_decay * c->global_batch * sched_accumulate(c) / c->nbs;
}

void sched_at(const sched_cfg *c, int epoch, long ni, sched_point *out)
{
    long nw = sched_warmup_iters(c);
    if (ni <= nw) {
        double base = c->lr0 * sched_lf(c, epoch), x = (double)ni;
        for (int g = 0; g < OPT_NGROUPS; g++)
            out->lr[g] = (float)sched_interp(x, 0, (double)nw, g == OPT_GROUP_BIAS ? c->warmup_bias_lr : 0.0, base);
        out->momentum = (float)sched_interp(x, 0, (double)nw, c->warmup_momentum, c->momentum);
        int a = (int)rint(sched_interp(x, 0, (double)nw, 1, (double)c->nbs / c->global_batch));
        out->accumulate = a > 1 ? a : 1;
        return;
    }
    /* YOLOv5's LambdaLR starts at last_epoch = -1 and steps at each epoch's end, so
     * epoch e trains at lf(e - 1); the epoch in which warmup ends keeps warmup's last
     * value, lf(of that epoch), and so does the next one. */
    long ew = c->batches_per_epoch > 0 ? nw / c->batches_per_epoch : 0;
    double base = c->lr0 * sched_lf(c, (double)(epoch - 1 > ew ? epoch - 1 : ew));
    for (int g = 0; g < OPT_NGROUPS; g++) out->lr[g] = (float)base;
    out->momentum = (float)c->momentum;
    out->accumulate = sched_accumulate(c);
}
