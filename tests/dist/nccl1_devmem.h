/* nccl1_devmem.h -- host <-> device copies for test_nccl1.c, so the NCCL test can put
 * known data into device buffers and read it back without the CUDA backend (which
 * has its own upload/download).  nccl1_devmem.cu implements them in CUDA builds,
 * nccl1_devmem_none.c (failing with DY_EUNSUPPORTED) in CPU-only builds.
 *
 * defines: t_dev_upload, t_dev_download, t_dev_is_device, t_dev_sync */
#ifndef DY_TESTS_DIST_NCCL1_DEVMEM_H
#define DY_TESTS_DIST_NCCL1_DEVMEM_H

#include <stddef.h>

#include "core/err.h"

#ifdef __cplusplus
extern "C" {
#endif
dy_status t_dev_upload(void *dev, const void *host, size_t bytes);
dy_status t_dev_download(void *host, const void *dev, size_t bytes);
/* 1 when p is device memory (cudaPointerGetAttributes), 0 otherwise. */
int t_dev_is_device(const void *p);
dy_status t_dev_sync(void);
#ifdef __cplusplus
}
#endif

#endif
