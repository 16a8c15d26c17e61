/* conv_cudnn.cu -- the CUDA backend's convolutions: cuDNN's (legacy, still shipped in
 * cuDNN 9) convolution API on the CNHW layout, with the algorithm of each direction
 * chosen once per shape and workspace limit and cached; 1x1 stride-1 convolutions as
 * cuBLAS GEMMs over the whole batch; bias add and bias gradient as per-row kernels
 * (kernels.cu), since every CNHW channel is one contiguous row.
 *
 * Layout: no transposition.  A CNHW activation is described to cuDNN as a 4-D tensor
 * with dims (N, C, H, W) and strides (H*W, N*H*W, W, 1) -- cuDNN's tensor descriptors
 * take arbitrary strides for the inputs and outputs of its convolution routines, and
 * the heuristics only return algorithms that support the layout (status SUCCESS).  A
 * layout change would cost a full read + write of every input and output per
 * convolution; the strided descriptor costs at worst a slower kernel choice, which a
 * GPU measurement can decide later (cache entries are the place to add a transpose).
 *
 * Algorithms: cudnnGet*Algorithm_v7 heuristics, in their order of expected speed,
 * keeping the first whose status is SUCCESS, whose exact workspace
 * (cudnnGet*WorkspaceSize) fits the limit, that is not a tensor-core (TF32) kernel,
 * and, with opts->deterministic, that is CUDNN_DETERMINISTIC; when none passes, the
 * first algorithm in enum order whose workspace query succeeds within the limit
 * (skipping the atomics-based ones when deterministic).  Heuristics, not Find: Find
 * runs every candidate on the device, allocates, and may pick differently from run
 * to run; a GPU measurement can show whether it pays.  The descriptors ask
 * for CUDNN_FMA_MATH: plain FP32 like the CPU backend, so the backend-parity test can
 * use FP32 tolerances.  The limit is min(the caller's workspace, ws_limit); an entry
 * is keyed by shape and limit, so conv_workspace's answer and the ops agree.
 *
 * AMP (half activation storage, the tc_h_conv_* ops at the end): the same
 * descriptors with CUDNN_DATA_HALF data and filters, f32 compute and
 * CUDNN_TENSOR_OP_MATH; 1x1 convolutions as cublasGemmEx on half inputs with f32
 * accumulation (weight gradients straight into the f32 buffer).
 *
 * defines: tc_conv_workspace, tc_conv_fwd, tc_conv_bwd_data, tc_conv_bwd_filter,
 *          tc_h_conv_workspace, tc_h_conv_fwd, tc_h_conv_bwd_data, tc_h_conv_bwd_filter,
 *          tc_conv_cache_clear */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cuda_internal.h"

typedef struct {
    tn_conv_shape s;
    int half;     /* half activations and filters, f32 compute on tensor cores */
    size_t limit; /* workspace bytes the algorithms were chosen under */
    int ok;       /* 0: no usable algorithm (already recorded) */
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    size_t fwd_ws, data_ws, filter_ws; /* bytes */
} conv_entry;

static conv_entry **cache;
static int ncache, cache_cap;

static int is_pointwise(const tn_conv_shape *s)
{
    return s->k == 1 && s->stride == 1 && s->pad == 0;
}

static int same_shape(const tn_conv_shape *a, const tn_conv_shape *b)
{
    return a->n == b->n && a->cin == b->cin && a->h == b->h && a->w == b->w && a->cout == b->cout &&
           a->k == b->k && a->stride == b->stride && a->pad == b->pad && a->groups == b->groups;
}

static void entry_free(conv_entry *e)
{
    if (!e) return;
    if (e->xd) cudnnDestroyTensorDescriptor(e->xd);
    if (e->yd) cudnnDestroyTensorDescriptor(e->yd);
    if (e->wd) cudnnDestroyFilterDescriptor(e->wd);
    if (e->cd) cudnnDestroyConvolutionDescriptor(e->cd);
    free(e);
}

void tc_conv_cache_clear(void)
{
    for (int i = 0; i < ncache; i++) entry_free(cache[i]);
    free(cache);
    cache = NULL;
    ncache = cache_cap = 0;
}

/* A CNHW activation as cuDNN's (N, C, H, W) with strides (H*W, N*H*W, W, 1). */
static int set_cnhw(cudnnTensorDescriptor_t d, cudnnDataType_t t, int n, int c, int h, int w)
{
    return TC_CUDNN(cudnnSetTensor4dDescriptorEx(d, t, n, c, h, w, h * w, n * h * w, w, 1));
}

/* cuDNN takes int dims and strides: every tensor must have fewer than 2^31 values. */
static int shape_fits(const tn_conv_shape *s)
{
    size_t in = (size_t)s->cin * s->n * s->h * s->w, out = (size_t)s->cout * s->n * s->oh * s->ow;
    if (in <= INT_MAX && out <= INT_MAX) return 1;
    char what[160];
    snprintf(what, sizeof what, "convolution of %zu -> %zu values exceeds cuDNN's 2^31 limit (batch %d, %dx%d)", in,
             out, s->n, s->h, s->w);
    tc_fail(DY_EUNSUPPORTED, __FILE__, __LINE__, "conv shape", what);
    return 0;
}

static int make_descs(conv_entry *e)
{
    const tn_conv_shape *s = &e->s;
    if (!TC_CUDNN(cudnnCreateTensorDescriptor(&e->xd)) || !TC_CUDNN(cudnnCreateTensorDescriptor(&e->yd)) ||
        !TC_CUDNN(cudnnCreateFilterDescriptor(&e->wd)) || !TC_CUDNN(cudnnCreateConvolutionDescriptor(&e->cd)))
        return 0;
    /* filters are [cout][cin/groups][k][k], cuDNN's KCRS = NCHW filter layout.  Half:
     * data half, compute f32 (cuDNN's pseudo-half configuration), tensor cores. */
    const cudnnDataType_t t = e->half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    return set_cnhw(e->xd, t, s->n, s->cin, s->h, s->w) && set_cnhw(e->yd, t, s->n, s->cout, s->oh, s->ow) &&
           TC_CUDNN(cudnnSetFilter4dDescriptor(e->wd, t, CUDNN_TENSOR_NCHW, s->cout, s->cin / s->groups, s->k,
                                               s->k)) &&
           TC_CUDNN(cudnnSetConvolution2dDescriptor(e->cd, s->pad, s->pad, s->stride, s->stride, 1, 1,
                                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT)) &&
           TC_CUDNN(cudnnSetConvolutionGroupCount(e->cd, s->groups)) &&
           TC_CUDNN(cudnnSetConvolutionMathType(e->cd, e->half ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
}

/* Whether a heuristic result is acceptable before its workspace is checked: f32
 * convolutions stay off tensor cores (TF32 would lose the CPU's precision); half ones
 * are what tensor cores are for. */
static int usable(const conv_entry *e, cudnnStatus_t st, cudnnDeterminism_t det, cudnnMathType_t math)
{
    if (st != CUDNN_STATUS_SUCCESS) return 0;
    if (tc.deterministic && det != CUDNN_DETERMINISTIC) return 0;
    return e->half || (math != CUDNN_TENSOR_OP_MATH && math != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
}

enum { MAX_ALGOS = 16 };

static void no_algo(const conv_entry *e, const char *dir)
{
    const tn_conv_shape *s = &e->s;
    char what[256];
    snprintf(what, sizeof what,
             "no %s algorithm for cin %d cout %d k %d stride %d pad %d groups %d at batch %d %dx%d within a %zu-byte "
             "workspace%s",
             dir, s->cin, s->cout, s->k, s->stride, s->pad, s->groups, s->n, s->h, s->w, e->limit,
             tc.deterministic ? " (deterministic only)" : "");
    tc_fail(DY_EUNSUPPORTED, __FILE__, __LINE__, "cuDNN algorithm choice", what);
}

/* Each *_try takes algorithm a when its exact workspace fits the entry's limit. */
static int fwd_try(conv_entry *e, cudnnConvolutionFwdAlgo_t a)
{
    size_t ws = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(tc.cudnn, e->xd, e->wd, e->cd, e->yd, a, &ws) !=
            CUDNN_STATUS_SUCCESS ||
        ws > e->limit)
        return 0;
    e->fwd = a;
    e->fwd_ws = ws;
    return 1;
}

static int data_try(conv_entry *e, cudnnConvolutionBwdDataAlgo_t a)
{
    size_t ws = 0;
    if (cudnnGetConvolutionBackwardDataWorkspaceSize(tc.cudnn, e->wd, e->yd, e->cd, e->xd, a, &ws) !=
            CUDNN_STATUS_SUCCESS ||
        ws > e->limit)
        return 0;
    e->bwd_data = a;
    e->data_ws = ws;
    return 1;
}

static int filter_try(conv_entry *e, cudnnConvolutionBwdFilterAlgo_t a)
{
    size_t ws = 0;
    if (cudnnGetConvolutionBackwardFilterWorkspaceSize(tc.cudnn, e->xd, e->yd, e->cd, e->wd, a, &ws) !=
            CUDNN_STATUS_SUCCESS ||
        ws > e->limit)
        return 0;
    e->bwd_filter = a;
    e->filter_ws = ws;
    return 1;
}

/* Heuristics first; when none of their answers passes, every algorithm in enum order
 * (cuDNN documents which ones use atomics: those are skipped when deterministic). */
static int pick_fwd(conv_entry *e)
{
    cudnnConvolutionFwdAlgoPerf_t p[MAX_ALGOS];
    int got = 0;
    if (!TC_CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(tc.cudnn, e->xd, e->wd, e->cd, e->yd, MAX_ALGOS, &got, p)))
        return 0;
    for (int i = 0; i < got; i++)
        if (usable(e, p[i].status, p[i].determinism, p[i].mathType) && fwd_try(e, p[i].algo)) return 1;
    for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; a++) /* all forward algorithms are deterministic */
        if (fwd_try(e, (cudnnConvolutionFwdAlgo_t)a)) return 1;
    no_algo(e, "forward");
    return 0;
}

static int pick_bwd_data(conv_entry *e)
{
    cudnnConvolutionBwdDataAlgoPerf_t p[MAX_ALGOS];
    int got = 0;
    if (!TC_CUDNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(tc.cudnn, e->wd, e->yd, e->cd, e->xd, MAX_ALGOS, &got,
                                                              p)))
        return 0;
    for (int i = 0; i < got; i++)
        if (usable(e, p[i].status, p[i].determinism, p[i].mathType) && data_try(e, p[i].algo)) return 1;
    for (int a = 0; a < CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT; a++) {
        if (tc.deterministic && a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0) continue;
        if (data_try(e, (cudnnConvolutionBwdDataAlgo_t)a)) return 1;
    }
    no_algo(e, "backward-data");
    return 0;
}

static int pick_bwd_filter(conv_entry *e)
{
    cudnnConvolutionBwdFilterAlgoPerf_t p[MAX_ALGOS];
    int got = 0;
    if (!TC_CUDNN(cudnnGetConvolutionBackwardFilterAlgorithm_v7(tc.cudnn, e->xd, e->yd, e->cd, e->wd, MAX_ALGOS,
                                                                &got, p)))
        return 0;
    for (int i = 0; i < got; i++)
        if (usable(e, p[i].status, p[i].determinism, p[i].mathType) && filter_try(e, p[i].algo)) return 1;
    for (int a = 0; a < CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT; a++) {
        if (a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD) continue; /* not implemented */
        if (tc.deterministic && (a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3))
            continue;
        if (filter_try(e, (cudnnConvolutionBwdFilterAlgo_t)a)) return 1;
    }
    no_algo(e, "backward-filter");
    return 0;
}

/* The cached entry for (shape, limit), created on first use.  Never NULL unless out of
 * host memory; check ->ok. */
static conv_entry *lookup(const tn_conv_shape *shape, size_t limit, int half)
{
    tn_conv_shape k = *shape;
    tn_conv_shape_init(&k); /* groups >= 1, oh, ow from the geometry */
    for (int i = 0; i < ncache; i++)
        if (cache[i]->limit == limit && cache[i]->half == half && same_shape(&cache[i]->s, &k)) return cache[i];
    if (ncache == cache_cap) {
        int cap = cache_cap ? 2 * cache_cap : 64;
        conv_entry **c = (conv_entry **)realloc(cache, sizeof *c * (size_t)cap);
        if (!c) {
            tc_fail(DY_ENOMEM, __FILE__, __LINE__, "realloc", "out of host memory for the cuDNN algorithm cache");
            return NULL;
        }
        cache = c;
        cache_cap = cap;
    }
    conv_entry *e = (conv_entry *)calloc(1, sizeof *e);
    if (!e) {
        tc_fail(DY_ENOMEM, __FILE__, __LINE__, "calloc", "out of host memory for the cuDNN algorithm cache");
        return NULL;
    }
    e->s = k;
    e->limit = limit;
    e->half = half;
    /* an entry that failed stays cached (ok = 0): the failure is recorded once */
    cache[ncache++] = e;
    e->ok = shape_fits(&e->s) && make_descs(e) && pick_fwd(e) && pick_bwd_data(e) && pick_bwd_filter(e);
    return e;
}

/* min(bytes available to the op, the configured limit); overflow-safe. */
static size_t limit_for(size_t floats)
{
    size_t b = floats > SIZE_MAX / sizeof(float) ? SIZE_MAX : floats * sizeof(float);
    return b < tc.ws_limit ? b : tc.ws_limit;
}

static conv_entry *entry_for(const tn_conv_shape *s, const void *ws, size_t ws_floats, int half)
{
    conv_entry *e = lookup(s, ws ? limit_for(ws_floats) : 0, half);
    return e && e->ok ? e : NULL;
}

static size_t cudnn_workspace(const tn_conv_shape *s, size_t cap_floats, int half)
{
    if (is_pointwise(s)) return 0;
    conv_entry *e = lookup(s, limit_for(cap_floats), half);
    if (!e || !e->ok) return 0;
    size_t b = e->fwd_ws;
    if (e->data_ws > b) b = e->data_ws;
    if (e->filter_ws > b) b = e->filter_ws;
    return (b + sizeof(float) - 1) / sizeof(float);
}

size_t tc_conv_workspace(const tn_conv_shape *s, size_t cap_floats) { return cudnn_workspace(s, cap_floats, 0); }

/* ---- 1x1 stride-1 convolutions: GEMMs over the whole batch ----
 * Row-major Y[cout][P] = W[cout][cin] X[cin][P] (P = N*H*W) is, in cuBLAS's column-major
 * terms, Y^T (P x cout, ld P) = X^T (P x cin, ld P) * W^T (cin x cout, ld cin). */

static int pw_dims(const tn_conv_shape *s, int *p)
{
    size_t pp = (size_t)s->n * s->h * s->w;
    if (pp > INT_MAX) {
        tc_fail(DY_EUNSUPPORTED, __FILE__, __LINE__, "1x1 convolution", "more than 2^31 positions per channel");
        return 0;
    }
    *p = (int)pp;
    return 1;
}

/* One GEMM of the 1x1 convolutions in cuBLAS's column-major terms, with A, B of type
 * ab and C of type ct (f32, or half with f32 accumulation on tensor cores). */
static int pw_gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void *A, int lda,
                   const void *B, int ldb, float beta, void *C, int ldc, cudaDataType_t ab, cudaDataType_t ct)
{
    const float one = 1.f;
    return TC_CUBLAS(cublasGemmEx(tc.cublas, ta, tb, m, n, k, &one, A, ab, lda, B, ab, ldb, &beta, C, ct, ldc,
                                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

static const char *at(const void *p, size_t elems, size_t esz) { return (const char *)p + elems * esz; }

/* y (CNHW, type t) = W x per group; w of type t. */
static void pw_fwd(const tn_conv_shape *s, const void *x, const void *w, void *y, cudaDataType_t t, size_t esz)
{
    int P;
    if (!pw_dims(s, &P)) return;
    const int g = s->groups, cog = s->cout / g, cig = s->cin / g;
    for (int gi = 0; gi < g; gi++)
        if (!pw_gemm(CUBLAS_OP_N, CUBLAS_OP_N, P, cog, cig, at(x, (size_t)gi * cig * P, esz), P,
                     at(w, (size_t)gi * cog * cig, esz), cig, 0.f, (void *)at(y, (size_t)gi * cog * P, esz), P, t, t))
            return;
}

/* gX[cin][P] += W^T gY: column-major gX^T (P x cin) += gY^T (P x cout) * W (cout x cin,
 * i.e. the cin x cout column-major view of W, transposed). */
static void pw_bwd_data(const tn_conv_shape *s, const void *w, const void *gy, void *gx, cudaDataType_t t, size_t esz)
{
    int P;
    if (!pw_dims(s, &P)) return;
    const int g = s->groups, cog = s->cout / g, cig = s->cin / g;
    for (int gi = 0; gi < g; gi++)
        if (!pw_gemm(CUBLAS_OP_N, CUBLAS_OP_T, P, cig, cog, at(gy, (size_t)gi * cog * P, esz), P,
                     at(w, (size_t)gi * cog * cig, esz), cig, 1.f, (void *)at(gx, (size_t)gi * cig * P, esz), P, t, t))
            return;
}

/* gW[cout][cin] (+)= gY X^T: column-major gW^T (cin x cout, ld cin) = X^T^T (cin x P)
 * * gY^T (P x cout).  gW is always f32 (half inputs accumulate into it directly). */
static void pw_bwd_filter(const tn_conv_shape *s, const void *x, const void *gy, float *gw, int accumulate,
                          cudaDataType_t t, size_t esz)
{
    int P;
    if (!pw_dims(s, &P)) return;
    const int g = s->groups, cog = s->cout / g, cig = s->cin / g;
    for (int gi = 0; gi < g; gi++)
        if (!pw_gemm(CUBLAS_OP_T, CUBLAS_OP_N, cig, cog, P, at(x, (size_t)gi * cig * P, esz), P,
                     at(gy, (size_t)gi * cog * P, esz), P, accumulate ? 1.f : 0.f, gw + (size_t)gi * cog * cig, cig,
                     t, CUDA_R_32F))
            return;
}

/* ---- the table's convolution ops, f32 and half activation storage ----
 * Half (AMP): the workspace starts with a half copy of the filter (cast from the f32
 * master weights each call, as autocast does; also where a cuDNN filter gradient
 * lands in half before it is added to the f32 gradient), padded to 256 bytes;
 * cuDNN's own workspace follows.  f32: cuDNN has the whole workspace. */

static size_t out_per_channel(const tn_conv_shape *s)
{
    tn_conv_shape t = *s;
    tn_conv_shape_init(&t);
    return (size_t)t.n * t.oh * t.ow;
}

static size_t filter_elems(const tn_conv_shape *s)
{
    return (size_t)s->cout * (s->cin / (s->groups > 0 ? s->groups : 1)) * s->k * s->k;
}

static size_t half_hdr_floats(const tn_conv_shape *s)
{
    size_t bytes = (filter_elems(s) * 2 + 255) & ~(size_t)255;
    return bytes / sizeof(float);
}

/* What one op works with: the element type of its data, and cuDNN's part of ws. */
typedef struct {
    int half;
    cudaDataType_t t;
    size_t esz;
    float *cws;  /* cuDNN's workspace */
    size_t left; /* its size in floats */
} conv_mode;

static conv_mode mode_of(const tn_conv_shape *s, int half, float *ws, size_t ws_floats)
{
    conv_mode m = {half, half ? CUDA_R_16F : CUDA_R_32F, half ? (size_t)2 : sizeof(float), ws, ws_floats};
    if (half) {
        size_t hdr = half_hdr_floats(s);
        m.left = ws_floats > hdr ? ws_floats - hdr : 0;
        m.cws = ws + hdr;
    }
    return m;
}

/* The filter the op reads: w itself, or its half copy cast into the workspace. */
static const void *filter_of(const tn_conv_shape *s, const conv_mode *m, const float *w, float *ws)
{
    if (!m->half) return w;
    tc_h_weights_to_half(filter_elems(s), w, ws);
    return ws;
}

static void conv_fwd(const tn_conv_shape *s, const float *x, const float *w, const float *bias, float *y, float *ws,
                     size_t ws_floats, int half)
{
    conv_mode m = mode_of(s, half, ws, ws_floats);
    const void *wf = filter_of(s, &m, w, ws);
    if (is_pointwise(s)) {
        pw_fwd(s, x, wf, y, m.t, m.esz);
    } else {
        conv_entry *e = entry_for(s, m.cws, m.left, half);
        if (!e) return;
        const float one = 1.f, zero = 0.f;
        if (!TC_CUDNN(cudnnConvolutionForward(tc.cudnn, &one, e->xd, x, e->wd, wf, e->cd, e->fwd,
                                              e->fwd_ws ? m.cws : NULL, e->fwd_ws, &zero, e->yd, y)))
            return;
    }
    if (bias && half) tc_h_bias_add(s->cout, out_per_channel(s), bias, y);
    else if (bias) tc_k_bias_add(s->cout, out_per_channel(s), bias, y);
}

static void conv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                          size_t ws_floats, int half)
{
    conv_mode m = mode_of(s, half, ws, ws_floats);
    const void *wf = filter_of(s, &m, w, ws);
    if (is_pointwise(s)) {
        pw_bwd_data(s, wf, gy, gx, m.t, m.esz);
        return;
    }
    conv_entry *e = entry_for(s, m.cws, m.left, half);
    if (!e) return;
    const float one = 1.f; /* beta = 1: the gradient ACCUMULATES into gx */
    TC_CUDNN(cudnnConvolutionBackwardData(tc.cudnn, &one, e->wd, wf, e->yd, gy, e->cd, e->bwd_data,
                                          e->data_ws ? m.cws : NULL, e->data_ws, &one, e->xd, gx));
}

static void conv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, float *gbias,
                            int accumulate, float *ws, size_t ws_floats, int half)
{
    conv_mode m = mode_of(s, half, ws, ws_floats);
    if (is_pointwise(s)) {
        pw_bwd_filter(s, x, gy, gw, accumulate, m.t, m.esz); /* half: accumulated in f32 */
    } else {
        conv_entry *e = entry_for(s, m.cws, m.left, half);
        if (!e) return;
        /* cuDNN's filter gradient has the data's type: half lands in the workspace */
        void *dw = half ? (void *)ws : (void *)gw;
        const float one = 1.f, beta = accumulate && !half ? 1.f : 0.f;
        if (!TC_CUDNN(cudnnConvolutionBackwardFilter(tc.cudnn, &one, e->xd, x, e->yd, gy, e->cd, e->bwd_filter,
                                                     e->filter_ws ? m.cws : NULL, e->filter_ws, &beta, e->wd, dw)))
            return;
        if (half) tc_h_add_to_f32(filter_elems(s), ws, gw, accumulate);
    }
    if (gbias && half) tc_h_row_sum(s->cout, out_per_channel(s), gy, gbias, accumulate);
    else if (gbias) tc_row_sum(s->cout, out_per_channel(s), gy, gbias, accumulate);
}

void tc_conv_fwd(const tn_conv_shape *s, const float *x, const float *w, const float *bias, float *y, float *ws,
                 size_t ws_floats)
{
    conv_fwd(s, x, w, bias, y, ws, ws_floats, 0);
}

void tc_conv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                      size_t ws_floats)
{
    conv_bwd_data(s, w, gy, gx, ws, ws_floats, 0);
}

void tc_conv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, float *gbias,
                        int accumulate, float *ws, size_t ws_floats)
{
    conv_bwd_filter(s, x, gy, gw, gbias, accumulate, ws, ws_floats, 0);
}

size_t tc_h_conv_workspace(const tn_conv_shape *s, size_t cap_floats)
{
    size_t hdr = half_hdr_floats(s);
    return hdr + cudnn_workspace(s, cap_floats > hdr ? cap_floats - hdr : 0, 1);
}

void tc_h_conv_fwd(const tn_conv_shape *s, const float *x, const float *w, const float *bias, float *y, float *ws,
                   size_t ws_floats)
{
    conv_fwd(s, x, w, bias, y, ws, ws_floats, 1);
}

void tc_h_conv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                        size_t ws_floats)
{
    conv_bwd_data(s, w, gy, gx, ws, ws_floats, 1);
}

void tc_h_conv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, float *gbias,
                          int accumulate, float *ws, size_t ws_floats)
{
    conv_bwd_filter(s, x, gy, gw, gbias, accumulate, ws, ws_floats, 1);
}
