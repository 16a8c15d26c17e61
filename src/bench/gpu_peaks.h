/* gpu_peaks.h -- dense peak TFLOP/s of NVIDIA GPU models per kind of arithmetic, the
 * yardstick of the model FLOPs utilisation (MFU) that `dyolo bench step` reports.
 * A device is matched by the name the CUDA runtime reports (cudaDeviceProp.name,
 * e.g. "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB", "Tesla V100-PCIE-16GB").
 * An unknown device has no peak (0): MFU is then "n/a", never a guess.
 *
 * defines: gpu_math, gpu_peak, gpu_peak_find, gpu_peak_tflops, gpu_math_name
 */
#ifndef DY_BENCH_GPU_PEAKS_H
#define DY_BENCH_GPU_PEAKS_H

/* The arithmetic a step runs in, which decides the peak it is measured against. */
typedef enum {
    GPU_MATH_FP32 = 0, /* FP32 FMA on the CUDA cores (dyolo's CUDA backend: no TF32) */
    GPU_MATH_TF32,     /* TF32 tensor cores (PyTorch's default for cuDNN convolutions) */
    GPU_MATH_FP16,     /* FP16/BF16 tensor cores, FP32 accumulate (PyTorch AMP) */
    GPU_MATH_N
} gpu_math;

typedef struct {
    const char *model;             /* e.g. "H100 SXM" */
    const char *tokens;            /* words the device name must all contain */
    double tflops[GPU_MATH_N];     /* dense (no structured sparsity) */
} gpu_peak;

/* The table row of the device called `name` (case-insensitive; the words of a row
 * must each appear as a whole word of the name, so "A10" is not an "A100"), or NULL. */
const gpu_peak *gpu_peak_find(const char *name);
/* Its peak for m in TFLOP/s, 0 when the device is unknown. */
double gpu_peak_tflops(const char *name, gpu_math m);
/* "fp32", "tf32", "fp16" */
const char *gpu_math_name(gpu_math m);

#endif
