/* backend_cpu_half.c -- "cpu-f16": the CPU backend with half activation storage, the
 * reference for AMP's real half path.  Activations and their gradients are stored as
 * IEEE binary16 (2 bytes a value, as the CUDA backend's half table stores them); each
 * activation op widens its inputs to f32, runs the CPU backend's f32 op, and rounds
 * its outputs back, and convolutions read the filter rounded to half (autocast's
 * cast of the f32 master weights).  Weight gradients of a convolution are rounded to
 * half before they are added to the f32 gradient buffer, as cuDNN's half filter
 * gradient is.  Everything else (parameters, optimizer, BN statistics) is the CPU
 * backend's f32 table.
 *
 * What it is for: the graph and the model handle two activation widths (byte
 * offsets, staging of the Detect outputs, the f32/half boundaries); this table lets
 * the CPU test suite run all of that for real (tests/nn/test_model_half.c) and
 * compare it with the CPU's AMP emulation (f32 values rounded after each op), which
 * stays the CPU's AMP: converting costs more than it saves on a CPU.
 *
 * Temporary f32 copies are allocated per op; a failed allocation is kept as the
 * table's sticky status (the ops return void), which status()/sync() report.
 *
 * defines: tn_backend_cpu_half */
#include <stdlib.h>
#include <string.h>

#include "tensor/backend.h"

static dy_status half_err = DY_OK;

static const tn_backend *f32(void) { return tn_backend_cpu(); }

static void oom(size_t n)
{
    if (half_err == DY_OK) half_err = DY_ERR(DY_ENOMEM, "cpu-f16 backend: out of memory widening %zu values", n);
}

/* f32 copy of n half values (NULL: zero-filled), or NULL after recording OOM. */
static float *widen(const void *x, size_t n)
{
    float *y = malloc(sizeof(float) * (n ? n : 1));
    if (!y) {
        oom(n);
        return NULL;
    }
    const uint16_t *h = x;
    for (size_t i = 0; i < n; i++) y[i] = h ? tn_float_from_half(h[i]) : 0.f;
    return y;
}

static void narrow(const float *x, size_t n, void *y)
{
    uint16_t *h = y;
    for (size_t i = 0; i < n; i++) h[i] = tn_half_from_float(x[i]);
}

/* f32 values rounded to binary16 (the filter a half convolution reads). */
static float *rounded(const float *x, size_t n)
{
    float *y = malloc(sizeof(float) * (n ? n : 1));
    if (!y) {
        oom(n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) y[i] = tn_float_from_half(tn_half_from_float(x[i]));
    return y;
}

static size_t in_elems(const tn_conv_shape *s) { return (size_t)s->cin * s->n * s->h * s->w; }
static size_t filter_elems(const tn_conv_shape *s)
{
    return (size_t)s->cout * (s->cin / (s->groups > 0 ? s->groups : 1)) * s->k * s->k;
}
static size_t out_elems(const tn_conv_shape *s)
{
    tn_conv_shape t = *s;
    tn_conv_shape_init(&t);
    return (size_t)t.cout * t.n * t.oh * t.ow;
}

static void h_conv_fwd(const tn_conv_shape *s, const float *x, const float *w, const float *bias, float *y,
                       float *ws, size_t ws_floats)
{
    size_t ny = out_elems(s);
    float *xf = widen(x, in_elems(s)), *wf = rounded(w, filter_elems(s)), *yf = widen(NULL, ny);
    if (xf && wf && yf) {
        f32()->conv_fwd(s, xf, wf, bias, yf, ws, ws_floats);
        narrow(yf, ny, y);
    }
    free(xf), free(wf), free(yf);
}

static void h_conv_bwd_data(const tn_conv_shape *s, const float *w, const float *gy, float *gx, float *ws,
                            size_t ws_floats)
{
    size_t nx = in_elems(s);
    float *wf = rounded(w, filter_elems(s)), *gyf = widen(gy, out_elems(s)), *gxf = widen(gx, nx);
    if (wf && gyf && gxf) {
        f32()->conv_bwd_data(s, wf, gyf, gxf, ws, ws_floats); /* adds into gx */
        narrow(gxf, nx, gx);
    }
    free(wf), free(gyf), free(gxf);
}

static void h_conv_bwd_filter(const tn_conv_shape *s, const float *x, const float *gy, float *gw, float *gbias,
                              int accumulate, float *ws, size_t ws_floats)
{
    size_t nw = filter_elems(s);
    float *xf = widen(x, in_elems(s)), *gyf = widen(gy, out_elems(s)), *gwt = widen(NULL, nw);
    if (xf && gyf && gwt) {
        f32()->conv_bwd_filter(s, xf, gyf, gwt, gbias, accumulate, ws, ws_floats);
        for (size_t i = 0; i < nw; i++) {
            float h = tn_float_from_half(tn_half_from_float(gwt[i]));
            gw[i] = accumulate ? gw[i] + h : h;
        }
    }
    free(xf), free(gyf), free(gwt);
}

static void h_bn_act_fwd(tn_bn_args *a, const float *y, float *out)
{
    size_t n = (size_t)a->c * a->m;
    float *yf = widen(y, n), *of = widen(NULL, n);
    if (yf && of) {
        f32()->bn_act_fwd(a, yf, of);
        narrow(of, n, out);
    }
    free(yf), free(of);
}

static void h_bn_act_bwd(tn_bn_args *a, const float *y, const float *gout, float *gy, float *ggamma, float *gbeta,
                         int accumulate)
{
    size_t n = (size_t)a->c * a->m;
    float *yf = widen(y, n), *gof = widen(gout, n), *gyf = widen(NULL, n);
    if (yf && gof && gyf) {
        f32()->bn_act_bwd(a, yf, gof, gyf, ggamma, gbeta, accumulate);
        narrow(gyf, n, gy);
    }
    free(yf), free(gof), free(gyf);
}

static void h_maxpool_fwd(int c, int n, int h, int w, int k, const float *x, float *y)
{
    size_t e = (size_t)c * n * h * w;
    float *xf = widen(x, e), *yf = widen(NULL, e);
    if (xf && yf) {
        f32()->maxpool_fwd(c, n, h, w, k, xf, yf);
        narrow(yf, e, y);
    }
    free(xf), free(yf);
}

static void h_maxpool_bwd(int c, int n, int h, int w, int k, const float *x, const float *gy, float *gx)
{
    size_t e = (size_t)c * n * h * w;
    float *xf = widen(x, e), *gyf = widen(gy, e), *gxf = widen(gx, e);
    if (xf && gyf && gxf) {
        f32()->maxpool_bwd(c, n, h, w, k, xf, gyf, gxf);
        narrow(gxf, e, gx);
    }
    free(xf), free(gyf), free(gxf);
}

static void h_upsample2_fwd(int c, int n, int h, int w, const float *x, float *y)
{
    size_t e = (size_t)c * n * h * w;
    float *xf = widen(x, e), *yf = widen(NULL, 4 * e);
    if (xf && yf) {
        f32()->upsample2_fwd(c, n, h, w, xf, yf);
        narrow(yf, 4 * e, y);
    }
    free(xf), free(yf);
}

static void h_upsample2_bwd(int c, int n, int h, int w, const float *gy, float *gx)
{
    size_t e = (size_t)c * n * h * w;
    float *gyf = widen(gy, 4 * e), *gxf = widen(gx, e);
    if (gyf && gxf) {
        f32()->upsample2_bwd(c, n, h, w, gyf, gxf);
        narrow(gxf, e, gx);
    }
    free(gyf), free(gxf);
}

static void h_u8_to_f32(int n, int c, int h, int w, const uint8_t *x, float *y)
{
    size_t e = (size_t)n * c * h * w;
    float *yf = widen(NULL, e);
    if (!yf) return;
    f32()->u8_to_f32(n, c, h, w, x, yf);
    narrow(yf, e, y);
    free(yf);
}

static void h_act_add(size_t n, const void *a, const void *b, void *y)
{
    const uint16_t *ha = a, *hb = b;
    uint16_t *hy = y;
    for (size_t i = 0; i < n; i++) hy[i] = tn_half_from_float(tn_float_from_half(ha[i]) + tn_float_from_half(hb[i]));
}

static void h_act_acc(size_t n, const void *x, void *y)
{
    const uint16_t *hx = x;
    uint16_t *hy = y;
    for (size_t i = 0; i < n; i++) hy[i] = tn_half_from_float(tn_float_from_half(hy[i]) + tn_float_from_half(hx[i]));
}

static void h_act_from_f32(size_t n, float alpha, const float *x, void *y)
{
    uint16_t *hy = y;
    for (size_t i = 0; i < n; i++) hy[i] = tn_half_from_float(alpha * x[i]);
}

static void h_act_to_f32(size_t n, const void *x, float *y)
{
    const uint16_t *hx = x;
    for (size_t i = 0; i < n; i++) y[i] = tn_float_from_half(hx[i]);
}

static void h_round_f16(size_t n, float *x)
{
    (void)n, (void)x; /* stored as half already: nothing to round */
}

static dy_status h_status(void)
{
    dy_status s = half_err;
    half_err = DY_OK; /* reported once, like a fresh error */
    return s;
}

static const tn_backend *half_table(void);

static const tn_backend *h_half_acts(void) { return half_table(); }

static const tn_backend *half_table(void)
{
    static tn_backend t;
    static int made;
    if (!made) {
        t = *tn_backend_cpu();
        t.name = "cpu-f16";
        t.act_dtype = TN_F16;
        t.half_acts = h_half_acts;
        t.sync = h_status;
        t.status = h_status;
        t.conv_fwd = h_conv_fwd;
        t.conv_bwd_data = h_conv_bwd_data;
        t.conv_bwd_filter = h_conv_bwd_filter;
        t.bn_act_fwd = h_bn_act_fwd;
        t.bn_act_bwd = h_bn_act_bwd;
        t.maxpool_fwd = h_maxpool_fwd;
        t.maxpool_bwd = h_maxpool_bwd;
        t.upsample2_fwd = h_upsample2_fwd;
        t.upsample2_bwd = h_upsample2_bwd;
        t.u8_to_f32 = h_u8_to_f32;
        t.round_f16 = h_round_f16;
        t.act_add = h_act_add;
        t.act_acc = h_act_acc;
        t.act_from_f32 = h_act_from_f32;
        t.act_to_f32 = h_act_to_f32;
        made = 1;
    }
    return &t;
}

const tn_backend *tn_backend_cpu_half(void) { return half_table(); }
