/* nccl1_devmem.cu -- the CUDA side of nccl1_devmem.h: copies that are complete on
 * the device when they return.  The NCCL transport works on its own non-blocking
 * stream, which does not wait for the legacy default stream, and a pageable
 * host -> device cudaMemcpy may return before its DMA lands: hence the device
 * synchronization after an upload.  Downloads follow a completed comm_wait. */
#include <cuda_runtime_api.h>

extern "C" {
#include "nccl1_devmem.h"
}
#include "cuda_check.h"

extern "C" dy_status t_dev_upload(void *dev, const void *host, size_t bytes)
{
    CUDA_CHECK(cudaMemcpy(dev, host, bytes, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaDeviceSynchronize());
    return DY_OK;
}

extern "C" dy_status t_dev_download(void *host, const void *dev, size_t bytes)
{
    CUDA_CHECK(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost));
    return DY_OK;
}

extern "C" int t_dev_is_device(const void *p)
{
    cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return a.type == cudaMemoryTypeDevice;
}

extern "C" dy_status t_dev_sync(void)
{
    CUDA_CHECK(cudaDeviceSynchronize());
    return DY_OK;
}
