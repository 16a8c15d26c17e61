/* comm_nccl.cu -- the NCCL transport: collectives on device buffers, enqueued on a
 * dedicated communication stream so they overlap the compute stream; completion is a
 * CUDA event per request slot.  The watchdog polls ncclCommGetAsyncError and, on
 * timeout, ncclCommAbort makes stuck kernels return.  See comm_nccl.h.
 *
 * The communicator is NON-BLOCKING (ncclConfig_t.blocking = 0): a blocking
 * ncclCommInitRank waits forever for a peer that died before it joined, and nothing
 * can abort it (there is no communicator handle until it returns).  Non-blocking, the
 * init returns at once and dnccl_create polls its state with the transport's timeout,
 * then aborts with a clear error.  The price: any NCCL call may answer ncclInProgress;
 * settle() polls until it has taken effect (within the same timeout).
 */
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern "C" {
#include "core/err.h"
#include "comm_nccl.h"
}
#include "cuda_check.h"

struct dnccl {
    ncclComm_t comm;
    cudaStream_t stream;
    cudaEvent_t *ev;
    int nslots, rank, size, device;
    void *scratch; /* 4 device bytes for barrier */
    cudaStream_t follow; /* the compute stream collectives wait for (0: none) */
    cudaEvent_t dep;     /* recorded on it before each collective */
    double timeout_s;    /* init and settle() give up after this (<= 0: never) */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Waits until a non-blocking call's effect is done (r == ncclInProgress) and turns
 * the outcome into a status naming the call and NCCL's own messages. */
static dy_status settle(dnccl *d, ncclResult_t r, const char *file, int line, const char *call)
{
    const double t0 = now_s();
    while (r == ncclInProgress) {
        if (ncclCommGetAsyncError(d->comm, &r) != ncclSuccess) break;
        if (r != ncclInProgress) break;
        if (d->timeout_s > 0 && now_s() - t0 > d->timeout_s) {
            ncclCommAbort(d->comm);
            d->comm = NULL;
            return err_set(DY_ETIMEOUT,
                           "%s:%d: %s did not complete within %.0f s on rank %d of %d: a peer rank died or "
                           "cannot reach this one (check NCCL_SOCKET_IFNAME / NCCL_IB_HCA, NCCL_DEBUG=INFO); "
                           "communicator aborted (dist.timeout_s sets the limit)",
                           file, line, call, d->timeout_s, d->rank, d->size);
        }
        sched_yield();
    }
    if (r == ncclSuccess) return DY_OK;
    const char *last = d->comm ? ncclGetLastError(d->comm) : "";
    return err_set(DY_ECUDA, "%s:%d: %s failed on rank %d: %s%s%s", file, line, call, d->rank,
                   ncclGetErrorString(r), last && *last ? ": " : "", last ? last : "");
}
#define NCCL_Q(d, call) DY_TRY(settle((d), (call), __FILE__, __LINE__, #call))

static_assert(sizeof(ncclUniqueId) == DNCCL_ID_BYTES, "ncclUniqueId size changed");

static ncclDataType_t nccl_type(comm_dtype t)
{
    switch (t) {
    case COMM_F32: return ncclFloat32;
    case COMM_F16: return ncclFloat16;
    case COMM_U32: return ncclUint32;
    case COMM_I32: return ncclInt32;
    case COMM_U8: return ncclUint8;
    }
    return ncclFloat32;
}

static size_t type_size(comm_dtype t) { return t == COMM_F16 ? 2 : t == COMM_U8 ? 1 : 4; }

static ncclRedOp_t nccl_op(comm_redop op)
{
    return op == COMM_MAX ? ncclMax : op == COMM_AVG ? ncclAvg : ncclSum;
}

extern "C" dy_status dnccl_unique_id(unsigned char id[DNCCL_ID_BYTES])
{
    ncclUniqueId u;
    NCCL_CHECK(ncclGetUniqueId(&u));
    memcpy(id, &u, DNCCL_ID_BYTES);
    return DY_OK;
}

extern "C" dy_status dnccl_create(const unsigned char id[DNCCL_ID_BYTES], int rank, int size,
                                  int device, int nslots, double timeout_s, dnccl **out)
{
    dnccl *d = (dnccl *)calloc(1, sizeof *d);
    if (!d) return err_set(DY_ENOMEM, "out of memory");
    d->ev = (cudaEvent_t *)calloc((size_t)nslots, sizeof(cudaEvent_t));
    if (!d->ev) {
        free(d);
        return err_set(DY_ENOMEM, "out of memory");
    }
    *out = d;
    d->nslots = nslots;
    d->rank = rank;
    d->size = size;
    d->device = device;
    d->timeout_s = timeout_s;
    ncclUniqueId u;
    memcpy(&u, id, DNCCL_ID_BYTES);
    CUDA_CHECK(cudaSetDevice(device));
    CUDA_CHECK(cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking));
    for (int i = 0; i < nslots; i++) CUDA_CHECK(cudaEventCreateWithFlags(&d->ev[i], cudaEventDisableTiming));
    CUDA_CHECK(cudaMalloc(&d->scratch, 4));
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclResult_t r = ncclCommInitRankConfig(&d->comm, size, u, rank, &cfg);
    if (r != ncclSuccess && r != ncclInProgress)
        return err_set(DY_ECUDA, "ncclCommInitRankConfig (rank %d of %d, device %d): %s", rank, size, device,
                       ncclGetErrorString(r));
    return settle(d, r, __FILE__, __LINE__, "ncclCommInitRankConfig (setting up the communicator)");
}

extern "C" dy_status dnccl_follow_stream(dnccl *d, void *stream)
{
    if (!d->dep) CUDA_CHECK(cudaEventCreateWithFlags(&d->dep, cudaEventDisableTiming));
    d->follow = (cudaStream_t)stream;
    return DY_OK;
}

/* The device-side dependency on the compute stream (see dnccl_follow_stream). */
static dy_status order(dnccl *d)
{
    if (!d->follow) return DY_OK;
    CUDA_CHECK(cudaEventRecord(d->dep, d->follow));
    CUDA_CHECK(cudaStreamWaitEvent(d->stream, d->dep, 0));
    return DY_OK;
}

static dy_status record(dnccl *d, int slot)
{
    CUDA_CHECK(cudaEventRecord(d->ev[slot], d->stream));
    return DY_OK;
}

extern "C" dy_status dnccl_allreduce(dnccl *d, void *buf, size_t n, comm_dtype t, comm_redop op, int slot)
{
    DY_TRY(order(d));
    NCCL_Q(d, ncclAllReduce(buf, buf, n, nccl_type(t), nccl_op(op), d->comm, d->stream));
    return record(d, slot);
}

extern "C" dy_status dnccl_broadcast(dnccl *d, void *buf, size_t n, comm_dtype t, int root, int slot)
{
    DY_TRY(order(d));
    NCCL_Q(d, ncclBroadcast(buf, buf, n, nccl_type(t), root, d->comm, d->stream));
    return record(d, slot);
}

/* NCCL has no all-gather-v: one broadcast per rank inside a group. */
extern "C" dy_status dnccl_allgatherv(dnccl *d, const void *send, size_t n, void *recv,
                                      const int *counts, const int *displs, comm_dtype t, int slot)
{
    DY_TRY(order(d));
    if (!counts) {
        NCCL_Q(d, ncclAllGather(send, recv, n, nccl_type(t), d->comm, d->stream));
        return record(d, slot);
    }
    char *r = (char *)recv;
    size_t es = type_size(t);
    NCCL_Q(d, ncclGroupStart());
    for (int i = 0; i < d->size; i++) {
        const void *src = i == d->rank ? send : r + (size_t)displs[i] * es;
        NCCL_Q(d, ncclBroadcast(src, r + (size_t)displs[i] * es, (size_t)counts[i], nccl_type(t), i, d->comm,
                                d->stream));
    }
    NCCL_Q(d, ncclGroupEnd());
    return record(d, slot);
}

extern "C" dy_status dnccl_barrier(dnccl *d, int slot)
{
    DY_TRY(order(d));
    NCCL_Q(d, ncclAllReduce(d->scratch, d->scratch, 1, ncclInt32, ncclSum, d->comm, d->stream));
    return record(d, slot);
}

extern "C" dy_status dnccl_test(dnccl *d, int slot, int *done)
{
    cudaError_t e = cudaEventQuery(d->ev[slot]);
    if (e == cudaErrorNotReady) {
        *done = 0;
        return DY_OK;
    }
    CUDA_CHECK(e);
    *done = 1;
    return DY_OK;
}

extern "C" dy_status dnccl_async_error(dnccl *d)
{
    ncclResult_t r = ncclSuccess;
    NCCL_CHECK(ncclCommGetAsyncError(d->comm, &r));
    if (r != ncclSuccess && r != ncclInProgress)
        return err_set(DY_ECUDA, "NCCL reported an asynchronous error on rank %d: %s", d->rank,
                       ncclGetErrorString(r));
    return DY_OK;
}

extern "C" void dnccl_abort(dnccl *d)
{
    if (d && d->comm) {
        ncclCommAbort(d->comm);
        d->comm = NULL;
    }
}

extern "C" void dnccl_destroy(dnccl *d)
{
    if (!d) return;
    if (d->comm) {
        /* a non-blocking communicator finalizes first (flushes its work), then goes */
        if (settle(d, ncclCommFinalize(d->comm), __FILE__, __LINE__, "ncclCommFinalize") != DY_OK && d->comm) {
            ncclCommAbort(d->comm);
            d->comm = NULL;
        }
        if (d->comm) ncclCommDestroy(d->comm);
    }
    for (int i = 0; i < d->nslots; i++)
        if (d->ev[i]) cudaEventDestroy(d->ev[i]);
    if (d->dep) cudaEventDestroy(d->dep);
    if (d->stream) cudaStreamDestroy(d->stream);
    if (d->scratch) cudaFree(d->scratch);
    free(d->ev);
    free(d);
}

extern "C" dy_status dnccl_device_alloc(int device, size_t bytes, void **out)
{
    CUDA_CHECK(cudaSetDevice(device));
    CUDA_CHECK(cudaMalloc(out, bytes));
    CUDA_CHECK(cudaMemset(*out, 0, bytes));
    return DY_OK;
}

extern "C" void dnccl_device_free(void *p)
{
    if (p) cudaFree(p);
}
