/* bench_step.h -- `dyolo bench step`: training-step benchmark of a model spec.
 *
 * defines: bench_step_main, bench_sgemm_peak */
#ifndef DY_MODEL_BENCH_STEP_H
#define DY_MODEL_BENCH_STEP_H

int bench_step_main(int argc, char **argv);
/* Best GFLOP/s of square n x n x n SGEMMs on the current BLAS threads. */
double bench_sgemm_peak(int n, int reps);

#endif
