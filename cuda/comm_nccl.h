/* comm_nccl.h -- C entry points of the NCCL transport (cuda/comm_nccl.cu), free of
 * CUDA, NCCL and MPI types so that src/dist/comm_nccl.c can wrap them in the comm
 * interface and do the MPI part of the bootstrap itself.  CPU-only builds link
 * src/dist/comm_nccl_none.c, whose functions fail with DY_EUNSUPPORTED.
 *
 * Buffers are device pointers.  Each collective is enqueued on the transport's own
 * CUDA stream and followed by a CUDA event in slot `slot`; dnccl_test queries it.
 *
 * defines: dnccl, DNCCL_ID_BYTES, dnccl_unique_id, dnccl_create, dnccl_allreduce,
 *          dnccl_broadcast, dnccl_allgatherv, dnccl_barrier, dnccl_test, dnccl_follow_stream,
 *          dnccl_async_error, dnccl_abort, dnccl_destroy, dnccl_device_alloc,
 *          dnccl_device_free
 */
#ifndef DY_CUDA_COMM_NCCL_H
#define DY_CUDA_COMM_NCCL_H

#include <stddef.h>

#include "core/err.h"
#include "dist/comm_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DNCCL_ID_BYTES 128 /* sizeof(ncclUniqueId) */

typedef struct dnccl dnccl;

dy_status dnccl_unique_id(unsigned char id[DNCCL_ID_BYTES]);
/* cudaSetDevice(device), a non-blocking communicator (ncclCommInitRankConfig, set-up
 * polled: DY_ETIMEOUT and the communicator aborted when a peer has not joined within
 * timeout_s, <= 0: wait forever), a non-blocking stream, nslots events. */
dy_status dnccl_create(const unsigned char id[DNCCL_ID_BYTES], int rank, int size, int device,
                       int nslots, double timeout_s, dnccl **out);
dy_status dnccl_allreduce(dnccl *d, void *buf, size_t n, comm_dtype t, comm_redop op, int slot);
dy_status dnccl_broadcast(dnccl *d, void *buf, size_t n, comm_dtype t, int root, int slot);
dy_status dnccl_allgatherv(dnccl *d, const void *send, size_t n, void *recv, const int *counts,
                           const int *displs, comm_dtype t, int slot);
dy_status dnccl_barrier(dnccl *d, int slot);
dy_status dnccl_test(dnccl *d, int slot, int *done);
/* From now on every collective first waits (on the device, not the host) for the
 * work queued so far on `stream` (a cudaStream_t: the compute backend's), so a
 * gradient bucket is reduced only once the kernels that wrote it have run. */
dy_status dnccl_follow_stream(dnccl *d, void *stream);
dy_status dnccl_async_error(dnccl *d);
void dnccl_abort(dnccl *d);
void dnccl_destroy(dnccl *d);
/* Device memory for benchmarks and tests of the transport (cudaMalloc/cudaMemset). */
dy_status dnccl_device_alloc(int device, size_t bytes, void **out);
void dnccl_device_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
