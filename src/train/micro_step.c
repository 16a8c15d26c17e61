/* micro_step.c -- one micro-batch of data-parallel training and the model hooks
 * that feed DDP (see micro_step.h). */
#include "train/micro_step.h"

#include <string.h>

#include "core/check.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/timer.h"

/* A failure here (a dead peer) resurfaces in ddp_finish, which returns it. */
static void grad_ready_hook(size_t offset, size_t count, void *user)
{
    ddp_grad_ready(user, offset, count);
}

/* SyncBN: the model hands per-channel sums (and the count) to be added over ranks.
 * A failed all-reduce cannot be returned from here; the watchdog aborts on a dead
 * peer, and any other failure shows up in the next DDP call. */
static void syncbn_hook(float *buf, int n, void *user)
{
    if (comm_allreduce_sync(user, buf, (size_t)n, COMM_F32, COMM_SUM) != DY_OK)
        log_error("SyncBN all-reduce failed: %s", err_msg());
}

/* Global loss normalization: the per-level match counts become (sum over ranks) /
 * world, so the ranks' losses add up to the loss of the whole global batch.  No
 * gradient all-reduce is outstanding during the loss, so the communicator is free. */
static void count_hook(double *counts, int n, void *user)
{
    comm *c = user;
    if (MPI_Allreduce(MPI_IN_PLACE, counts, n, MPI_DOUBLE, MPI_SUM, comm_mpi(c)) != MPI_SUCCESS)
        log_error("loss normalizer all-reduce failed");
    for (int i = 0; i < n; i++) counts[i] /= comm_size(c);
}

void train_micro_attach(yolo_model *model, ddp *d, comm *c, int sync_bn, int global_loss_norm)
{
    yolo_model_opts o = *yolo_model_opts_ptr(model);
    o.grad_ready = grad_ready_hook;
    o.grad_ready_user = d;
    int multi = comm_size(c) > 1;
    o.count_reduce = global_loss_norm && multi ? count_hook : NULL;
    o.count_reduce_user = c;
    o.bn_reduce = sync_bn && multi ? syncbn_hook : NULL;
    o.bn_reduce_user = c;
    yolo_model_set_opts(model, &o);
}

dy_status train_sync_buffers(comm *c, float *buf, size_t n, int mean)
{
    if (mean) return comm_allreduce_sync(c, buf, n, COMM_F32, COMM_AVG);
    return ddp_broadcast_params(c, buf, n, COMM_F32);
}

/* Every `accumulate` micro-batches: update, BN statistics made equal, EMA. */
static dy_status optimizer_step(const train_micro *m, int epoch, long ni, train_step_info *info)
{
    yolo_model *model = m->model;
    DY_TRY(train_apply_step(m->ts, m->comm, yolo_model_params(model), yolo_model_grads(model), epoch, ni, info));
    /* BN running statistics differ per rank; rank 0's are kept (DDP's
     * broadcast_buffers) or the ranks' mean, then they enter the EMA. */
    DY_TRY(train_sync_buffers(m->comm, yolo_model_buffers(model), yolo_model_num_buffers(model), m->bn_mean));
    /* Same cadence as the weights' EMA (skipped AMP steps update neither), so the
     * two share one update count, which is what a checkpoint stores. */
    if (m->buf_ema && m->ts->hyp.ema && !info->skipped) ema_update(m->buf_ema, yolo_model_buffers(model));
    return DY_OK;
}

dy_status train_micro_step(const train_micro *m, const uint8_t *images, const float *targets, int ntargets,
                           int epoch, long ni, long last_opt_step, train_micro_out *out)
{
    memset(out, 0, sizeof *out);
    train_state *ts = m->ts;
    sched_point sp;
    sched_at(&ts->hyp.sched, epoch, ni, &sp);
    int sync = ni - last_opt_step >= sp.accumulate;
    yolo_model_opts o = *yolo_model_opts_ptr(m->model);
    o.accumulate = ni - last_opt_step > 1; /* first micro-batch of a cycle writes */
    /* x world: DDP averages, so the sum over ranks of batch-scaled losses survives. */
    o.loss_scale = (float)comm_size(m->comm) * (ts->hyp.amp ? ts->scaler.scale : 1.0f);
    yolo_model_set_opts(m->model, &o);
    ddp_set_sync(m->ddp, sync);
    const tn_backend *be = yolo_model_backend(m->model);
    double t0 = timer_now();
    DY_TRY(yolo_model_forward(m->model, images, 1));
    DY_TRY(fault_at("step")); /* tests: the peers go on to the loss all-reduce */
    double t1 = timer_now();
    DY_TRY(yolo_model_loss(m->model, targets, ntargets, &out->parts));
    double t2 = timer_now();
    DY_TRY(yolo_model_backward(m->model));
    double tp = timer_now();
    if (m->after_backward) DY_TRY(m->after_backward(m->hook_user));
    tp = timer_now() - tp;
    /* On a device backend backward has only been queued when it returns.  Waiting
     * here for the compute stream (not the NCCL stream, which all-reduces the
     * buckets beside it) makes "backward" the compute and "exposed comm" only what
     * communication adds after it; without it the rest of backward's kernels were
     * counted as exposed communication.  ddp_finish would wait for them anyway, so
     * this costs nothing; on the CPU it is a status check.  (Forward needs no such
     * wait: it ends by downloading the Detect outputs for the loss.) */
    DY_TRY(be->sync());
    double t3 = timer_now();
    if (m->sync_barrier != MPI_COMM_NULL && sync) MPI_CHECK(MPI_Barrier(m->sync_barrier));
    double t4 = timer_now();
    DY_TRY(ddp_finish(m->ddp));
    double t5 = timer_now();
    out->t_forward_end = t1, out->t_backward[0] = t2, out->t_backward[1] = t3, out->t_comm_end = t5;
    out->tm[TRAIN_TM_FORWARD] = t1 - t0;
    out->tm[TRAIN_TM_LOSS] = t2 - t1;
    out->tm[TRAIN_TM_BACKWARD] = t3 - t2 - tp;
    out->tm[TRAIN_TM_DATA] = tp;
    out->tm[TRAIN_TM_SYNC] = t4 - t3;
    out->tm[TRAIN_TM_COMM] = t5 - t4;
    if (sync) {
        DY_TRY(optimizer_step(m, epoch, ni, &out->info));
        /* The update kernels too are only queued: wait, or their time would land in
         * the next step's data wait and forward.  What it costs is the host no longer
         * queueing the next forward while the last kernels run (microseconds). */
        DY_TRY(be->sync());
        out->tm[TRAIN_TM_OPTIM] = timer_now() - t5;
        out->stepped = 1;
    }
    return DY_OK;
}
