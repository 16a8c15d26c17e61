/* step.h -- one optimizer step of data-parallel training, assembled from the parts:
 * after ddp_finish has averaged the gradients,
 *   1. schedule: per-group LR and momentum for (epoch, ni)        (sched.h)
 *   2. amp: unscale, detect inf/NaN, reduce the flag over ranks,
 *      skip the step on overflow                                   (scaler.h)
 *   3. clip to the global norm (gradients are identical on every rank after the
 *      all-reduce, so every rank clips the same way)               (optim.h)
 *   4. SGD / AdamW update of the f32 master weights                (optim.h)
 *   5. EMA of the weights                                          (ema.h)
 * All state is plain data: a checkpoint saves optim (step, m, v), scaler, ema.
 *
 * defines: train_state, train_state_init, train_state_free, train_apply_step,
 *          train_step_info
 */
#ifndef DY_TRAIN_STEP_H
#define DY_TRAIN_STEP_H

#include "dist/comm.h"
#include "train/ema.h"
#include "train/optim.h"
#include "train/scaler.h"
#include "train/sched.h"
#include "train/train_config.h"

typedef struct {
    train_hyp hyp;       /* sched.batches_per_epoch must be set */
    optim opt;
    loss_scaler scaler;  /* used when hyp.amp */
    ema ema;             /* used when hyp.ema */
    size_t frozen;       /* parameters [0, frozen) never change (train.freeze) */
} train_state;

typedef struct {
    int skipped;         /* overflow: no update was applied */
    float grad_norm;     /* before clipping (0 when skipped) */
    sched_point sched;   /* what the schedule gave */
    float loss_scale;    /* scale in force after this step */
} train_step_info;

/* params: the flat f32 master weights in backend be's memory (the EMA starts as
 * their copy); be NULL: the CPU backend. */
dy_status train_state_init(train_state *t, const tn_backend *be, const train_hyp *h, const float *params,
                           size_t n, const optim_range *ranges, int nranges);
void train_state_free(train_state *t);
/* c: reduces the overflow flag (NULL: one process).  Collective when amp is on. */
dy_status train_apply_step(train_state *t, comm *c, float *params, float *grads, int epoch, long ni,
                           train_step_info *info);

#endif
