/* train_config.c -- the `train` configuration section (YOLOv5 hyperparameter
 * defaults) and train_hyp_from_cfg. */
#include "train/train_config.h"

#include "data/loader.h"
#include "dist/dist_config.h"
#include "dist/runtime.h"
#include "io/ckpt_policy.h"
#include "model/model.h"

#include <string.h>

static const cfg_key train_keys[] = {
    {"train.val_interval", CFG_INT, "1", 0, 1e6, NULL,
     "validate every N epochs (and after the last one); 0: only after the last"},
    {"train.val_protocol", CFG_ENUM, "\"yolo\"", 1, 0, "yolo|coco", "mAP protocol that reports and fitness use"},
    {"train.epochs", CFG_INT, "300", 1, 1e6, NULL, "training epochs (the LR schedule spans them)"},
    {"train.batch_size", CFG_INT, "64", 1, 1e7, NULL,
     "global batch size (all ranks together; must divide by the number of ranks)"},
    {"train.optimizer", CFG_ENUM, "\"sgd\"", 1, 0, "sgd|adamw", "SGD with Nesterov momentum, or AdamW"},
    {"train.lr0", CFG_FLOAT, "0.01", 0, 10, NULL, "initial learning rate"},
    {"train.lrf", CFG_FLOAT, "0.01", 0, 1, NULL, "final learning rate as a fraction of lr0"},
    {"train.cos_lr", CFG_BOOL, "false", 1, 0, NULL, "cosine instead of linear LR decay"},
    {"train.momentum", CFG_FLOAT, "0.937", 0, 1, NULL, "SGD momentum / AdamW beta1"},
    {"train.weight_decay", CFG_FLOAT, "0.0005", 0, 1, NULL,
     "weight decay of conv weights (scaled by batch_size * accumulate / nbs)"},
    {"train.nbs", CFG_INT, "64", 1, 1e6, NULL, "nominal batch size: accumulate = max(round(nbs / batch_size), 1)"},
    {"train.warmup_epochs", CFG_FLOAT, "3", 0, 1e4, NULL, "warmup length in epochs (at least 100 iterations)"},
    {"train.warmup_momentum", CFG_FLOAT, "0.8", 0, 1, NULL, "momentum at the start of warmup"},
    {"train.warmup_bias_lr", CFG_FLOAT, "0.1", 0, 10, NULL, "bias learning rate at the start of warmup"},
    {"train.clip_norm", CFG_FLOAT, "10", 0, 1e9, NULL, "clip gradients to this global L2 norm (0: off)"},
    {"train.ema", CFG_BOOL, "true", 1, 0, NULL, "keep an exponential moving average of the weights"},
    {"train.freeze", CFG_INT, "0", 0, 1000, NULL,
     "keep the first N layers of the spec fixed (YOLOv5 --freeze; 10 = the yolov5 backbone): no gradients, "
     "all-reduce or updates for them"},
    {"train.ema_decay", CFG_FLOAT, "0.9999", 0, 1, NULL, "EMA decay (ramped by 1 - exp(-updates / ema_tau))"},
    {"train.ema_tau", CFG_FLOAT, "2000", 1, 1e9, NULL, "EMA ramp length in updates"},
    {"train.amp", CFG_BOOL, "false", 1, 0, NULL, "mixed precision: f16 activations/gradients, f32 master weights"},
    {"train.loss_scale_init", CFG_FLOAT, "65536", 1e-6, 1e30, NULL, "initial dynamic loss scale"},
    {"train.loss_scale_growth_interval", CFG_INT, "2000", 1, 1e9, NULL,
     "double the loss scale after this many consecutive finite steps"},
    {"train.loss_scale_floor", CFG_FLOAT, "0.0001", 0, 1e30, NULL,
     "stop training when the loss scale falls below this"},
    {"train.loss_scale_max_overflows", CFG_INT, "50", 1, 1e9, NULL,
     "stop training after this many consecutive overflowing (skipped) steps"},
};

const cfg_section cfg_section_train = {"train", "optimizer, LR schedule, EMA and mixed precision (YOLOv5 defaults)",
                                       train_keys, (int)(sizeof train_keys / sizeof train_keys[0])};

dy_status train_hyp_from_cfg(const cfg *c, train_hyp *h)
{
    memset(h, 0, sizeof *h);
    sched_cfg *s = &h->sched;
    s->epochs = (int)cfg_int(c, "train.epochs");
    s->global_batch = (int)cfg_int(c, "train.batch_size");
    s->nbs = (int)cfg_int(c, "train.nbs");
    s->lr0 = cfg_float(c, "train.lr0");
    s->lrf = cfg_float(c, "train.lrf");
    s->momentum = cfg_float(c, "train.momentum");
    s->weight_decay = cfg_float(c, "train.weight_decay");
    s->warmup_epochs = cfg_float(c, "train.warmup_epochs");
    s->warmup_momentum = cfg_float(c, "train.warmup_momentum");
    s->warmup_bias_lr = cfg_float(c, "train.warmup_bias_lr");
    s->cos_lr = cfg_bool(c, "train.cos_lr");
    DY_TRY(optim_kind_parse(cfg_str(c, "train.optimizer"), &h->optimizer));
    h->clip_norm = cfg_float(c, "train.clip_norm");
    h->ema = cfg_bool(c, "train.ema");
    h->ema_decay = cfg_float(c, "train.ema_decay");
    h->ema_tau = cfg_float(c, "train.ema_tau");
    h->amp = cfg_bool(c, "train.amp");
    h->loss_scale_init = cfg_float(c, "train.loss_scale_init");
    h->loss_scale_floor = cfg_float(c, "train.loss_scale_floor");
    h->loss_scale_growth_interval = (int)cfg_int(c, "train.loss_scale_growth_interval");
    h->loss_scale_max_overflows = (int)cfg_int(c, "train.loss_scale_max_overflows");
    h->freeze = (int)cfg_int(c, "train.freeze");
    return DY_OK;
}

/* The order is the order of `dyolo config --schema` and configs/README.md. */
void train_config_register_all(void)
{
    cfg_register_section(&cfg_section_runtime);
    cfg_register_section(&cfg_section_train);
    cfg_register_section(&cfg_section_dist);
    cfg_register_section(&data_cfg_section);
    cfg_register_section(&cfg_section_model);
    cfg_register_section(&cfg_section_ckpt);
}
