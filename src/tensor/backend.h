/* backend.h -- the compute backend interface: a table of function pointers that
 * the layers, the model and the optimizer call for every numeric operation AND for
 * every byte of memory they use, so code above the backend never branches on the
 * device.  The CPU backend (backend_cpu.c) implements it with OpenBLAS and AVX2
 * kernels on host memory; the CUDA backend (cuda/backend_cuda.cu) with cuDNN, cuBLAS
 * and its own kernels on device memory.  Pointers passed to the ops are always
 * memory from the same backend's alloc (for the CPU backend that is host memory).
 *
 * Activation layout is "CNHW": channel-major over the whole batch, i.e. element
 * (c, n, y, x) lives at ((c * N + n) * H + y) * W + x.  Every channel is one
 * contiguous row of N*H*W values, so a 1x1 stride-1 convolution over the whole batch
 * is ONE GEMM, batch norm works on contiguous rows, and a channel concatenation is a
 * set of contiguous slices that producers can write into directly.
 *
 * Errors: the ops return void so that a step is a plain sequence of calls (on a GPU
 * they are only queued).  A backend that can fail (CUDA) keeps a sticky status: the
 * first failure since start, with file:line and the library's own message; status()
 * returns it (and puts the message in err_msg()), sync() waits for queued work and
 * then does the same.  The graph checks it once per forward/backward.
 *
 * defines: tn_dtype, tn_device, tn_tensor, tn_conv_shape, tn_bn_args, tn_event,
 *          tn_backend, tn_backend_cpu, tn_backend_cpu_half, tn_backend_cpu_staged,
 *          tn_backend_cuda_open, tn_backend_cuda_close, tn_cuda_opts, tn_conv_shape_init,
 *          tn_cpu_blas_fix_coretype, tn_cpu_blas_corename, tn_half_from_float,
 *          tn_float_from_half */
#ifndef DY_TENSOR_BACKEND_H
#define DY_TENSOR_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TN_F32 = 0, TN_F16 = 1 } tn_dtype;
typedef enum { TN_CPU = 0, TN_CUDA = 1 } tn_device;

/* A view of a CNHW activation (or any flat range when h = w = 1). */
typedef struct {
    float *data;
    int c, n, h, w;
    tn_dtype dtype;   /* storage precision (TN_F16: values rounded to binary16) */
    tn_device device;
} tn_tensor;

/* Geometry of one convolution over a batch (CNHW in, CNHW out). */
typedef struct {
    int n, cin, h, w;     /* input */
    int cout, k, stride, pad, groups;
    int oh, ow;           /* output, filled by tn_conv_shape_init */
} tn_conv_shape;

/* Fills oh, ow (and groups >= 1); device-neutral (conv_shape.c). */
void tn_conv_shape_init(tn_conv_shape *s);

/* Fused batch norm + SiLU over C rows of m values each. */
typedef struct {
    int c;
    size_t m;                 /* N*H*W per channel */
    int training, act;        /* act: 1 = SiLU, 0 = identity */
    float eps, momentum;
    const float *gamma, *beta;
    float *run_mean, *run_var; /* updated in training (unbiased var, like PyTorch) */
    float *mean, *invstd;      /* saved batch statistics [c] for the backward pass */
    float *scratch;            /* [2c + 1] for the statistics reduction */
    /* Optional SyncBN hook: all-reduce n floats in place (sums; the count is the last).
     * buf is backend memory (the scratch above): the transport must match the
     * backend (NCCL on device buffers, MPI on host buffers; see rt_select). */
    void (*reduce)(float *buf, int n, void *user);
    void *reduce_user;
} tn_bn_args;

/* A completion handle: marks a point in the backend's queue of work, so that the
 * DDP hooks can launch a gradient bucket's all-reduce once its gradients are final.
 * On the CPU everything is done when the op returns. */
typedef struct tn_event tn_event;

typedef struct tn_backend {
    const char *name;
    tn_device device;
    int host_mem;   /* its memory is host memory: callers may skip upload/download */
    void (*set_threads)(int threads);

    /* ---- memory (bytes; alloc zero-fills; free(NULL) is a no-op) */
    dy_status (*alloc)(size_t bytes, void **out);
    void (*free)(void *p);
    dy_status (*upload)(void *dst, const void *host_src, size_t bytes);   /* host -> backend */
    dy_status (*download)(void *host_dst, const void *src, size_t bytes); /* backend -> host */
    void (*copy)(void *dst, const void *src, size_t bytes);               /* backend -> backend */
    void (*memset0)(void *p, size_t bytes);
    /* bytes allocated through alloc (and the backend's own scratch) now, and the most
     * since mem_reset_peak: the peak device memory of a step (memtrack.h) */
    void (*mem_stats)(size_t *in_use, size_t *peak);
    void (*mem_reset_peak)(void);
    /* ---- completion and errors */
    dy_status (*sync)(void);      /* waits for all queued work, then status() */
    dy_status (*status)(void);    /* sticky first error (message in err_msg()), or DY_OK */
    dy_status (*event_create)(tn_event **out);
    void (*event_destroy)(tn_event *e);
    void (*event_record)(tn_event *e);   /* after the work queued so far */
    dy_status (*event_wait)(tn_event *e); /* host blocks until that work is done */
    int (*event_done)(tn_event *e);      /* non-blocking: 1 when done */
    void *(*stream)(void);               /* the compute queue (cudaStream_t), NULL on the CPU */
    /* ---- input staging: the loader's batches reach the device while it computes.
     * host_alloc: page-locked host memory (DMA reads it directly; the CPU backend gives
     * plain memory; not counted by mem_stats).  upload_async: host_src (host_alloc
     * memory, kept untouched until `done`) to dst on the backend's copy queue, after
     * `after` (an event of the compute queue, or NULL), then records `done` there;
     * returns at once.  stream_wait: the compute queue waits, on the device, for e. */
    dy_status (*host_alloc)(size_t bytes, void **out);
    void (*host_free)(void *p);
    dy_status (*upload_async)(void *dst, const void *host_src, size_t bytes, tn_event *after, tn_event *done);
    void (*stream_wait)(tn_event *e);

    /* ---- convolution.  Workspace floats this backend needs for a shape, at most
     * cap_floats where it can trade speed for memory (0 for what needs none).
     * ws: workspace of ws_floats floats.  bwd_data ADDS into gx; bwd_filter writes
     * (accumulate = 0) or adds (accumulate = 1) gw and gbias. */
    size_t (*conv_workspace)(const tn_conv_shape *s, size_t cap_floats);
    void (*conv_fwd)(const tn_conv_shape *s, const float *x, const float *w, const float *bias,
                     float *y, float *ws, size_t ws_floats);
    void (*conv_bwd_data)(const tn_conv_shape *s, const float *w, const float *gy, float *gx,
                          float *ws, size_t ws_floats);
    void (*conv_bwd_filter)(const tn_conv_shape *s, const float *x, const float *gy, float *gw,
                            float *gbias, int accumulate, float *ws, size_t ws_floats);
    /* y: conv output (kept), out: normalized + activated. */
    void (*bn_act_fwd)(tn_bn_args *a, const float *y, float *out);
    /* gout -> gy (written); gamma/beta grads written or accumulated. */
    void (*bn_act_bwd)(tn_bn_args *a, const float *y, const float *gout, float *gy,
                       float *ggamma, float *gbeta, int accumulate);
    void (*maxpool_fwd)(int c, int n, int h, int w, int k, const float *x, float *y);
    void (*maxpool_bwd)(int c, int n, int h, int w, int k, const float *x, const float *gy, float *gx);
    void (*upsample2_fwd)(int c, int n, int h, int w, const float *x, float *y);
    void (*upsample2_bwd)(int c, int n, int h, int w, const float *gy, float *gx);
    void (*add)(size_t n, const float *a, const float *b, float *y); /* y = a + b */
    void (*acc)(size_t n, const float *x, float *y);                 /* y += x */
    void (*scale)(size_t n, float alpha, const float *x, float *y);  /* y = alpha x */
    void (*fill)(size_t n, float v, float *y);
    void (*sigmoid)(size_t n, const float *x, float *y);
    /* uint8 NCHW 0..255 -> f32 CNHW 0..1 (x in backend memory) */
    void (*u8_to_f32)(int n, int c, int h, int w, const uint8_t *x, float *y);
    void (*cast_f32_f16)(size_t n, const float *x, uint16_t *y);
    void (*cast_f16_f32)(size_t n, const uint16_t *x, float *y);
    void (*round_f16)(size_t n, float *x); /* f16 storage: round in place to binary16 */
    size_t (*nonfinite)(size_t n, const float *x); /* number of NaN/Inf values (synchronizes) */

    /* ---- activation storage.  The activation ops above (conv_*, bn_act_*, maxpool_*,
     * upsample2_*, u8_to_f32's output) and the act_* ops below read and write values of
     * act_dtype: f32, or IEEE binary16 on a half-storage table (their float pointers
     * then point at 2-byte values).  Parameters, their gradients, BN statistics,
     * workspaces and every other op stay f32. */
    tn_dtype act_dtype;
    /* This backend with half activation storage (AMP), or NULL where AMP is emulated
     * by rounding f32 values.  The table it returns shares this one's memory. */
    const struct tn_backend *(*half_acts)(void);
    void (*act_add)(size_t n, const void *a, const void *b, void *y); /* y = a + b */
    void (*act_acc)(size_t n, const void *x, void *y);                /* y += x */
    void (*act_from_f32)(size_t n, float alpha, const float *x, void *y); /* y = alpha x */
    void (*act_to_f32)(size_t n, const void *x, float *y);

    /* ---- flat-buffer passes of the optimizer step (kernels_hd.h holds the arithmetic) */
    /* Fused SGD(momentum, nesterov, weight decay) update over a flat range. */
    void (*sgd_update)(size_t n, float *p, const float *g, float *mom, float lr, float momentum,
                       float wd, int nesterov);
    /* AdamW with bias corrections bc1 = 1 - b1^t, bc2 = 1 - b2^t. */
    void (*adamw_update)(size_t n, float *p, const float *g, float *m, float *v, float lr, float b1,
                         float b2, float eps, float wd, float bc1, float bc2);
    /* ema = d * ema + w * src (w = 1 - d, passed so every backend rounds alike) */
    void (*ema_update)(size_t n, float d, float w, const float *src, float *ema);
    /* g *= inv; returns how many results are NaN/Inf (loss-scaler unscale + check). */
    size_t (*unscale)(size_t n, float inv, float *g);
    /* sum of squares in double, in index order on the CPU (gradient-norm clipping). */
    double (*sumsq)(size_t n, const float *x);
} tn_backend;

const tn_backend *tn_backend_cpu(void);
/* The CPU backend with half activation storage ("cpu-f16", backend_cpu_half.c): the
 * CPU reference of AMP's real half path, for tests. */
const tn_backend *tn_backend_cpu_half(void);
/* A testing device (backend_staged.c): the CPU backend with host_mem = 0, so code
 * above it takes every device path (uploads, downloads, staging) on a machine
 * without a GPU and must still give the CPU's results bit for bit. */
const tn_backend *tn_backend_cpu_staged(void);

/* CUDA backend options (runtime.* keys). */
typedef struct {
    int device;            /* CUDA device ordinal (dist_map_device) */
    int deterministic;     /* deterministic cuDNN algorithms only (runtime.deterministic) */
    size_t ws_limit_bytes; /* per-convolution workspace limit (0: 256 MiB) */
} tn_cuda_opts;

/* Opens the CUDA backend on opts->device (one per process).  DY_ENOGPU with the CUDA
 * runtime's reason when no usable GPU is there; DY_EUNSUPPORTED in a build without
 * CUDA (src/tensor/backend_cuda_none.c). */
dy_status tn_backend_cuda_open(const tn_cuda_opts *opts, const tn_backend **out);
void tn_backend_cuda_close(void);

/* OpenBLAS 0.3.21 (Debian 12) detects some virtual x86 CPUs as "Prescott" and then
 * runs its SSE3 kernels, 5-10x slower than the AVX2/AVX-512 ones.  The core type can
 * only be chosen before the library initialises, so when this happens and the CPU
 * supports AVX-512 or AVX2, this sets OPENBLAS_CORETYPE and re-executes the program
 * (argv unchanged).  Returns only when nothing had to be done or exec failed.
 * Set OPENBLAS_CORETYPE yourself to override. */
void tn_cpu_blas_fix_coretype(char **argv);
/* The BLAS core type in use (e.g. "SkylakeX"). */
const char *tn_cpu_blas_corename(void);

uint16_t tn_half_from_float(float f);
float tn_float_from_half(uint16_t h);

#ifdef __cplusplus
}
#endif

#endif
