/* bench_step.h -- `dyolo bench step`: training-step benchmark of a model spec.
 *
 * defines: bench_step_main, bench_sgemm_peak, bench_synth_batch */
#ifndef DY_MODEL_BENCH_STEP_H
#define DY_MODEL_BENCH_STEP_H

#include <stdint.h>

int bench_step_main(int argc, char **argv);
/* Best GFLOP/s of square n x n x n SGEMMs on the current BLAS threads. */
double bench_sgemm_peak(int n, int reps);
/* Synthetic batch for the step benchmarks: random pixels (batch x 3 x imgsz^2, uint8)
 * and 4 random boxes per image (rows of image, class, cx, cy, w, h), from the
 * counter-based RNG keyed by (key, stream): the same bytes on every run. */
void bench_synth_batch(uint8_t *img, float *tg, int batch, int imgsz, int nc, uint64_t key, uint64_t stream);

#endif
