/* backend_cuda.cu -- the CUDA backend's frame: opening the device (one compute stream,
 * cuDNN and cuBLAS handles bound to it), device memory, events, the sticky error
 * status, and the filled tn_backend table whose numeric ops live in conv_cudnn.cu
 * (convolutions) and kernels.cu (everything else).
 *
 * Ordering: every op, copy and memset is queued on the one compute stream, so they run
 * in program order without host synchronisation.  Work on other streams (the NCCL
 * transport) must order itself after it with an event (event_record / the stream()).
 * Host-visible results (download, nonfinite, unscale, sumsq, event_wait, sync)
 * synchronise.
 *
 * defines: tn_backend_cuda_open, tn_backend_cuda_close, tc (the context), tc_fail,
 *          tc_cuda_ok, tc_cudnn_ok, tc_cublas_ok, tc_scratch */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cuda_internal.h"
#include "cuda_check.h"

tc_ctx tc;

struct tn_event {
    cudaEvent_t ev;
};

/* ---- sticky status ---- */

void tc_fail(dy_status code, const char *file, int line, const char *call, const char *what)
{
    (void)cudaGetLastError(); /* a non-sticky runtime error must not resurface at the next launch check */
    if (tc.status != DY_OK) return;
    tc.status = code;
    snprintf(tc.msg, sizeof tc.msg, "%s:%d: %s failed: %s", file, line, call, what);
}

int tc_cuda_ok(cudaError_t e, const char *file, int line, const char *call)
{
    if (e == cudaSuccess) return 1;
    char what[256];
    snprintf(what, sizeof what, "%s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
    tc_fail(e == cudaErrorMemoryAllocation ? DY_ENOMEM : DY_ECUDA, file, line, call, what);
    return 0;
}

int tc_cudnn_ok(cudnnStatus_t e, const char *file, int line, const char *call)
{
    if (e == CUDNN_STATUS_SUCCESS) return 1;
    /* cuDNN 9 keeps a more specific message about the last failure */
    char detail[256] = "", what[512];
    cudnnGetLastErrorString(detail, sizeof detail);
    snprintf(what, sizeof what, "%s%s%s", cudnnGetErrorString(e), detail[0] ? ": " : "", detail);
    tc_fail(DY_ECUDA, file, line, call, what);
    return 0;
}

int tc_cublas_ok(cublasStatus_t e, const char *file, int line, const char *call)
{
    if (e == CUBLAS_STATUS_SUCCESS) return 1;
    tc_fail(DY_ECUDA, file, line, call, cublasGetStatusString(e));
    return 0;
}

static dy_status cuda_status(void)
{
    if (!tc.open) return err_set(DY_EINVAL, "cuda backend: used while not open");
    if (tc.status == DY_OK) return DY_OK;
    return err_set(tc.status, "cuda backend (device %d): %s", tc.device, tc.msg);
}

static dy_status cuda_sync(void)
{
    if (!tc.open) return cuda_status();
    TC_CUDA(cudaStreamSynchronize(tc.stream));
    return cuda_status();
}

void *tc_scratch(size_t bytes)
{
    if (bytes <= tc.scratch_bytes) return tc.scratch;
    size_t want = bytes + bytes / 4; /* headroom: the next shape is often a little larger */
    /* stream-ordered: queued kernels still reading the old buffer finish first, and
     * nothing waits for the whole device (NCCL kernels may be running) */
    if (tc.scratch) {
        (void)tn_memtrack_remove(&tc.mem, tc.scratch);
        if (!TC_CUDA(cudaFreeAsync(tc.scratch, tc.stream))) return NULL;
    }
    tc.scratch = NULL;
    tc.scratch_bytes = 0;
    cudaError_t e = cudaMallocAsync(&tc.scratch, want, tc.stream);
    if (e != cudaSuccess) {
        tc.scratch = NULL;
        (void)cudaGetLastError();
        size_t fr = 0, tot = 0;
        cudaMemGetInfo(&fr, &tot);
        char what[256];
        snprintf(what, sizeof what, "%s; %zu bytes (%.1f MiB) requested, %.1f MiB free of %.1f MiB",
                 cudaGetErrorString(e), want, (double)want / 1048576.0, (double)fr / 1048576.0,
                 (double)tot / 1048576.0);
        tc_fail(e == cudaErrorMemoryAllocation ? DY_ENOMEM : DY_ECUDA, __FILE__, __LINE__,
                "cudaMallocAsync (backend scratch)", what);
        return NULL;
    }
    tc.scratch_bytes = want;
    (void)tn_memtrack_add(&tc.mem, tc.scratch, want);
    return tc.scratch;
}

/* ---- memory ---- */

static dy_status cuda_alloc(size_t bytes, void **out)
{
    *out = NULL;
    size_t n = bytes ? bytes : 256; /* a unique non-NULL pointer even for 0 bytes */
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        size_t fr = 0, tot = 0;
        cudaMemGetInfo(&fr, &tot);
        (void)cudaGetLastError();
        return err_set(e == cudaErrorMemoryAllocation ? DY_ENOMEM : DY_ECUDA,
                       "cuda backend: cudaMalloc of %zu bytes (%.1f MiB) on device %d failed: %s; "
                       "%.1f MiB free of %.1f MiB",
                       bytes, (double)bytes / 1048576.0, tc.device, cudaGetErrorString(e),
                       (double)fr / 1048576.0, (double)tot / 1048576.0);
    }
    /* zeroed in stream order; synchronised because another stream (NCCL's broadcast of
     * the initial weights) may be the first to touch it, and allocation is not in the
     * step loop */
    e = cudaMemsetAsync(p, 0, n, tc.stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(tc.stream);
    if (e != cudaSuccess) {
        cudaFree(p);
        CUDA_CHECK(e);
    }
    (void)tn_memtrack_add(&tc.mem, p, n);
    *out = p;
    return DY_OK;
}

static void cuda_free(void *p)
{
    if (!p) return;
    (void)tn_memtrack_remove(&tc.mem, p);
    /* cudaFree waits for the device; a failure here means an earlier fault */
    TC_CUDA(cudaFree(p));
}

static void cuda_mem_stats(size_t *in_use, size_t *peak) { tn_memtrack_stats(&tc.mem, in_use, peak); }
static void cuda_mem_reset_peak(void) { tn_memtrack_reset_peak(&tc.mem); }

/* From pageable memory (malloc) the driver stages the data and returns when the
 * source may be reused; the copy is ordered on the stream like every op.  From
 * page-locked memory the copy would still be reading the source after the return, so
 * then it waits, to keep the CPU backend's contract (the source is free on return). */
static dy_status cuda_upload(void *dst, const void *src, size_t bytes)
{
    if (!bytes) return DY_OK;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, tc.stream));
    cudaPointerAttributes at;
    if (cudaPointerGetAttributes(&at, src) != cudaSuccess) {
        (void)cudaGetLastError();
        return DY_OK;
    }
    if (at.type == cudaMemoryTypeHost) CUDA_CHECK(cudaStreamSynchronize(tc.stream));
    return DY_OK;
}

static dy_status cuda_download(void *dst, const void *src, size_t bytes)
{
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, tc.stream));
    return cuda_sync(); /* the data is only worth reading when nothing before it failed */
}

static void cuda_copy(void *dst, const void *src, size_t bytes)
{
    if (bytes && dst != src) TC_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, tc.stream));
}

static void cuda_memset0(void *p, size_t bytes)
{
    if (bytes) TC_CUDA(cudaMemsetAsync(p, 0, bytes, tc.stream));
}

static void cuda_set_threads(int threads)
{
    (void)threads; /* host threads do not matter here */
}

/* ---- events ---- */

static dy_status cuda_event_create(tn_event **out)
{
    *out = NULL;
    tn_event *e = (tn_event *)calloc(1, sizeof *e);
    if (!e) return err_set(DY_ENOMEM, "cuda backend: out of memory for an event");
    cudaError_t r = cudaEventCreateWithFlags(&e->ev, cudaEventDisableTiming);
    if (r != cudaSuccess) {
        free(e);
        CUDA_CHECK(r);
    }
    *out = e;
    return DY_OK;
}

static void cuda_event_destroy(tn_event *e)
{
    if (!e) return;
    TC_CUDA(cudaEventDestroy(e->ev));
    free(e);
}

static void cuda_event_record(tn_event *e)
{
    if (e) TC_CUDA(cudaEventRecord(e->ev, tc.stream));
}

static dy_status cuda_event_wait(tn_event *e)
{
    if (e) TC_CUDA(cudaEventSynchronize(e->ev));
    return cuda_status();
}

static int cuda_event_done(tn_event *e)
{
    if (!e) return 1;
    cudaError_t r = cudaEventQuery(e->ev);
    if (r == cudaErrorNotReady) return 0;
    /* a failure counts as done so that nobody polls forever; status() reports it */
    TC_CUDA(r);
    return 1;
}

static void *cuda_stream(void)
{
    return (void *)tc.stream;
}

/* ---- input staging: page-locked batches, uploads on the copy stream ---- */

static dy_status cuda_host_alloc(size_t bytes, void **out)
{
    *out = NULL;
    cudaError_t e = cudaMallocHost(out, bytes ? bytes : 64);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        *out = NULL;
        return err_set(DY_ENOMEM, "cuda backend: cudaMallocHost of %.1f MB (page-locked input staging) failed: %s",
                       (double)bytes / 1e6, cudaGetErrorString(e));
    }
    return DY_OK;
}

static void cuda_host_free(void *p)
{
    if (p) TC_CUDA(cudaFreeHost(p));
}

static dy_status cuda_upload_async(void *dst, const void *src, size_t bytes, tn_event *after, tn_event *done)
{
    if (after) CUDA_CHECK(cudaStreamWaitEvent(tc.copy, after->ev, 0)); /* its old contents were read */
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, tc.copy));
    if (done) CUDA_CHECK(cudaEventRecord(done->ev, tc.copy));
    return DY_OK;
}

static void cuda_stream_wait(tn_event *e)
{
    if (e) TC_CUDA(cudaStreamWaitEvent(tc.stream, e->ev, 0));
}

/* ---- the table ---- */

static const tn_backend *cuda_half_acts(void);

static const tn_backend cuda_backend = {
    .name = "cuda",
    .device = TN_CUDA,
    .host_mem = 0,
    .set_threads = cuda_set_threads,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .copy = cuda_copy,
    .memset0 = cuda_memset0,
    .mem_stats = cuda_mem_stats,
    .mem_reset_peak = cuda_mem_reset_peak,
    .sync = cuda_sync,
    .status = cuda_status,
    .event_create = cuda_event_create,
    .event_destroy = cuda_event_destroy,
    .event_record = cuda_event_record,
    .event_wait = cuda_event_wait,
    .event_done = cuda_event_done,
    .stream = cuda_stream,
    .host_alloc = cuda_host_alloc,
    .host_free = cuda_host_free,
    .upload_async = cuda_upload_async,
    .stream_wait = cuda_stream_wait,
    .conv_workspace = tc_conv_workspace,
    .conv_fwd = tc_conv_fwd,
    .conv_bwd_data = tc_conv_bwd_data,
    .conv_bwd_filter = tc_conv_bwd_filter,
    .bn_act_fwd = tc_k_bn_act_fwd,
    .bn_act_bwd = tc_k_bn_act_bwd,
    .maxpool_fwd = tc_k_maxpool_fwd,
    .maxpool_bwd = tc_k_maxpool_bwd,
    .upsample2_fwd = tc_k_upsample2_fwd,
    .upsample2_bwd = tc_k_upsample2_bwd,
    .add = tc_k_add,
    .acc = tc_k_acc,
    .scale = tc_k_scale,
    .fill = tc_k_fill,
    .sigmoid = tc_k_sigmoid,
    .u8_to_f32 = tc_k_u8_to_f32,
    .cast_f32_f16 = tc_k_cast_f32_f16,
    .cast_f16_f32 = tc_k_cast_f16_f32,
    .round_f16 = tc_k_round_f16,
    .nonfinite = tc_k_nonfinite,
    .act_dtype = TN_F32,
    .half_acts = cuda_half_acts,
    .act_add = tc_k_act_add,
    .act_acc = tc_k_act_acc,
    .act_from_f32 = tc_k_act_from_f32,
    .act_to_f32 = tc_k_act_to_f32,
    .sgd_update = tc_k_sgd_update,
    .adamw_update = tc_k_adamw_update,
    .ema_update = tc_k_ema_update,
    .unscale = tc_k_unscale,
    .sumsq = tc_k_sumsq,
};

/* The half-storage table (AMP): the f32 table with the activation ops replaced.
 * Same memory, stream and handles: the graph switches tables, not buffers. */
static const tn_backend *cuda_half_acts(void)
{
    static tn_backend half;
    static int made;
    if (!made) {
        half = cuda_backend;
        half.name = "cuda-f16";
        half.act_dtype = TN_F16;
        half.half_acts = cuda_half_acts;
        half.conv_workspace = tc_h_conv_workspace;
        half.conv_fwd = tc_h_conv_fwd;
        half.conv_bwd_data = tc_h_conv_bwd_data;
        half.conv_bwd_filter = tc_h_conv_bwd_filter;
        half.bn_act_fwd = tc_h_bn_act_fwd;
        half.bn_act_bwd = tc_h_bn_act_bwd;
        half.maxpool_fwd = tc_h_maxpool_fwd;
        half.maxpool_bwd = tc_h_maxpool_bwd;
        half.upsample2_fwd = tc_h_upsample2_fwd;
        half.upsample2_bwd = tc_h_upsample2_bwd;
        half.u8_to_f32 = tc_h_u8_to_f32;
        half.act_add = tc_h_act_add;
        half.act_acc = tc_h_act_acc;
        half.act_from_f32 = tc_h_act_from_f32;
        half.act_to_f32 = tc_h_act_to_f32;
        made = 1;
    }
    return &half;
}

/* ---- open / close ---- */

static dy_status no_gpu(cudaError_t e, const char *what)
{
    (void)cudaGetLastError();
    return err_set(DY_ENOGPU, "no usable GPU for the cuda backend: %s: %s (%s)", what, cudaGetErrorString(e),
                   cudaGetErrorName(e));
}

static dy_status open_device(const tn_cuda_opts *o)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) return no_gpu(e, "cudaGetDeviceCount");
    if (n == 0) return err_set(DY_ENOGPU, "no usable GPU for the cuda backend: the CUDA runtime reports 0 devices");
    if (o->device < 0 || o->device >= n)
        return err_set(DY_ENOGPU, "no usable GPU for the cuda backend: device %d requested, %d visible "
                                  "(CUDA_VISIBLE_DEVICES=%s)",
                       o->device, n, getenv("CUDA_VISIBLE_DEVICES") ? getenv("CUDA_VISIBLE_DEVICES") : "unset");
    e = cudaSetDevice(o->device);
    if (e != cudaSuccess) return no_gpu(e, "cudaSetDevice");
    /* the first real call creates the context: a busy/prohibited device fails here */
    e = cudaFree(0);
    if (e != cudaSuccess) return no_gpu(e, "creating the CUDA context");
    tc.device = o->device;
    tc.deterministic = o->deterministic;
    tc.ws_limit = o->ws_limit_bytes ? o->ws_limit_bytes : (size_t)256 << 20;
    CUDA_CHECK(cudaDeviceGetAttribute(&tc.sms, cudaDevAttrMultiProcessorCount, o->device));
    /* non-blocking: the legacy default stream (used by stray synchronous calls) must
     * not serialise with the compute stream */
    CUDA_CHECK(cudaStreamCreateWithFlags(&tc.stream, cudaStreamNonBlocking));
    CUDA_CHECK(cudaStreamCreateWithFlags(&tc.copy, cudaStreamNonBlocking));
    CUDNN_CHECK(cudnnCreate(&tc.cudnn));
    CUDNN_CHECK(cudnnSetStream(tc.cudnn, tc.stream));
    CUBLAS_CHECK(cublasCreate(&tc.cublas));
    CUBLAS_CHECK(cublasSetStream(tc.cublas, tc.stream));
    /* plain FP32 (no TF32): results comparable with the CPU backend */
    CUBLAS_CHECK(cublasSetMathMode(tc.cublas, CUBLAS_DEFAULT_MATH));
    CUDA_CHECK(cudaMallocHost((void **)&tc.host, 4 * sizeof *tc.host));
    if (!tc_scratch((size_t)1 << 20)) return cuda_status();
    return DY_OK;
}

extern "C" dy_status tn_backend_cuda_open(const tn_cuda_opts *opts, const tn_backend **out)
{
    *out = NULL;
    tn_cuda_opts dflt = {0, 0, 0};
    const tn_cuda_opts *o = opts ? opts : &dflt;
    if (tc.open) {
        if (tc.device != o->device)
            return err_set(DY_EINVAL, "cuda backend: already open on device %d (asked for %d); one per process",
                           tc.device, o->device);
        *out = &cuda_backend;
        return DY_OK;
    }
    memset(&tc, 0, sizeof tc);
    tc.open = 1; /* so that the checks inside record into a live context */
    dy_status s = open_device(o);
    if (s != DY_OK) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", err_msg());
        tn_backend_cuda_close();
        return err_set(s, "%s", keep);
    }
    *out = &cuda_backend;
    return DY_OK;
}

extern "C" void tn_backend_cuda_close(void)
{
    if (!tc.open) return;
    if (tc.stream) cudaStreamSynchronize(tc.stream);
    if (tc.copy) cudaStreamSynchronize(tc.copy);
    tc_conv_cache_clear();
    if (tc.scratch) cudaFree(tc.scratch);
    tn_memtrack_clear(&tc.mem);
    if (tc.host) cudaFreeHost(tc.host);
    if (tc.cublas) cublasDestroy(tc.cublas);
    if (tc.cudnn) cudnnDestroy(tc.cudnn);
    if (tc.stream) cudaStreamDestroy(tc.stream);
    if (tc.copy) cudaStreamDestroy(tc.copy);
    (void)cudaGetLastError();
    memset(&tc, 0, sizeof tc);
}
