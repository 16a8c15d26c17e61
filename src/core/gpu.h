/* gpu.h -- what this build and this machine offer in GPU terms.
 *
 * Implemented by cuda/gpu_info.cu in CUDA builds and by src/core/gpu_none.c in
 * CPU-only builds, so callers never need #ifdef.  gpu_query never fails: when no GPU
 * is usable it fills `reason` with the CUDA runtime's own explanation (e.g. "CUDA
 * driver version is insufficient for CUDA runtime version").
 *
 * defines: gpu_info, gpu_device, gpu_query, GPU_MAX_DEVICES
 */
#ifndef DY_CORE_GPU_H
#define DY_CORE_GPU_H

#include <stddef.h>

#define GPU_MAX_DEVICES 16

typedef struct {
    char name[256];
    int cc_major, cc_minor;
    size_t total_mem;
} gpu_device;

typedef struct {
    int cuda_built;       /* this binary contains the CUDA backend */
    int runtime_version;  /* CUDART_VERSION style, e.g. 13000; 0 if unknown */
    int driver_version;   /* 0 when no driver is installed */
    int cudnn_version;    /* cudnnGetVersion() */
    int nccl_version;     /* ncclGetVersion() */
    int cublas_version;   /* major*10000 + minor*100 + patch */
    int device_count;     /* usable devices (0 when none) */
    char reason[512];     /* why device_count is 0 */
    gpu_device dev[GPU_MAX_DEVICES];
} gpu_info;

#ifdef __cplusplus
extern "C" {
#endif
void gpu_query(gpu_info *out);
#ifdef __cplusplus
}
#endif

#endif
