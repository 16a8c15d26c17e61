/* bench_step_dist.h -- `dyolo bench step --dist`: the distributed training-step
 * benchmark (step-time breakdown and the share of the gradient all-reduce hidden
 * behind backward); see bench_step_dist.c.
 *
 * defines: bench_step_dist_wanted, bench_step_dist_main, bench_train_state */
#ifndef DY_TRAIN_BENCH_STEP_DIST_H
#define DY_TRAIN_BENCH_STEP_DIST_H

#include "core/config.h"
#include "model/model.h"
#include "train/ema.h"
#include "train/step.h"

/* 1 when the arguments or the launcher (mpirun with more than one rank) ask for
 * the distributed mode. */
int bench_step_dist_wanted(int argc, char **argv);
int bench_step_dist_main(int argc, char **argv);
/* The optimizer state and the BN buffers' EMA as `dyolo train` builds them from c for
 * model m on backend be, with the LR kept in warm-up's range (1000 batches per
 * epoch); *have_ts / *have_ema say what was made (for the caller's teardown). */
dy_status bench_train_state(const cfg *c, yolo_model *m, const tn_backend *be, train_state *ts, ema *buf_ema,
                            int *have_ts, int *have_ema);

#endif
