/* ddp.h -- data-parallel gradient synchronisation over a flat gradient buffer.
 *
 * Buckets: the model gives its parameter ranges (offset, count) in forward order;
 * they must tile the flat buffer contiguously in increasing offset.  Buckets are
 * cut walking the ranges in REVERSE (backward produces the last layer's gradients
 * first): the first bucket closes at first_bucket_bytes (1 MB: small, so the first
 * all-reduce starts early), the others at bucket_bytes (25 MB).  A range is never
 * split, so each bucket is one contiguous span of the buffer: one collective.
 *
 * Small models: 25 MB (PyTorch's default, tuned for large models on GPUs) would
 * put all of a 7 MB model (yolov5n) after the 1 MB first bucket into ONE bucket
 * that can only start when backward is over, so nothing of it is hidden.  With
 * min_buckets = k > 0 the bucket size becomes
 *     min(bucket_bytes, max(first_bucket_bytes, gradient bytes / k))
 * so a small model still gets about k buckets launched through backward, while a
 * model of k x 25 MB or more (yolov5l/x with k = 8) keeps 25 MB.  The config's
 * default is k = 8 (dist.min_buckets); 0 disables the rule.
 *
 * During backward the model calls ddp_grad_ready(offset, count) when a range's
 * gradient is final (one or several whole ranges).  When all ranges of a bucket are
 * ready the bucket becomes launchable; buckets are launched strictly in bucket order
 * (0, 1, 2, ...) so every rank issues the same collectives in the same order even
 * when ranges complete out of order.  ddp_finish waits for all buckets (the
 * all-reduce averages over ranks) and resets the ready state for the next step.
 *
 * Accumulation: ddp_set_sync(d, 0) for the first k-1 micro-steps: grad_ready only
 * records readiness, finish launches nothing (the model keeps summing into the
 * gradient buffer); the k-th micro-step syncs the accumulated sum.
 *
 * Statistics: collectives launched, time exposed in finish (waiting) and the time
 * from launch to observed completion; ddp_stats.hidden is 1 - exposed / comm, where
 * comm is the blocking time of the same collectives when measured (bench) or the
 * launch-to-completion time otherwise.
 *
 * Also: broadcast of rank 0's parameters and buffers, the parameter-hash divergence
 * guard, and the SyncBN statistics all-reduce.
 *
 * defines: ddp, ddp_range, ddp_opts, ddp_stats, ddp_create, ddp_destroy, ddp_bucket_bytes,
 *          ddp_grad_ready, ddp_finish, ddp_set_sync, ddp_nbuckets, ddp_bucket_span,
 *          ddp_bucket_times,
 *          ddp_stats_get, ddp_stats_reset, ddp_broadcast_params, ddp_check_divergence,
 *          ddp_param_hash, ddp_syncbn_allreduce, ddp_syncbn_mean_var
 */
#ifndef DY_DIST_DDP_H
#define DY_DIST_DDP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "dist/comm.h"

typedef struct {
    size_t offset, count; /* elements of the flat buffer */
} ddp_range;

typedef struct {
    size_t bucket_bytes;       /* default 25 MB */
    size_t first_bucket_bytes; /* default 1 MB */
    int min_buckets;           /* > 0: shrink bucket_bytes for small models (above) */
    comm_dtype dtype;          /* gradient element type (F32, or F16 under amp) */
} ddp_opts;

typedef struct {
    long collectives;  /* all-reduces launched by this ddp */
    double bytes;      /* payload of those all-reduces */
    long syncs;        /* steps that synchronised */
    long nosync_steps; /* micro-steps without communication */
    double exposed_s;  /* time spent waiting in ddp_finish */
    double hook_s;     /* time inside ddp_grad_ready launching and testing buckets
                          (during backward: MPI's copies and sums happen here) */
    double comm_s;     /* launch -> completion observed, summed over buckets */
    double hidden;     /* 1 - exposed / comm, clamped to [0, 1] */
} ddp_stats;

typedef struct ddp ddp;

/* grads: the flat gradient buffer (host memory for mpi, device memory for nccl). */
dy_status ddp_create(comm *c, void *grads, const ddp_range *ranges, int nranges,
                     const ddp_opts *o, ddp **out);
void ddp_destroy(ddp *d);
/* The bucket size (after the first) that o gives for `grad_bytes` of gradients. */
size_t ddp_bucket_bytes(const ddp_opts *o, size_t grad_bytes);

dy_status ddp_grad_ready(ddp *d, size_t offset, size_t count);
dy_status ddp_finish(ddp *d);
void ddp_set_sync(ddp *d, int sync);

int ddp_nbuckets(const ddp *d);
/* Flat span of bucket b (launch order). */
void ddp_bucket_span(const ddp *d, int b, size_t *offset, size_t *count);
/* When bucket b was launched and seen complete in the last synchronising step
 * (timer_now() seconds; 0 when it was not launched). */
void ddp_bucket_times(const ddp *d, int b, double *t_launch, double *t_done);
void ddp_stats_get(const ddp *d, ddp_stats *s);
void ddp_stats_reset(ddp *d);

/* Rank 0's values to everyone (parameters at start, BN running stats). */
dy_status ddp_broadcast_params(comm *c, void *buf, size_t n, comm_dtype t);
/* CRC-32C of the buffer (the divergence guard's hash). */
uint32_t ddp_param_hash(const void *buf, size_t bytes);
/* Every `interval` steps (step % interval == 0; interval <= 0: never) compare the
 * parameter hash of every rank with rank 0's; a mismatch is DY_ECORRUPT naming the
 * ranks.  Collective: all ranks must call it with the same step and interval. */
dy_status ddp_check_divergence(comm *c, const void *params, size_t bytes, long step, long interval);

/* SyncBN: stats holds [sum(C) | sumsq(C) | count(C)] per channel, summed across
 * ranks in place (one collective). */
dy_status ddp_syncbn_allreduce(comm *c, float *stats, int channels);
/* Global mean and biased variance per channel from the summed stats. */
void ddp_syncbn_mean_var(const float *stats, int channels, float *mean, float *var);

#endif
