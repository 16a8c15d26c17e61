/* backend.h -- the compute backend interface: a table of function pointers that
 * the layers and the model call for every numeric operation, so model code never
 * branches on the device.  The CPU backend (backend_cpu.c) implements it with
 * im2col + OpenBLAS SGEMM; the CUDA backend (a later issue) fills the same table.
 *
 * Activation layout is "CNHW": channel-major over the whole batch, i.e. element
 * (c, n, y, x) lives at ((c * N + n) * H + y) * W + x.  Every channel is one
 * contiguous row of N*H*W values, so a 1x1 stride-1 convolution over the whole batch
 * is ONE GEMM, batch norm works on contiguous rows, and a channel concatenation is a
 * set of contiguous slices that producers can write into directly.
 *
 * defines: tn_dtype, tn_device, tn_tensor, tn_conv_shape, tn_bn_args, tn_backend,
 *          tn_backend_cpu, tn_cpu_blas_fix_coretype,
 *          tn_cpu_blas_corename, tn_half_from_float, tn_float_from_half */
#ifndef DY_TENSOR_BACKEND_H
#define DY_TENSOR_BACKEND_H

#include <stddef.h>
#include <stdint.h>

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

void tn_conv_shape_init(tn_conv_shape *s);
/* Workspace floats the CPU backend needs for this convolution (0 for 1x1 s1 p0). */
size_t tn_conv_workspace(const tn_conv_shape *s, size_t cap_floats);

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
    /* Optional SyncBN hook: all-reduce n floats in place (sums; the count is the last). */
    void (*reduce)(float *buf, int n, void *user);
    void *reduce_user;
} tn_bn_args;

typedef struct tn_backend {
    const char *name;
    tn_device device;
    void (*set_threads)(int threads);
    /* Convolution. ws: workspace of ws_floats floats.  bwd_data ADDS into gx;
     * bwd_filter writes (accumulate = 0) or adds (accumulate = 1) gw and gbias. */
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
    /* uint8 NCHW 0..255 -> f32 CNHW 0..1 */
    void (*u8_to_f32)(int n, int c, int h, int w, const uint8_t *x, float *y);
    void (*cast_f32_f16)(size_t n, const float *x, uint16_t *y);
    void (*cast_f16_f32)(size_t n, const uint16_t *x, float *y);
    void (*round_f16)(size_t n, float *x); /* f16 storage: round in place to binary16 */
    size_t (*nonfinite)(size_t n, const float *x); /* number of NaN/Inf values */
    /* Fused SGD(momentum, nesterov, weight decay) update over a flat range. */
    void (*sgd_update)(size_t n, float *p, const float *g, float *mom, float lr, float momentum,
                       float wd, int nesterov);
} tn_backend;

const tn_backend *tn_backend_cpu(void);

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

#endif
