/* ckpt_policy.h -- when to checkpoint and what a failed write means, from the "ckpt"
 * config section: every N steps and/or T minutes, at epoch ends; keep K (+ best);
 * async or not; on_error abort|continue.  The time-based decision differs between
 * ranks (clocks, timing), so it is taken collectively (MAX) by ckpt_policy_agree.
 *
 * defines: ckpt_policy, ckpt_policy_init, ckpt_policy_due, ckpt_policy_agree,
 *          ckpt_policy_mark, ckpt_policy_on_failure
 */
#ifndef DY_IO_CKPT_POLICY_H
#define DY_IO_CKPT_POLICY_H

#include <stdint.h>

#include <mpi.h>

#include "core/config.h"
#include "core/err.h"

extern const cfg_section cfg_section_ckpt; /* ckpt_config.c */

typedef struct {
    char dir[900];          /* ckpt.dir, or run.out_dir/checkpoints */
    int64_t interval_steps; /* 0: off */
    double interval_s;      /* 0: off */
    int epoch_end, keep, keep_best, async, abort_on_error;
    char signals[128];      /* for signals_install */
    int64_t last_step;      /* last checkpoint (or start) */
    double last_time;
} ckpt_policy;

/* Reads the config; `now` (timer_now()) and `step` start the interval clocks. */
dy_status ckpt_policy_init(ckpt_policy *p, const cfg *c, int64_t step, double now);
/* Local: is a checkpoint due after optimizer step `step` (1-based count of steps done)? */
int ckpt_policy_due(const ckpt_policy *p, int64_t step, double now, int epoch_end);
/* Collective: *due is 1 on every rank if it is due on any. */
dy_status ckpt_policy_agree(const ckpt_policy *p, MPI_Comm comm, int64_t step, double now, int epoch_end, int *due);
/* Restart the interval clocks after a checkpoint attempt. */
void ckpt_policy_mark(ckpt_policy *p, int64_t step, double now);
/* After a failed write: on_error=abort returns s; continue logs a warning, restarts the
 * interval clocks (the next try is one interval later) and returns DY_OK. */
dy_status ckpt_policy_on_failure(ckpt_policy *p, dy_status s, int64_t step, double now);

#endif
