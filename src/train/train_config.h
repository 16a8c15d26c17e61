/* train_config.h -- the `train` configuration section (optimizer, schedule, EMA,
 * mixed precision and loss scaling) and its translation into module settings.
 * train_config_register_all registers every configuration section of the library
 * (the trainer is the module that uses them all): call it once at start, before the
 * first cfg_new.
 * defines: cfg_section_train, train_hyp, train_hyp_from_cfg, train_config_register_all */
#ifndef DY_TRAIN_TRAIN_CONFIG_H
#define DY_TRAIN_TRAIN_CONFIG_H

#include "core/config.h"
#include "train/optim.h"
#include "train/sched.h"

extern const cfg_section cfg_section_train;

typedef struct {
    sched_cfg sched;     /* batches_per_epoch is left 0: the data loader knows it */
    optim_kind optimizer;
    double clip_norm;    /* 0: no clipping */
    int ema;
    double ema_decay, ema_tau;
    int amp;
    double loss_scale_init, loss_scale_floor;
    int loss_scale_growth_interval, loss_scale_max_overflows;
    int freeze;          /* the first `freeze` spec layers stay fixed */
} train_hyp;

dy_status train_hyp_from_cfg(const cfg *c, train_hyp *h);
void train_config_register_all(void);

#endif
