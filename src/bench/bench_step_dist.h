/* bench_step_dist.h -- `dyolo bench step --dist`: the distributed training-step
 * benchmark (step-time breakdown and the share of the gradient all-reduce hidden
 * behind backward); see bench_step_dist.c.
 *
 * defines: bench_step_dist_wanted, bench_step_dist_main */
#ifndef DY_TRAIN_BENCH_STEP_DIST_H
#define DY_TRAIN_BENCH_STEP_DIST_H

/* 1 when the arguments or the launcher (mpirun with more than one rank) ask for
 * the distributed mode. */
int bench_step_dist_wanted(int argc, char **argv);
int bench_step_dist_main(int argc, char **argv);

#endif
