/* test_ckpt_policy.c -- the checkpoint schedule (steps, minutes, epoch ends) and the
 * on_error policy read from the "ckpt" config section (no MPI needed). */
#include <string.h>

#include "core/log.h"
#include "io/ckpt_policy.h"
#include "tests/tap.h"
#include "train/train_config.h"

int main(void)
{
    train_config_register_all(); /* the library's config sections */
    cfg *c = NULL;
    ckpt_policy p;
    log_setup(0, 0, LOG_ERROR);
    TAP_EQ_INT(cfg_new(&c), DY_OK, "default config");
    TAP_EQ_INT(ckpt_policy_init(&p, c, 0, 100.0), DY_OK, "policy from defaults");
    TAP_OK(!strcmp(p.dir, "runs/dyolo/checkpoints"), "default dir is run.out_dir/checkpoints (%s)", p.dir);
    TAP_OK(p.keep == 3 && p.abort_on_error && !p.async && !strcmp(p.signals, "USR1,TERM"), "documented defaults");
    TAP_OK(!ckpt_policy_due(&p, 999, 100.0 + 60, 0), "not due before 1000 steps or 30 minutes");
    TAP_OK(ckpt_policy_due(&p, 1000, 100.0 + 60, 0), "due after 1000 steps");
    TAP_OK(ckpt_policy_due(&p, 10, 100.0 + 1800, 0), "due after 30 minutes");
    TAP_OK(ckpt_policy_due(&p, 10, 100.0, 1), "due at an epoch end");
    ckpt_policy_mark(&p, 1000, 500.0);
    TAP_OK(!ckpt_policy_due(&p, 1999, 600.0, 0), "mark restarts both clocks");
    TAP_EQ_INT(ckpt_policy_on_failure(&p, DY_EIO, 1999, 600.0), DY_EIO, "on_error=abort passes the failure on");
    cfg_free(c);

    c = NULL;
    cfg_new(&c);
    TAP_EQ_INT(cfg_set(c, "ckpt.on_error=continue"), DY_OK, "set on_error=continue");
    cfg_set(c, "ckpt.interval_steps=0");
    cfg_set(c, "ckpt.interval_minutes=0");
    cfg_set(c, "ckpt.epoch_end=false");
    cfg_set(c, "ckpt.dir=/scratch/ck");
    TAP_EQ_INT(ckpt_policy_init(&p, c, 50, 0.0), DY_OK, "policy from --set values");
    TAP_OK(!strcmp(p.dir, "/scratch/ck"), "ckpt.dir wins");
    TAP_OK(!ckpt_policy_due(&p, 1000000, 1e9, 1), "all triggers off: never due");
    err_set(DY_EIO, "disk full");
    TAP_EQ_INT(ckpt_policy_on_failure(&p, DY_EIO, 60, 5.0), DY_OK, "on_error=continue swallows the failure");
    TAP_OK(p.last_step == 60 && p.last_time == 5.0, "and restarts the interval");
    TAP_EQ_INT(cfg_set(c, "ckpt.on_error=ignore"), DY_EINVAL, "unknown on_error value is refused");
    cfg_free(c);
    return tap_done();
}
