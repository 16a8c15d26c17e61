/* ckpt_policy.c -- checkpoint schedule and failure policy from the "ckpt" config
 * section (see ckpt_policy.h). */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "io/ckpt_policy.h"

dy_status ckpt_policy_init(ckpt_policy *p, const cfg *c, int64_t step, double now)
{
    memset(p, 0, sizeof *p);
    const char *dir = cfg_str(c, "ckpt.dir");
    int n = dir && *dir ? snprintf(p->dir, sizeof p->dir, "%s", dir)
                        : snprintf(p->dir, sizeof p->dir, "%s/checkpoints", cfg_str(c, "run.out_dir"));
    if (n < 0 || n >= (int)sizeof p->dir) return DY_ERR(DY_EINVAL, "ckpt.dir: path too long");
    p->interval_steps = cfg_int(c, "ckpt.interval_steps");
    p->interval_s = 60.0 * cfg_float(c, "ckpt.interval_minutes");
    p->epoch_end = cfg_bool(c, "ckpt.epoch_end");
    p->keep = (int)cfg_int(c, "ckpt.keep");
    p->keep_best = cfg_bool(c, "ckpt.keep_best");
    p->async = cfg_bool(c, "ckpt.async");
    p->abort_on_error = !strcmp(cfg_str(c, "ckpt.on_error"), "abort");
    if (snprintf(p->signals, sizeof p->signals, "%s", cfg_str(c, "ckpt.signals")) >= (int)sizeof p->signals)
        return DY_ERR(DY_EINVAL, "ckpt.signals: list too long");
    ckpt_policy_mark(p, step, now);
    return DY_OK;
}

int ckpt_policy_due(const ckpt_policy *p, int64_t step, double now, int epoch_end)
{
    if (epoch_end && p->epoch_end) return 1;
    if (p->interval_steps > 0 && step - p->last_step >= p->interval_steps) return 1;
    return p->interval_s > 0 && now - p->last_time >= p->interval_s;
}

dy_status ckpt_policy_agree(const ckpt_policy *p, MPI_Comm comm, int64_t step, double now, int epoch_end, int *due)
{
    int mine = ckpt_policy_due(p, step, now, epoch_end);
    if (MPI_Allreduce(&mine, due, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
        return DY_ERR(DY_EMPI, "agreeing on the checkpoint schedule failed");
    return DY_OK;
}

void ckpt_policy_mark(ckpt_policy *p, int64_t step, double now)
{
    p->last_step = step;
    p->last_time = now;
}

dy_status ckpt_policy_on_failure(ckpt_policy *p, dy_status s, int64_t step, double now)
{
    if (s == DY_OK) return DY_OK;
    if (p->abort_on_error) return s;
    log_warn("checkpoint failed, training continues (ckpt.on_error=continue; next try in one interval): %s",
             err_msg());
    ckpt_policy_mark(p, step, now);
    return DY_OK;
}
