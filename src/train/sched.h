/* sched.h -- YOLOv5's learning-rate, momentum and accumulation schedule.
 *
 * ni = epoch * batches_per_epoch + i counts optimizer-loop iterations.  Warmup lasts
 * nw = max(round(warmup_epochs * batches_per_epoch), 100) iterations; while
 * ni <= nw, with interp = np.interp over [0, nw] (clamped at both ends):
 *   lr[bias]   = interp(ni, [warmup_bias_lr, lr0 * lf(epoch)])
 *   lr[others] = interp(ni, [0,              lr0 * lf(epoch)])
 *   momentum   = interp(ni, [warmup_momentum, momentum])
 *   accumulate = max(1, round(interp(ni, [1, nbs / global_batch])))
 * afterwards lr = lr0 * lf(max(epoch - 1, nw / batches_per_epoch)) (YOLOv5's
 * scheduler steps at each epoch's end from last_epoch = -1: epoch e trains at
 * lf(e - 1), and the epoch where warmup ends keeps warmup's final lf(that epoch)),
 * momentum and accumulate are the final ones.
 *   lf(x) = (1 - x/epochs) * (1 - lrf) + lrf                    (linear)
 *   lf(x) = ((1 - cos(x * pi / epochs)) / 2) * (lrf - 1) + 1    (cos_lr)
 * Rounding is Python's round (half to even), as in YOLOv5.
 * Weight decay is scaled by global_batch * accumulate / nbs with
 * accumulate = max(round(nbs / global_batch), 1).
 *
 * defines: sched_cfg, sched_point, sched_lf, sched_warmup_iters, sched_at,
 *          sched_accumulate, sched_weight_decay, sched_interp
 */
#ifndef DY_TRAIN_SCHED_H
#define DY_TRAIN_SCHED_H

#include "train/optim.h"

typedef struct {
    int epochs;
    long batches_per_epoch;
    int global_batch, nbs;
    double lr0, lrf, momentum, weight_decay;
    double warmup_epochs, warmup_momentum, warmup_bias_lr;
    int cos_lr;
} sched_cfg;

typedef struct {
    float lr[OPT_NGROUPS];
    float momentum;
    int accumulate;
} sched_point;

double sched_interp(double x, double x0, double x1, double y0, double y1);
double sched_lf(const sched_cfg *c, double epoch);
long sched_warmup_iters(const sched_cfg *c);
int sched_accumulate(const sched_cfg *c);
double sched_weight_decay(const sched_cfg *c);
void sched_at(const sched_cfg *c, int epoch, long ni, sched_point *out);

#endif
