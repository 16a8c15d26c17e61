/* bench_step.h -- `dyolo bench step`: training-step benchmark of a model spec, on the
 * CPU (bench_step.c, the historical report) or, with --device cuda or --full-step,
 * the whole training step on a backend (bench_step_dev.c).  Both accept lists
 * (--spec a,b --batch 16,32,64 --amp 0,1) and print, per configuration, one
 * machine-readable "bench-row" line (BENCH_ROW_HELP says what its fields mean) that
 * benchmarks/gpu/run-gpu-check.sh turns into a table beside Ultralytics' own step.
 *
 * defines: bench_step_main, bench_sgemm_peak, bench_synth_batch, bench_step_args,
 *          bench_step_dev_run, bench_spec_name, bench_row, bench_row_print, BENCH_MAX_LIST */
#ifndef DY_MODEL_BENCH_STEP_H
#define DY_MODEL_BENCH_STEP_H

#include <stdint.h>

#include "bench/gpu_peaks.h"

#define BENCH_MAX_LIST 8

typedef struct {
    const char *specs[BENCH_MAX_LIST];
    int batches[BENCH_MAX_LIST], amps[BENCH_MAX_LIST];
    int nspecs, nbatches, namps;
    const char *torch, *device;
    int imgsz, threads, iters, warmup, nc, full_step;
} bench_step_args;

/* One configuration's result, printed as one line
 *   bench-row tool=dyolo model=yolov5n imgsz=640 batch=16 prec=f32|amp step=PHASES
 *     ms_step=.. img_s=.. gflops_img=.. tflops=.. math=fp32 mfu=..|n/a peak_mib=..|n/a
 *     peak_fp32=.. peak_tf32=.. peak_fp16=.. device=NAME_WITH_UNDERSCORES
 * gflops_img: forward GFLOPs of one image (2 x MACs, as YOLOv5 counts); tflops: 3 x
 * that (forward + backward-data + backward-filter) x img/s; mfu: tflops over the
 * device's dense peak for `math` (gpu_peaks.h); peak_*: that device's peaks (0:
 * unknown device), so a script can put Ultralytics' rate (TF32 or FP16) beside it. */
typedef struct {
    const char *tool, *model, *prec, *step, *device;
    gpu_math math;
    int imgsz, batch, iters;
    double ms_step, img_s, gflops_img;
    double peak_mib; /* < 0: not known */
} bench_row;

void bench_row_print(const bench_row *r);

int bench_step_main(int argc, char **argv);
/* The whole training step (forward, loss, backward, optimizer) on the backend of
 * a->device, for every spec x amp x batch of the lists (bench_step_dev.c). */
int bench_step_dev_run(const bench_step_args *a);
/* "yolov5n" for "configs/models/yolov5n.json": the model field of a bench-row. */
void bench_spec_name(const char *spec, char *out, int len);
/* Best GFLOP/s of square n x n x n SGEMMs on the current BLAS threads. */
double bench_sgemm_peak(int n, int reps);
/* Synthetic batch for the step benchmarks: random pixels (batch x 3 x imgsz^2, uint8)
 * and 4 random boxes per image (rows of image, class, cx, cy, w, h), from the
 * counter-based RNG keyed by (key, stream): the same bytes on every run. */
void bench_synth_batch(uint8_t *img, float *tg, int batch, int imgsz, int nc, uint64_t key, uint64_t stream);

#endif
