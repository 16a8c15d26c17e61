/* dist_config.c -- the `dist` configuration section (transport, buckets, SyncBN,
 * BN running statistics, divergence guard, watchdog, progress) and its translation
 * into comm/ddp options. */
#include "dist/dist_config.h"

#include <string.h>


static const cfg_key dist_keys[] = {
    {"dist.transport", CFG_ENUM, "\"auto\"", 1, 0, "auto|mpi|nccl",
     "collective transport: nccl on GPUs, mpi on CPUs; auto picks nccl when a GPU is usable"},
    {"dist.bucket_mb", CFG_FLOAT, "25", 0.001, 4096, NULL,
     "gradient all-reduce bucket size in MB (buckets after the first)"},
    {"dist.first_bucket_mb", CFG_FLOAT, "1", 0.001, 4096, NULL,
     "size of the first bucket in MB (small, so communication starts early in backward)"},
    {"dist.min_buckets", CFG_INT, "8", 0, 1e6, NULL,
     "small models: shrink buckets to max(first_bucket_mb, gradient size / N) when that is below bucket_mb, "
     "so about N buckets overlap backward (0: always bucket_mb)"},
    {"dist.sync_bn", CFG_BOOL, "false", 1, 0, NULL,
     "synchronise BatchNorm statistics across ranks (default: per-rank statistics)"},
    {"dist.bn_stats", CFG_ENUM, "\"rank0\"", 1, 0, "rank0|mean",
     "BatchNorm running statistics after each optimizer step: rank0 keeps rank 0's on every rank "
     "(PyTorch DDP's broadcast_buffers), mean averages them over the ranks (one all-reduce instead of "
     "a broadcast; an estimate from the whole global batch)"},
    {"dist.global_loss_norm", CFG_BOOL, "true", 1, 0, NULL,
     "normalize box/class losses by the match count of the whole global batch (world-size independent)"},
    {"dist.divergence_interval", CFG_INT, "1000", 0, 1e9, NULL,
     "every N optimizer steps compare a parameter hash across ranks (0: never)"},
    /* "600" is DIST_TIMEOUT_DEFAULT_S (watchdog.h), used before a config is read. */
    {"dist.timeout_s", CFG_FLOAT, "600", 0, 1e6, NULL,
     "watchdog: a blocking MPI call (collective, parallel file open/close) waiting longer than this "
     "ends the job, naming the call and the rank (0: off)"},
    {"dist.progress", CFG_ENUM, "\"poll\"", 1, 0, "poll|thread|none",
     "how non-blocking MPI collectives progress: polled between layers, by a thread, or not at all"},
    {"dist.progress_us", CFG_INT, "2000", 10, 1e6, NULL, "progress-thread polling period in microseconds"},
};

const cfg_section cfg_section_dist = {"dist", "distributed runtime: transport, DDP buckets, SyncBN, watchdog",
                                      dist_keys, (int)(sizeof dist_keys / sizeof dist_keys[0])};

dy_status dist_opts_from_cfg(const cfg *c, int device, comm_opts *co, ddp_opts *dopt)
{
    memset(co, 0, sizeof *co);
    DY_TRY(comm_transport_parse(cfg_str(c, "dist.transport"), &co->transport));
    DY_TRY(comm_progress_parse(cfg_str(c, "dist.progress"), &co->progress));
    co->progress_us = (int)cfg_int(c, "dist.progress_us");
    co->timeout_s = cfg_float(c, "dist.timeout_s");
    co->device = device;
    memset(dopt, 0, sizeof *dopt);
    dopt->bucket_bytes = (size_t)(cfg_float(c, "dist.bucket_mb") * 1048576.0);
    dopt->first_bucket_bytes = (size_t)(cfg_float(c, "dist.first_bucket_mb") * 1048576.0);
    dopt->min_buckets = (int)cfg_int(c, "dist.min_buckets");
    dopt->dtype = COMM_F32;
    return DY_OK;
}

int dist_bn_stats_mean(const cfg *c) { return !strcmp(cfg_str(c, "dist.bn_stats"), "mean"); }
