/* ckpt_config.c -- the "ckpt" configuration section: where, how often and how
 * checkpoints are written, how many are kept, what a failed write does, and which
 * signals ask for a checkpoint-and-requeue. */
#include "core/config.h"

static const cfg_key ckpt_keys[] = {
    {"ckpt.dir", CFG_STRING, "\"\"", 1, 0, NULL, "checkpoint directory (empty: RUN.out_dir/checkpoints)"},
    {"ckpt.interval_steps", CFG_INT, "1000", 0, 1e12, NULL, "checkpoint every N optimizer steps (0: off)"},
    {"ckpt.interval_minutes", CFG_FLOAT, "30", 0, 1e6, NULL, "checkpoint every T minutes of training (0: off)"},
    {"ckpt.epoch_end", CFG_BOOL, "true", 1, 0, NULL, "checkpoint at the end of every epoch"},
    {"ckpt.keep", CFG_INT, "3", 1, 1000000, NULL, "keep the newest K checkpoints (plus the best one)"},
    {"ckpt.keep_best", CFG_BOOL, "true", 1, 0, NULL, "never delete the checkpoint with the best fitness"},
    {"ckpt.async", CFG_BOOL, "false", 1, 0, NULL,
     "write from a background thread after a host-memory snapshot (training continues)"},
    {"ckpt.on_error", CFG_ENUM, "\"abort\"", 1, 0, "abort|continue",
     "a failed write: stop training, or warn and retry at the next interval"},
    {"ckpt.signals", CFG_STRING, "\"USR1,TERM\"", 1, 0, NULL,
     "signals that mean checkpoint and exit 75 (requeue); SIGINT always does"},
};

const cfg_section cfg_section_ckpt = {"ckpt", "checkpoints, retention and preemption signals", ckpt_keys,
                                      (int)(sizeof ckpt_keys / sizeof ckpt_keys[0])};
