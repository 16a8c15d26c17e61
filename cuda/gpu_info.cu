/* gpu_info.cu -- gpu_query for CUDA builds: library versions and visible devices,
 * or the CUDA runtime's reason why there are none (no driver, no device,
 * CUDA_VISIBLE_DEVICES empty).  Never fails: "no GPU" is an answer, not an error. */
#include <stdio.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <library_types.h>
#include <nccl.h>

extern "C" {
#include "core/gpu.h"
}

static int cublas_version(void)
{
    int ma = 0, mi = 0, pa = 0;
    if (cublasGetProperty(MAJOR_VERSION, &ma) != CUBLAS_STATUS_SUCCESS) return 0;
    cublasGetProperty(MINOR_VERSION, &mi);
    cublasGetProperty(PATCH_LEVEL, &pa);
    return ma * 10000 + mi * 100 + pa;
}

extern "C" void gpu_query(gpu_info *out)
{
    memset(out, 0, sizeof *out);
    out->cuda_built = 1;
    cudaRuntimeGetVersion(&out->runtime_version);
    if (cudaDriverGetVersion(&out->driver_version) != cudaSuccess) out->driver_version = 0;
    out->cudnn_version = (int)cudnnGetVersion();
    int nv = 0;
    if (ncclGetVersion(&nv) == ncclSuccess) out->nccl_version = nv;
    out->cublas_version = cublas_version();

    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        snprintf(out->reason, sizeof out->reason, "%s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
        cudaGetLastError(); /* clear the sticky-free error so later calls start clean */
        return;
    }
    if (n == 0) {
        snprintf(out->reason, sizeof out->reason, "the CUDA runtime reports 0 devices");
        return;
    }
    out->device_count = n > GPU_MAX_DEVICES ? GPU_MAX_DEVICES : n;
    for (int i = 0; i < out->device_count; i++) {
        cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
        snprintf(out->dev[i].name, sizeof out->dev[i].name, "%s", p.name);
        out->dev[i].cc_major = p.major;
        out->dev[i].cc_minor = p.minor;
        out->dev[i].total_mem = p.totalGlobalMem;
    }
}
