/* onnx_export.c -- implementation of onnx_export.h: walks the model's graph (fused
 * conv+BN+SiLU, add, max-pool, upsample, concat, Detect convs) and builds an ONNX
 * ModelProto with protobuf-c, then appends YOLOv5's Detect decode.
 *
 * Layout: dyolo runs CNHW internally, but the weights are stored as PyTorch's OIHW
 * and the exported graph is NCHW throughout, as YOLOv5's export is, so a conv weight
 * goes out unchanged apart from the BN fold.
 *
 * Memory: every piece of the message tree (messages, strings, arrays, tensor bytes)
 * is allocated through one builder and freed together after packing; allocation
 * failures are sticky (the builder remembers the first and the helpers return NULL),
 * so the graph code reads top to bottom and checks once per node.
 *
 * defines: onnx_export_defaults, onnx_export */
#include "io/onnx_export.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dyolo_config.h"
#include "src/io/onnx.pb-c.h"
#include "tensor/backend.h"

enum { OX_F32 = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, OX_F16 = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16,
       OX_I64 = ONNX__TENSOR_PROTO__DATA_TYPE__INT64 };

typedef struct {
    void **allocs;
    size_t nallocs, acap;
    Onnx__NodeProto **nodes;
    size_t nnodes, ncap;
    Onnx__TensorProto **inits;
    size_t ninits, icap;
    int half;  /* float initializers stored as float16 */
    int oom;
} ox_builder;

static int ox_grow(ox_builder *b, void ***arr, size_t *n, size_t *cap)
{
    if (*n < *cap) return 0;
    size_t nc = *cap ? 2 * *cap : 256;
    void **p = realloc(*arr, nc * sizeof *p);
    if (!p) return b->oom = 1, -1;
    *arr = p, *cap = nc;
    return 0;
}

static void *ox_alloc(ox_builder *b, size_t size)
{
    if (b->oom || ox_grow(b, &b->allocs, &b->nallocs, &b->acap)) return NULL;
    void *p = calloc(1, size ? size : 1);
    if (!p) return b->oom = 1, NULL;
    return b->allocs[b->nallocs++] = p;
}

static char *ox_str(ox_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *ox_str(ox_builder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : ox_alloc(b, (size_t)n + 1);
    if (!s) return b->oom = 1, NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static void ox_free(ox_builder *b)
{
    for (size_t i = 0; i < b->nallocs; i++) free(b->allocs[i]);
    free(b->allocs);
    free(b->nodes);
    free(b->inits);
}

/* ---------------------------------------------------------------- attributes */

static Onnx__AttributeProto *ox_attr(ox_builder *b, const char *name, Onnx__AttributeProto__AttributeType t)
{
    Onnx__AttributeProto *a = ox_alloc(b, sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = ox_str(b, "%s", name);
    a->has_type = 1, a->type = t;
    return a;
}

static Onnx__AttributeProto *attr_int(ox_builder *b, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = ox_attr(b, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) a->has_i = 1, a->i = v;
    return a;
}

static Onnx__AttributeProto *attr_ints(ox_builder *b, const char *name, int n, const int64_t *v)
{
    Onnx__AttributeProto *a = ox_attr(b, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *c = ox_alloc(b, sizeof *c * (size_t)n);
    if (!a || !c) return NULL;
    memcpy(c, v, sizeof *c * (size_t)n);
    a->n_ints = (size_t)n, a->ints = c;
    return a;
}

static Onnx__AttributeProto *attr_str(ox_builder *b, const char *name, const char *v)
{
    Onnx__AttributeProto *a = ox_attr(b, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    char *s = ox_str(b, "%s", v);
    if (!a || !s) return NULL;
    a->has_s = 1, a->s.data = (uint8_t *)s, a->s.len = strlen(s);
    return a;
}

/* ---------------------------------------------------------------- nodes and tensors */

/* Appends node op(ins...) -> out; attrs is a NULL-terminated list (may be NULL).
 * Returns out (so calls chain) or NULL after a failure. */
static const char *ox_node(ox_builder *b, const char *op, const char *name, const char *out, int nin,
                           const char *const *ins, Onnx__AttributeProto *const *attrs)
{
    int na = 0;
    while (attrs && attrs[na]) na++;
    for (int i = 0; i < nin; i++)
        if (!ins[i]) b->oom = 1;
    Onnx__NodeProto *n = ox_alloc(b, sizeof *n);
    char **in = ox_alloc(b, sizeof *in * (size_t)nin), **o = ox_alloc(b, sizeof *o);
    Onnx__AttributeProto **at = ox_alloc(b, sizeof *at * (size_t)(na + 1));
    if (!n || !in || !o || !at || !out || !name || ox_grow(b, (void ***)&b->nodes, &b->nnodes, &b->ncap))
        return NULL;
    onnx__node_proto__init(n);
    for (int i = 0; i < nin; i++) in[i] = (char *)ins[i];
    for (int i = 0; i < na; i++) at[i] = attrs[i];
    o[0] = (char *)out;
    n->n_input = (size_t)nin, n->input = in;
    n->n_output = 1, n->output = o;
    n->name = (char *)name, n->op_type = (char *)op;
    n->n_attribute = (size_t)na, n->attribute = at;
    b->nodes[b->nnodes++] = n;
    return out;
}

/* One-input node named after its output. */
static const char *ox_unary(ox_builder *b, const char *op, const char *out, const char *in,
                            Onnx__AttributeProto *const *attrs)
{
    return ox_node(b, op, out, out, 1, &in, attrs);
}

static const char *ox_binary(ox_builder *b, const char *op, const char *out, const char *x, const char *y)
{
    const char *in[2] = {x, y};
    return ox_node(b, op, out, out, 2, in, NULL);
}

static Onnx__TensorProto *ox_tensor(ox_builder *b, const char *name, int dtype, int nd, const int64_t *dims,
                                    size_t bytes)
{
    Onnx__TensorProto *t = ox_alloc(b, sizeof *t);
    int64_t *d = ox_alloc(b, sizeof *d * (size_t)(nd ? nd : 1));
    uint8_t *raw = ox_alloc(b, bytes);
    char *nm = name ? ox_str(b, "%s", name) : NULL; /* NULL: an earlier failure */
    if (!t || !d || !raw || !nm || ox_grow(b, (void ***)&b->inits, &b->ninits, &b->icap)) return NULL;
    onnx__tensor_proto__init(t);
    memcpy(d, dims, sizeof *d * (size_t)nd);
    t->n_dims = (size_t)nd, t->dims = d;
    t->has_data_type = 1, t->data_type = dtype;
    t->name = nm;
    t->has_raw_data = 1, t->raw_data.data = raw, t->raw_data.len = bytes;
    b->inits[b->ninits++] = t;
    return t;
}

static size_t dims_count(int nd, const int64_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)dims[i];
    return n;
}

/* ONNX raw_data is little-endian whatever the host is. */
static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A float initializer: float16 in a --half export unless keep_f32 (Resize's roi and
 * scales are float32 whatever the data type is).  Returns its name or NULL. */
static const char *ox_init_f(ox_builder *b, const char *name, int nd, const int64_t *dims, const float *v,
                             int keep_f32)
{
    size_t n = dims_count(nd, dims);
    int h = b->half && !keep_f32;
    Onnx__TensorProto *t = ox_tensor(b, name, h ? OX_F16 : OX_F32, nd, dims, n * (h ? 2 : 4));
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        if (h) put_le(t->raw_data.data + 2 * i, tn_half_from_float(v[i]), 2);
        else put_le(t->raw_data.data + 4 * i, u, 4);
    }
    return t->name;
}

static const char *ox_init_i64(ox_builder *b, const char *name, int n, const int64_t *v)
{
    int64_t d = n;
    Onnx__TensorProto *t = ox_tensor(b, name, OX_I64, 1, &d, 8 * (size_t)n);
    if (!t) return NULL;
    for (int i = 0; i < n; i++) put_le(t->raw_data.data + 8 * i, (uint64_t)v[i], 8);
    return t->name;
}

static const char *ox_scalar(ox_builder *b, const char *name, float v)
{
    return ox_init_f(b, name, 0, NULL, &v, 0);
}

/* ---------------------------------------------------------------- the graph */

typedef struct {
    ox_builder b;
    const onnx_export_opts *o;
    yolo_model *m;
    nn_graph *g;
    float *P, *B;        /* host copies of the parameters and BN buffers */
    const char **vname;  /* ONNX value holding each graph node's output */
    const char *roi, *scales; /* Resize constants, shared */
} ox_ctx;

/* The prefix of a conv's parameters: the range starting at poff is
 * "<prefix>.conv.weight" (conv+BN) or "<prefix>.weight" (Detect). */
static const char *conv_name(const ox_ctx *c, const nn_node *n, char *buf, size_t len)
{
    for (int i = 0; i < yolo_model_num_param_ranges(c->m); i++) {
        const nn_param_range *r = yolo_model_param_range(c->m, i);
        if (r->offset != n->poff) continue;
        snprintf(buf, len, "%s", r->name);
        char *dot = strrchr(buf, '.');
        if (dot) *dot = '\0';
        return buf;
    }
    snprintf(buf, len, "conv.%zu", n->poff);
    return buf;
}

/* Conv (+ folded BN) (+ SiLU as Sigmoid * x). */
static const char *emit_conv(ox_ctx *c, int i)
{
    ox_builder *b = &c->b;
    const nn_node *n = &c->g->nodes[i];
    const int cin = c->g->nodes[n->in[0]].c / n->groups, k = n->k;
    const size_t per = (size_t)cin * k * k;
    char cname[128];
    conv_name(c, n, cname, sizeof cname); /* "model.0.conv" or "model.24.m.0" */
    float *w = ox_alloc(b, sizeof *w * per * n->c), *bias = ox_alloc(b, sizeof *bias * n->c);
    if (!w || !bias) return NULL;
    const float *W = c->P + n->poff;
    double eps = c->o->fault == ONNX_FAULT_BN_EPS ? 1e-5 : c->g->bn_eps;
    for (int oc = 0; oc < n->c; oc++) {
        double sc = 1.0, sh = W[per * n->c + oc]; /* Detect: its bias */
        if (n->bn) {
            const double gamma = W[per * n->c + oc], beta = W[per * n->c + n->c + oc];
            const double mean = c->B[n->boff + oc], var = c->B[n->boff + n->c + oc];
            sc = gamma / sqrt(var + eps);
            sh = beta - mean * sc;
            if (c->o->fault == ONNX_FAULT_NO_BN_FOLD) sc = 1.0, sh = beta;
        }
        for (size_t j = 0; j < per; j++) w[oc * per + j] = (float)(W[oc * per + j] * sc);
        bias[oc] = (float)sh;
    }
    int64_t wd[4] = {n->c, cin, k, k}, bd[1] = {n->c};
    const char *wn = ox_init_f(b, ox_str(b, "%s.weight", cname), 4, wd, w, 0);
    const char *bn = ox_init_f(b, ox_str(b, "%s.bias", cname), 1, bd, bias, 0);
    int64_t ks[2] = {k, k}, st[2] = {n->stride, n->stride}, pads[4] = {n->pad, n->pad, n->pad, n->pad},
            dil[2] = {1, 1};
    Onnx__AttributeProto *at[] = {attr_ints(b, "kernel_shape", 2, ks), attr_ints(b, "strides", 2, st),
                                  attr_ints(b, "pads", 4, pads), attr_ints(b, "dilations", 2, dil),
                                  attr_int(b, "group", n->groups), NULL};
    for (int j = 0; j < 5; j++)
        if (!at[j]) return NULL;
    const char *in[3] = {c->vname[n->in[0]], wn, bn};
    const char *cn = ox_str(b, "%s", cname); /* the node keeps it: not the stack copy */
    const char *y = ox_node(b, "Conv", cn, cn, 3, in, at);
    if (!n->act || !y) return y;
    /* "model.0.conv" -> activation "model.0.act", output "model.0" (YOLOv5's module). */
    char mod[128];
    snprintf(mod, sizeof mod, "%s", cname);
    char *dot = strrchr(mod, '.');
    if (dot && !strcmp(dot, ".conv")) *dot = '\0';
    const char *s = ox_unary(b, "Sigmoid", ox_str(b, "%s.act.sigmoid", mod), y, NULL);
    return ox_binary(b, "Mul", ox_str(b, "%s", mod), y, s);
}

static const char *emit_node(ox_ctx *c, int i)
{
    ox_builder *b = &c->b;
    const nn_node *n = &c->g->nodes[i];
    switch (n->kind) {
    case NN_INPUT: return c->vname[i]; /* set by the caller */
    case NN_CONV: return emit_conv(c, i);
    case NN_ADD: return ox_binary(b, "Add", ox_str(b, "add.%d", i), c->vname[n->in[0]], c->vname[n->in[1]]);
    case NN_MAXPOOL: {
        /* stride 1, "same" padding: padded cells never win, as in dyolo and PyTorch */
        int64_t ks[2] = {n->pool_k, n->pool_k}, st[2] = {1, 1}, p = n->pool_k / 2, pads[4] = {p, p, p, p};
        Onnx__AttributeProto *at[] = {attr_ints(b, "kernel_shape", 2, ks), attr_ints(b, "strides", 2, st),
                                      attr_ints(b, "pads", 4, pads), NULL};
        return at[0] && at[1] && at[2] ? ox_unary(b, "MaxPool", ox_str(b, "maxpool.%d", i), c->vname[n->in[0]], at)
                                       : NULL;
    }
    case NN_UPSAMPLE: {
        /* Nearest x2 as PyTorch exports it: out[y] = in[floor(y / 2)]. */
        Onnx__AttributeProto *at[] = {attr_str(b, "mode", "nearest"),
                                      attr_str(b, "coordinate_transformation_mode", "asymmetric"),
                                      attr_str(b, "nearest_mode", "floor"), NULL};
        const char *in[3] = {c->vname[n->in[0]], c->roi, c->scales};
        return at[0] && at[1] && at[2] ? ox_node(b, "Resize", ox_str(b, "upsample.%d", i), ox_str(b, "upsample.%d", i),
                                                 3, in, at)
                                       : NULL;
    }
    case NN_CONCAT: {
        const char *in[NN_MAX_IN];
        for (int j = 0; j < n->nin; j++) in[j] = c->vname[n->in[j]];
        Onnx__AttributeProto *at[] = {attr_int(b, "axis", 1), NULL};
        const char *nm = ox_str(b, "concat.%d", i);
        return at[0] ? ox_node(b, "Concat", nm, nm, n->nin, in, at) : NULL;
    }
    }
    return NULL;
}

/* Slice of the last axis [lo, hi) of a 5-D value. */
static const char *slice5(ox_ctx *c, int l, const char *x, const char *what, int lo, int hi)
{
    ox_builder *b = &c->b;
    int64_t s = lo, e = hi, ax = 4;
    const char *in[4] = {x, ox_init_i64(b, ox_str(b, "det.%d.%s.starts", l, what), 1, &s),
                         ox_init_i64(b, ox_str(b, "det.%d.%s.ends", l, what), 1, &e),
                         ox_init_i64(b, ox_str(b, "det.%d.%s.axes", l, what), 1, &ax)};
    const char *nm = ox_str(b, "det.%d.%s", l, what);
    return ox_node(b, "Slice", nm, nm, 4, in, NULL);
}

/* YOLOv5 Detect.forward in export mode for level l: [b, na*no, ny, nx] ->
 * view [b, na, no, ny, nx] -> permute [b, na, ny, nx, no] -> sigmoid;
 * xy = (2 s + grid) * stride with grid = (x - 0.5, y - 0.5); wh = (2 s)^2 * anchor
 * (pixels); conf = s; -> [b, na*ny*nx, no].  Squares are Mul(t, t), not Pow: exact
 * and supported everywhere. */
static const char *emit_level(ox_ctx *c, int l)
{
    ox_builder *b = &c->b;
    const yolo_head *hd = yolo_model_head(c->m);
    const nn_node *n = &c->g->nodes[yolo_model_detect_node(c->m, l)];
    const int na = hd->na, no = 5 + hd->nc, ny = n->h, nx = n->w;
    int64_t s5[5] = {-1, na, no, ny, nx}, s3[3] = {-1, (int64_t)na * ny * nx, no}, perm[5] = {0, 1, 3, 4, 2};
    const char *x = c->vname[yolo_model_detect_node(c->m, l)];
    const char *r = ox_binary(b, "Reshape", ox_str(b, "det.%d.view", l), x,
                              ox_init_i64(b, ox_str(b, "det.%d.view.shape", l), 5, s5));
    Onnx__AttributeProto *at[] = {attr_ints(b, "perm", 5, perm), NULL};
    const char *p = at[0] ? ox_unary(b, "Transpose", ox_str(b, "det.%d.permute", l), r, at) : NULL;
    const char *s = ox_unary(b, "Sigmoid", ox_str(b, "det.%d.sigmoid", l), p, NULL);
    float *grid = ox_alloc(b, sizeof *grid * (size_t)ny * nx * 2), anc[YOLO_MAX_ANCHORS * 2];
    if (!grid) return NULL;
    float off = c->o->fault == ONNX_FAULT_GRID ? 0.f : 0.5f;
    for (int y = 0; y < ny; y++)
        for (int xx = 0; xx < nx; xx++) {
            grid[(y * nx + xx) * 2] = (float)xx - off;
            grid[(y * nx + xx) * 2 + 1] = (float)y - off;
        }
    for (int a = 0; a < na; a++) anc[2 * a] = hd->anchors[l][a][0], anc[2 * a + 1] = hd->anchors[l][a][1];
    int64_t gd[5] = {1, 1, ny, nx, 2}, ad[5] = {1, na, 1, 1, 2};
    const char *two = ox_scalar(b, ox_str(b, "det.%d.two", l), 2.f);
    const char *xy = slice5(c, l, s, "xy", 0, 2), *wh = slice5(c, l, s, "wh", 2, 4),
               *conf = slice5(c, l, s, "conf", 4, no);
    const char *xy2 = ox_binary(b, "Mul", ox_str(b, "det.%d.xy.mul2", l), xy, two);
    const char *xyg = ox_binary(b, "Add", ox_str(b, "det.%d.xy.grid", l), xy2,
                                ox_init_f(b, ox_str(b, "det.%d.grid", l), 5, gd, grid, 0));
    const char *xyo = ox_binary(b, "Mul", ox_str(b, "det.%d.xy.out", l), xyg,
                                ox_scalar(b, ox_str(b, "det.%d.stride", l), hd->stride[l]));
    const char *wh2 = ox_binary(b, "Mul", ox_str(b, "det.%d.wh.mul2", l), wh, two);
    const char *whsq = ox_binary(b, "Mul", ox_str(b, "det.%d.wh.square", l), wh2, wh2);
    const char *who = ox_binary(b, "Mul", ox_str(b, "det.%d.wh.out", l), whsq,
                                ox_init_f(b, ox_str(b, "det.%d.anchor_grid", l), 5, ad, anc, 0));
    const char *parts[3] = {xyo, who, conf};
    Onnx__AttributeProto *cat[] = {attr_int(b, "axis", 4), NULL};
    const char *nm = ox_str(b, "det.%d.cat", l);
    const char *y = cat[0] ? ox_node(b, "Concat", nm, nm, 3, parts, cat) : NULL;
    return ox_binary(b, "Reshape", ox_str(b, "det.%d.out", l), y,
                     ox_init_i64(b, ox_str(b, "det.%d.out.shape", l), 3, s3));
}

/* ---------------------------------------------------------------- model and file */

/* A float32 tensor value [batch, d1, d2, ...]; batch 0 is the symbolic "batch". */
static Onnx__ValueInfoProto *value_info(ox_builder *b, const char *name, int batch, int nd, const int64_t *d)
{
    Onnx__ValueInfoProto *v = ox_alloc(b, sizeof *v);
    Onnx__TypeProto *t = ox_alloc(b, sizeof *t);
    Onnx__TypeProto__Tensor *tt = ox_alloc(b, sizeof *tt);
    Onnx__TensorShapeProto *sh = ox_alloc(b, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = ox_alloc(b, sizeof *dims * (size_t)(nd + 1));
    if (!v || !t || !tt || !sh || !dims) return NULL;
    for (int i = 0; i <= nd; i++) {
        Onnx__TensorShapeProto__Dimension *dm = dims[i] = ox_alloc(b, sizeof *dm);
        if (!dm) return NULL;
        onnx__tensor_shape_proto__dimension__init(dm);
        if (i == 0 && batch == 0) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dm->dim_param = ox_str(b, "batch");
        } else {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm->dim_value = i == 0 ? batch : d[i - 1];
        }
    }
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)nd + 1, sh->dim = dims;
    tt->has_elem_type = 1, tt->elem_type = OX_F32, tt->shape = sh;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, t->tensor_type = tt;
    v->name = ox_str(b, "%s", name), v->type = t;
    return v->name ? v : NULL;
}

static Onnx__StringStringEntryProto *meta(ox_builder *b, const char *k, char *v)
{
    Onnx__StringStringEntryProto *e = ox_alloc(b, sizeof *e);
    if (!e || !v) return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = ox_str(b, "%s", k), e->value = v;
    return e->key ? e : NULL;
}

/* YOLOv5's "names" metadata: a Python dict literal {0: 'person', 1: 'bicycle'}, which
 * its DetectMultiBackend evaluates to get the class names back. */
static char *names_literal(ox_builder *b, const onnx_export_opts *o, int nc)
{
    size_t cap = 16;
    for (int k = 0; k < nc; k++) cap += 16 + 2 * (o->names && o->names[k] ? strlen(o->names[k]) : 8);
    char *s = ox_alloc(b, cap), *p = s;
    if (!s) return NULL;
    *p++ = '{';
    for (int k = 0; k < nc; k++) {
        p += sprintf(p, "%s%d: '", k ? ", " : "", k);
        const char *nm = o->names && o->names[k] ? o->names[k] : NULL;
        if (!nm) p += sprintf(p, "class%d", k);
        for (; nm && *nm; nm++) {
            if (*nm == '\'' || *nm == '\\') *p++ = '\\';
            *p++ = *nm;
        }
        *p++ = '\'';
    }
    strcpy(p, "}");
    return s;
}

/* The oldest IR version that carries the opset, so older runtimes accept the file. */
static int ir_version_for(int opset)
{
    return opset <= 11 ? 6 : opset <= 13 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

static dy_status check_opts(yolo_model *m, const onnx_export_opts *o)
{
    const yolo_head *hd = yolo_model_head(m);
    if (yolo_model_detect_node(m, 0) < 0)
        return DY_ERR(DY_EUNSUPPORTED, "ONNX export: the model has no Detect layer");
    if (o->opset < ONNX_EXPORT_OPSET_MIN || o->opset > ONNX_EXPORT_OPSET_MAX)
        return DY_ERR(DY_ERANGE, "ONNX export: opset %d is not supported (%d..%d)", o->opset,
                      ONNX_EXPORT_OPSET_MIN, ONNX_EXPORT_OPSET_MAX);
    if (o->batch < 0) return DY_ERR(DY_ERANGE, "ONNX export: batch %d must be >= 1 (0: dynamic)", o->batch);
    int smax = 0;
    for (int l = 0; l < hd->nl; l++) smax = (int)hd->stride[l] > smax ? (int)hd->stride[l] : smax;
    if (o->h < smax || o->w < smax || o->h % smax || o->w % smax)
        return DY_ERR(DY_EINVAL, "ONNX export: image size %dx%d must be a multiple of the model's stride %d", o->h,
                      o->w, smax);
    return DY_OK;
}

/* Builds the graph into c->b; returns the name of the output value. */
static const char *build_graph(ox_ctx *c)
{
    ox_builder *b = &c->b;
    const nn_graph *g = c->g;
    float one4[4] = {1.f, 1.f, 2.f, 2.f};
    int64_t d4 = 4, d0 = 0;
    c->roi = ox_init_f(b, "upsample.roi", 1, &d0, one4, 1); /* empty: Resize-11/12 need the input */
    c->scales = ox_init_f(b, "upsample.scales", 1, &d4, one4, 1);
    Onnx__AttributeProto *to16[] = {attr_int(b, "to", OX_F16), NULL};
    c->vname[0] = c->o->half ? ox_unary(b, "Cast", "images.f16", "images", to16) : "images";
    for (int i = 1; i < g->nnodes; i++) {
        c->vname[i] = emit_node(c, i);
        if (!c->vname[i]) return NULL;
    }
    const char *lev[YOLO_MAX_LEVELS];
    const int nl = yolo_model_head(c->m)->nl;
    for (int l = 0; l < nl; l++)
        if (!(lev[l] = emit_level(c, l))) return NULL;
    Onnx__AttributeProto *cat[] = {attr_int(b, "axis", 1), NULL};
    const char *out = c->o->half ? "output0.f16" : "output0";
    if (!cat[0] || !ox_node(b, "Concat", out, out, nl, lev, cat)) return NULL;
    Onnx__AttributeProto *to32[] = {attr_int(b, "to", OX_F32), NULL};
    return c->o->half ? ox_unary(b, "Cast", "output0", out, to32) : out;
}

static dy_status write_file(const char *path, const uint8_t *buf, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return DY_ERR(DY_EINVAL, "ONNX export: output path too long: %s", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return DY_ERR(DY_EIO, "ONNX export: cannot create %s: %s", tmp, strerror(errno));
    int ok = fwrite(buf, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        if (ok) e = errno;
        remove(tmp);
        return DY_ERR(DY_EIO, "ONNX export: writing %s failed: %s", path, strerror(e));
    }
    return DY_OK;
}

void onnx_export_defaults(onnx_export_opts *o)
{
    memset(o, 0, sizeof *o);
    o->h = o->w = 640;
    o->batch = 1;
    o->opset = 12;
}

static dy_status pack_model(ox_ctx *c, const char *out, const char *path)
{
    ox_builder *b = &c->b;
    const yolo_head *hd = yolo_model_head(c->m);
    const nn_graph *g = c->g;
    size_t anchors = 0;
    for (int l = 0; l < hd->nl; l++) {
        const nn_node *n = &g->nodes[yolo_model_detect_node(c->m, l)];
        anchors += (size_t)hd->na * n->h * n->w;
    }
    int smax = 0;
    for (int l = 0; l < hd->nl; l++) smax = (int)hd->stride[l] > smax ? (int)hd->stride[l] : smax;
    int64_t ind[3] = {g->nodes[0].c, c->o->h, c->o->w}, outd[2] = {(int64_t)anchors, 5 + hd->nc};
    Onnx__ModelProto *mp = ox_alloc(b, sizeof *mp);
    Onnx__GraphProto *gp = ox_alloc(b, sizeof *gp);
    Onnx__OperatorSetIdProto *os = ox_alloc(b, sizeof *os), **osv = ox_alloc(b, sizeof *osv);
    Onnx__ValueInfoProto **vin = ox_alloc(b, sizeof *vin), **vout = ox_alloc(b, sizeof *vout);
    Onnx__StringStringEntryProto **md = ox_alloc(b, 2 * sizeof *md);
    if (!mp || !gp || !os || !osv || !vin || !vout || !md) return DY_ERR(DY_ENOMEM, "ONNX export: out of memory");
    vin[0] = value_info(b, "images", c->o->batch, 3, ind);
    vout[0] = value_info(b, out, c->o->batch, 2, outd);
    md[0] = meta(b, "stride", ox_str(b, "%d", smax));
    md[1] = meta(b, "names", names_literal(b, c->o, hd->nc));
    onnx__graph_proto__init(gp);
    gp->name = ox_str(b, "dyolo");
    gp->n_node = b->nnodes, gp->node = b->nodes;
    gp->n_initializer = b->ninits, gp->initializer = b->inits;
    gp->n_input = 1, gp->input = vin;
    gp->n_output = 1, gp->output = vout;
    onnx__operator_set_id_proto__init(os);
    os->domain = ox_str(b, "%s", ""), os->has_version = 1, os->version = c->o->opset;
    osv[0] = os;
    onnx__model_proto__init(mp);
    mp->has_ir_version = 1, mp->ir_version = ir_version_for(c->o->opset);
    mp->n_opset_import = 1, mp->opset_import = osv;
    mp->producer_name = ox_str(b, "dyolo");
    mp->producer_version = ox_str(b, "%s", PACKAGE_VERSION);
    mp->doc_string = ox_str(b, "YOLOv5 (BN folded, Detect decode included) exported by dyolo from %s",
                            c->o->source ? c->o->source : "memory");
    mp->graph = gp;
    mp->n_metadata_props = 2, mp->metadata_props = md;
    if (b->oom || !vin[0] || !vout[0] || !md[0] || !md[1]) return DY_ERR(DY_ENOMEM, "ONNX export: out of memory");
    size_t len = onnx__model_proto__get_packed_size(mp);
    /* protobuf's hard limit; above it weights would need ONNX external data */
    if (len > 0x7fffffffu)
        return DY_ERR(DY_EUNSUPPORTED, "ONNX export: %zu bytes exceed protobuf's 2 GiB limit", len);
    uint8_t *buf = malloc(len + 1);
    if (!buf) return DY_ERR(DY_ENOMEM, "ONNX export: out of memory for %zu bytes", len);
    size_t got = onnx__model_proto__pack(mp, buf);
    dy_status s = got == len ? write_file(path, buf, len)
                             : DY_ERR(DY_EFORMAT, "ONNX export: packed %zu of %zu bytes", got, len);
    free(buf);
    return s;
}

dy_status onnx_export(yolo_model *m, const onnx_export_opts *o, const char *path)
{
    DY_TRY(check_opts(m, o));
    ox_ctx c = {.o = o, .m = m, .g = yolo_model_graph(m)};
    c.b.half = o->half;
    nn_graph *g = c.g;
    c.P = malloc(sizeof(float) * (g->nparams + 1));
    c.B = malloc(sizeof(float) * (g->nbuffers + 1));
    c.vname = calloc((size_t)g->nnodes, sizeof *c.vname);
    dy_status s = c.P && c.B && c.vname ? yolo_model_state_get(m, c.P, c.B)
                                        : DY_ERR(DY_ENOMEM, "ONNX export: out of memory");
    if (s == DY_OK) {
        nn_graph_shapes(g, o->h, o->w);
        for (int i = 0; i < g->nnodes && s == DY_OK; i++) {
            const nn_node *n = &g->nodes[i];
            for (int j = 1; j < n->nin; j++)
                if (g->nodes[n->in[j]].h != n->h || g->nodes[n->in[j]].w != n->w)
                    s = DY_ERR(DY_EINVAL, "ONNX export: node %d joins %dx%d and %dx%d at input %dx%d", i, n->h,
                               n->w, g->nodes[n->in[j]].h, g->nodes[n->in[j]].w, o->h, o->w);
        }
    }
    const char *out = s == DY_OK ? build_graph(&c) : NULL;
    if (s == DY_OK)
        s = out ? pack_model(&c, out, path) : DY_ERR(DY_ENOMEM, "ONNX export: out of memory building the graph");
    if (g->arena) nn_graph_shapes(g, g->in_h, g->in_w); /* back to the planned size */
    ox_free(&c.b);
    free(c.P);
    free(c.B);
    free(c.vname);
    if (s != DY_OK) err_wrap(s, "%s", path);
    return s;
}
