/* test_gpu_peaks.c -- the GPU peak table (src/bench/gpu_peaks.c): device names as the
 * CUDA runtime reports them find their row, look-alikes do not take a neighbour's
 * row (A10 vs A100, L4 vs L40/L40S, H100 PCIe vs SXM), and unknown names give 0. */
#include <string.h>

#include "bench/gpu_peaks.h"
#include "tests/tap.h"

static const char *model_of(const char *name)
{
    const gpu_peak *p = gpu_peak_find(name);
    return p ? p->model : "(none)";
}

#define TAP_MODEL(name, want) TAP_OK(!strcmp(model_of(name), want), "\"%s\" -> %s (got %s)", name, want, model_of(name))

int main(void)
{
    TAP_MODEL("NVIDIA H100 80GB HBM3", "H100 SXM");
    TAP_MODEL("NVIDIA H100 PCIe", "H100 PCIe");
    TAP_MODEL("NVIDIA H100 NVL", "H100 NVL");
    TAP_MODEL("NVIDIA H200", "H200 SXM");
    TAP_MODEL("NVIDIA H200 NVL", "H200 NVL");
    TAP_MODEL("NVIDIA A100-SXM4-80GB", "A100");
    TAP_MODEL("NVIDIA A100-PCIE-40GB", "A100");
    TAP_MODEL("NVIDIA A100 80GB PCIe", "A100");
    TAP_MODEL("NVIDIA A10", "A10");
    TAP_MODEL("NVIDIA L40S", "L40S");
    TAP_MODEL("NVIDIA L40", "L40");
    TAP_MODEL("NVIDIA L4", "L4");
    TAP_MODEL("Tesla V100-SXM2-16GB", "V100 SXM2");
    TAP_MODEL("Tesla V100-PCIE-32GB", "V100 PCIe");
    TAP_MODEL("Tesla V100S-PCIE-32GB", "V100S PCIe");
    TAP_MODEL("Tesla T4", "T4");
    TAP_MODEL("NVIDIA GeForce RTX 4090", "RTX 4090");
    TAP_MODEL("nvidia geforce rtx 4090", "RTX 4090");
    /* look-alikes and unknown devices: no row, peak 0 */
    TAP_MODEL("NVIDIA GeForce RTX 4090 D", "(none)");
    TAP_MODEL("NVIDIA A10G", "(none)");
    TAP_MODEL("NVIDIA GH200 480GB", "(none)");
    TAP_MODEL("NVIDIA GeForce RTX 3090 Ti", "(none)");
    TAP_MODEL("", "(none)");
    TAP_OK(gpu_peak_find(NULL) == NULL, "NULL name: no row");
    TAP_NEAR(gpu_peak_tflops("Some Future GPU", GPU_MATH_FP16), 0, 0, "unknown GPU: peak 0 (MFU n/a)");

    /* the columns: dense numbers, fp32 < tf32 <= fp16 where tensor cores exist */
    TAP_NEAR(gpu_peak_tflops("NVIDIA H100 80GB HBM3", GPU_MATH_FP32), 67, 0, "H100 SXM FP32 67");
    TAP_NEAR(gpu_peak_tflops("NVIDIA H100 80GB HBM3", GPU_MATH_FP16), 989.5, 0, "H100 SXM FP16 dense 989.5 (1979 sparse / 2)");
    TAP_NEAR(gpu_peak_tflops("NVIDIA A100-SXM4-40GB", GPU_MATH_TF32), 156, 0, "A100 TF32 156");
    TAP_NEAR(gpu_peak_tflops("Tesla V100-SXM2-16GB", GPU_MATH_TF32), 15.7, 0, "V100: no TF32, the FP32 rate");
    TAP_NEAR(gpu_peak_tflops("NVIDIA H100 PCIe", GPU_MATH_N), 0, 0, "math out of range: 0");
    TAP_OK(!strcmp(gpu_math_name(GPU_MATH_TF32), "tf32"), "math names");
    return tap_done();
}
