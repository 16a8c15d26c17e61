/* micro_step.h -- one micro-batch of data-parallel training, shared by `dyolo train`
 * (trainer.c) and `dyolo bench step --dist` (bench_step_dist.c), so that the
 * benchmark times exactly the code that trains:
 *
 *   forward -> loss (scaled by the world size, since DDP averages, and by the AMP
 *   loss scale) -> backward, whose gradient hook hands each finished range to DDP
 *   (ddp_grad_ready launches a bucket's all-reduce as soon as it is complete)
 *   -> [benchmarks only: a barrier, timed as "sync wait"] -> ddp_finish (the
 *   exposed communication) -> every `accumulate` micro-batches the optimizer step
 *   (train_apply_step), the BN buffers made equal on every rank (rank 0's, or
 *   their mean over ranks: train_sync_buffers), the buffers' EMA.
 *
 * The sync-wait barrier separates rank imbalance (the faster rank waiting for the
 * slower one to finish backward) from communication cost; communication keeps
 * progressing inside it, so it also moves all-reduce work into "sync wait".
 * Training leaves it off: it adds a collective.  On one node, where every rank
 * reads the same monotonic clock, the time stamps in train_micro_out give the same
 * split without changing what the step does (bench_step_dist.c).
 *
 * train_micro_attach installs the model hooks that connect a model to DDP and the
 * communicator: gradient readiness, SyncBN statistics, the global loss normalizer.
 *
 * defines: train_micro, train_micro_out, train_micro_step, train_micro_attach,
 *          train_sync_buffers,
 *          TRAIN_TM_* (the phases, in the order `dyolo train`'s summary lists them)
 */
#ifndef DY_TRAIN_MICRO_STEP_H
#define DY_TRAIN_MICRO_STEP_H

#include <mpi.h>
#include <stdint.h>

#include "dist/comm.h"
#include "dist/ddp.h"
#include "model/model.h"
#include "train/step.h"

enum {
    TRAIN_TM_DATA = 0, /* waiting for the loader (the caller measures it; a step reports
                        * only the time in its after_backward hook) */
    TRAIN_TM_FORWARD,
    TRAIN_TM_LOSS,     /* includes the loss normalizer's small all-reduce */
    TRAIN_TM_BACKWARD, /* includes launching and polling bucket all-reduces */
    TRAIN_TM_COMM,     /* exposed communication: waiting in ddp_finish */
    TRAIN_TM_OPTIM,    /* optimizer step, BN buffer broadcast, buffer EMA */
    TRAIN_TM_SYNC,     /* sync wait (barrier before ddp_finish; benchmarks only) */
    TRAIN_TM_N
};

typedef struct {
    yolo_model *model;
    ddp *ddp;
    comm *comm;
    train_state *ts;
    ema *buf_ema;           /* EMA of the BN buffers (NULL: none) */
    MPI_Comm sync_barrier;  /* MPI_COMM_NULL: no barrier (training) */
    /* Called once backward is queued (NULL: none): the trainer fetches the next batch
     * and starts its upload, which on a device overlaps backward.  Its time is
     * reported as TRAIN_TM_DATA. */
    dy_status (*after_backward)(void *user);
    void *hook_user;
    int bn_mean;            /* BN running statistics: 0 rank 0's, 1 the mean over ranks */
} train_micro;

typedef struct {
    yolo_loss_parts parts;
    train_step_info info;   /* valid when stepped */
    int stepped;            /* the optimizer step ran (end of an accumulation cycle) */
    double tm[TRAIN_TM_N];  /* seconds per phase of this micro-step (DATA stays 0) */
    double t_forward_end;   /* timer_now() stamps: end of forward, */
    double t_backward[2];   /* start and end of backward, */
    double t_comm_end;      /* end of ddp_finish (gradients averaged) */
} train_micro_out;

/* ni: micro-batches done so far; last_opt_step: ni of the last optimizer step (-1
 * at the start).  Synchronises (all-reduce + optimizer) when ni - last_opt_step
 * reaches the schedule's accumulate.  Collective. */
dy_status train_micro_step(const train_micro *m, const uint8_t *images, const float *targets, int ntargets,
                           int epoch, long ni, long last_opt_step, train_micro_out *out);

/* Hooks: gradient ranges to d; SyncBN statistics (sync_bn) and the loss
 * normalizer's match counts (global_loss_norm) summed over c.  Only with more than
 * one rank for the last two.  d and c must outlive the model's training use. */
void train_micro_attach(yolo_model *model, ddp *d, comm *c, int sync_bn, int global_loss_norm);

/* Makes the n BN buffer values in buf (host or backend memory, as the communicator
 * takes them) equal on every rank: rank 0's (mean == 0, PyTorch DDP's
 * broadcast_buffers) or their mean over the ranks (mean != 0, `dist.bn_stats=mean`).
 * Without SyncBN each rank's running statistics follow its own share of the batch;
 * the mean follows the whole global batch, as one rank's would.  Collective. */
dy_status train_sync_buffers(comm *c, float *buf, size_t n, int mean);

#endif
