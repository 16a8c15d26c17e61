/* dist_config.h -- the `dist` configuration section and its translation into the
 * options of the communication interface and DDP.
 * (Choosing the transport together with the backend is dist_runtime_open's job.)
 * defines: cfg_section_dist, dist_opts_from_cfg, dist_bn_stats_mean */
#ifndef DY_DIST_DIST_CONFIG_H
#define DY_DIST_DIST_CONFIG_H

#include "core/config.h"
#include "dist/comm.h"
#include "dist/ddp.h"
#include "dist/dist.h"

extern const cfg_section cfg_section_dist;

/* device: from dist_map_device (-1 on CPU).  ddp dtype is F32 (the trainer sets F16
 * under amp when gradients are kept in half precision). */
dy_status dist_opts_from_cfg(const cfg *c, int device, comm_opts *co, ddp_opts *dopt);

/* dist.bn_stats is "mean": BN running statistics averaged over ranks (train_micro's
 * bn_mean), not rank 0's. */
int dist_bn_stats_mean(const cfg *c);

#endif
