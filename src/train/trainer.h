/* trainer.h -- `dyolo train`: data-parallel training assembled from the loader
 * (data/), the model (model/), DDP and the communicator (dist/), the optimizer step
 * (train/step.h), validation (eval/validate.h) and checkpoints (io/ckpt.h).
 *
 * The loop follows YOLOv5's train.py: micro-batches of the per-rank batch, an
 * optimizer step every `accumulate` micro-batches (accumulate from the nominal batch
 * 64, ramped during warmup), the loss scaled by the world size so that DDP's
 * averaging gives the gradient of the global batch, EMA weights for validation.
 * Decisions that must be the same on every rank (stop on a signal, checkpoint now,
 * best fitness) come from collective reductions.
 *
 * defines: trainer_opts, trainer_result, trainer_run, TRAINER_* outcomes
 */
#ifndef DY_TRAIN_TRAINER_H
#define DY_TRAIN_TRAINER_H

#include "core/config.h"
#include "dist/dist.h"

typedef struct {
    const char *resume; /* NULL: fresh run; "auto": newest verified checkpoint; else a path */
} trainer_opts;

enum { TRAINER_FINISHED = 0, TRAINER_PREEMPTED = 1 };

typedef struct {
    int outcome;           /* TRAINER_FINISHED or TRAINER_PREEMPTED (checkpointed) */
    long steps;            /* optimizer steps in total */
    double images_per_s;   /* global, over this invocation */
    double best_fitness;
    char run_dir[900];
    int agreed;            /* on failure: every rank returned the same error (clean exit
                              possible); 0: other ranks may be stuck (abort the job) */
} trainer_result;

/* Collective over d->world.  On a failure with res->agreed == 0 on more than one
 * rank nothing is released (tear-down is collective and the other ranks may never
 * join it): the caller must end the job with dist_abort. */
dy_status trainer_run(const cfg *c, dist_ctx *d, const trainer_opts *o, trainer_result *res);

#endif
