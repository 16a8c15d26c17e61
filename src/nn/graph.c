/* graph.c -- building, planning and running a graph of primitive nodes on a backend
 * (see graph.h).  Layers are fused conv + BN + SiLU nodes; concatenations alias the
 * slices their producers write; the arena is planned once per input shape.
 *
 * defines: the nn_graph_* functions of graph.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timer.h"
#include "nn/graph.h"

/* Column buffers bigger than this are split into per-image chunks. */
#define NN_WS_CAP_FLOATS ((size_t)16 << 20)

dy_status nn_graph_new(nn_graph **out, const tn_backend *be)
{
    nn_graph *g = calloc(1, sizeof *g);
    if (!g) return DY_ERR(DY_ENOMEM, "out of memory allocating a graph");
    g->be = g->be_base = be;
    g->bn_eps = 1e-3f;
    g->bn_momentum = 0.03f;
    *out = g;
    return DY_OK;
}

static void free_plan(nn_graph *g)
{
    const tn_backend *be = g->be;
    be->free(g->arena);
    be->free(g->garena);
    be->free(g->ws);
    be->free(g->stats);
    nn_graph_input_free(g, 0);
    g->arena = g->garena = g->ws = g->stats = NULL;
    g->arena_cap = g->garena_cap = g->ws_cap = g->stats_cap = 0;
}

void nn_graph_free(nn_graph *g)
{
    if (!g) return;
    free(g->nodes);
    free(g->ranges);
    free(g->buf_ranges);
    g->be->free(g->params);
    g->be->free(g->grads);
    g->be->free(g->buffers);
    free_plan(g);
    nn_graph_input_free(g, 1);
    free(g);
}

static int add_node(nn_graph *g, nn_kind kind, const int *ins, int nin)
{
    if (nin > NN_MAX_IN) {
        DY_ERR(DY_EINVAL, "a node takes at most %d inputs (got %d)", NN_MAX_IN, nin);
        return -1;
    }
    for (int i = 0; i < nin; i++)
        if (ins[i] < 0 || ins[i] >= g->nnodes) {
            DY_ERR(DY_EINVAL, "node input %d does not exist (graph has %d nodes)", ins[i], g->nnodes);
            return -1;
        }
    if (g->nnodes == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        nn_node *n = realloc(g->nodes, sizeof *n * (size_t)cap);
        if (!n) {
            DY_ERR(DY_ENOMEM, "out of memory growing the graph");
            return -1;
        }
        g->nodes = n;
        g->cap = cap;
    }
    nn_node *n = &g->nodes[g->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->nin = nin;
    for (int i = 0; i < nin; i++) n->in[i] = ins[i];
    n->c = nin ? g->nodes[ins[0]].c : 0;
    n->alias_of = -1;
    return g->nnodes++;
}

static int add_range(nn_param_range **arr, int *cnt, int *cap, const char *prefix, const char *leaf,
                     size_t off, size_t count, int group)
{
    if (*cnt == *cap) {
        int nc = *cap ? 2 * *cap : 128;
        nn_param_range *r = realloc(*arr, sizeof *r * (size_t)nc);
        if (!r) return -1;
        *arr = r;
        *cap = nc;
    }
    nn_param_range *r = &(*arr)[(*cnt)++];
    snprintf(r->name, sizeof r->name, "%.72s.%.20s", prefix, leaf);
    r->offset = off;
    r->count = count;
    r->group = group;
    return 0;
}

int nn_graph_add_input(nn_graph *g, int c)
{
    int id = add_node(g, NN_INPUT, NULL, 0);
    if (id >= 0) g->nodes[id].c = c;
    return id;
}

int nn_graph_add_conv(nn_graph *g, int in, int cout, int k, int stride, int pad, int groups,
                      int bn_act, const char *prefix)
{
    if (in < 0 || in >= g->nnodes) {
        DY_ERR(DY_EINVAL, "%s: input node %d does not exist", prefix, in);
        return -1;
    }
    int cin = g->nodes[in].c;
    if (groups < 1 || cin % groups || cout % groups || k < 1 || stride < 1 || pad < 0 || cout < 1) {
        DY_ERR(DY_EINVAL, "%s: invalid convolution %d->%d k%d s%d p%d g%d", prefix, cin, cout, k,
               stride, pad, groups);
        return -1;
    }
    int id = add_node(g, NN_CONV, &in, 1);
    if (id < 0) return -1;
    nn_node *n = &g->nodes[id];
    n->c = cout;
    n->k = k;
    n->stride = stride;
    n->pad = pad;
    n->groups = groups;
    n->bn = n->act = bn_act;
    n->bias = !bn_act;
    n->poff = g->nparams;
    size_t wc = (size_t)cout * (cin / groups) * k * k;
    int bad = add_range(&g->ranges, &g->nranges, &g->rcap, prefix, bn_act ? "conv.weight" : "weight",
                        g->nparams, wc, 0);
    g->nparams += wc;
    if (bn_act) {
        bad |= add_range(&g->ranges, &g->nranges, &g->rcap, prefix, "bn.weight", g->nparams, cout, 1);
        bad |= add_range(&g->ranges, &g->nranges, &g->rcap, prefix, "bn.bias", g->nparams + cout,
                         cout, 2);
        g->nparams += 2 * (size_t)cout;
        n->boff = g->nbuffers;
        bad |= add_range(&g->buf_ranges, &g->nbuf_ranges, &g->bcap, prefix, "bn.running_mean",
                         g->nbuffers, cout, 1);
        bad |= add_range(&g->buf_ranges, &g->nbuf_ranges, &g->bcap, prefix, "bn.running_var",
                         g->nbuffers + cout, cout, 1);
        g->nbuffers += 2 * (size_t)cout;
    } else {
        bad |= add_range(&g->ranges, &g->nranges, &g->rcap, prefix, "bias", g->nparams, cout, 2);
        g->nparams += cout;
    }
    n->pcount = g->nparams - n->poff;
    if (bad) {
        DY_ERR(DY_ENOMEM, "out of memory naming parameters of %s", prefix);
        return -1;
    }
    return id;
}

int nn_graph_add_add(nn_graph *g, int a, int b)
{
    int ins[2] = {a, b};
    int id = add_node(g, NN_ADD, ins, 2);
    if (id >= 0 && g->nodes[a].c != g->nodes[b].c) {
        DY_ERR(DY_EINVAL, "add of nodes with %d and %d channels", g->nodes[a].c, g->nodes[b].c);
        return -1;
    }
    return id;
}

int nn_graph_add_maxpool(nn_graph *g, int in, int k)
{
    if (k < 1 || k % 2 == 0) {
        DY_ERR(DY_EINVAL, "max-pool kernel must be odd (stride 1, same padding), got %d", k);
        return -1;
    }
    int id = add_node(g, NN_MAXPOOL, &in, 1);
    if (id >= 0) g->nodes[id].pool_k = k;
    return id;
}

int nn_graph_add_upsample(nn_graph *g, int in)
{
    return add_node(g, NN_UPSAMPLE, &in, 1);
}

int nn_graph_add_concat(nn_graph *g, const int *ins, int nin)
{
    int id = add_node(g, NN_CONCAT, ins, nin);
    if (id < 0) return -1;
    int c = 0;
    for (int i = 0; i < nin; i++) c += g->nodes[ins[i]].c;
    g->nodes[id].c = c;
    return id;
}

/* Backend memory for n floats (at least one, so pointers are never NULL). */
static dy_status be_floats(const nn_graph *g, size_t n, float **out, const char *what)
{
    void *p = NULL;
    dy_status s = g->be->alloc(sizeof(float) * (n ? n : 1), &p);
    *out = p;
    return s == DY_OK ? DY_OK : err_wrap(s, "%s (%zu floats)", what, n);
}

/* A plan buffer of at least `bytes` (one at least): kept when it is large enough
 * (nothing reads a plan buffer before writing it: activations, scratch, workspace
 * and input are written before use, gradients zeroed by nn_graph_zero_grads), else
 * replaced by a fresh backend allocation. */
static dy_status reserve(const nn_graph *g, size_t bytes, void **buf, size_t *cap, const char *what)
{
    if (bytes == 0) bytes = 1;
    if (*buf && *cap >= bytes) return DY_OK;
    g->be->free(*buf);
    *buf = NULL, *cap = 0;
    dy_status s = g->be->alloc(bytes, buf);
    if (s != DY_OK) return err_wrap(s, "%s (%zu bytes)", what, bytes);
    *cap = bytes;
    return DY_OK;
}

static dy_status reserve_floats(const nn_graph *g, size_t n, float **buf, size_t *cap, const char *what)
{
    void *p = *buf;
    dy_status s = reserve(g, sizeof(float) * n, &p, cap, what);
    *buf = p;
    return s;
}

dy_status nn_graph_finalize(nn_graph *g)
{
    DY_TRY(be_floats(g, g->nparams, &g->params, "parameters"));
    DY_TRY(be_floats(g, g->nparams, &g->grads, "gradients"));
    DY_TRY(be_floats(g, g->nbuffers, &g->buffers, "BN buffers"));
    /* BN gamma and running var start at 1: set on the host, uploaded once */
    size_t np = g->nparams ? g->nparams : 1, nb = g->nbuffers ? g->nbuffers : 1;
    float *hp = calloc(np, sizeof(float)), *hb = calloc(nb, sizeof(float));
    if (!hp || !hb) {
        free(hp);
        free(hb);
        return DY_ERR(DY_ENOMEM, "out of memory allocating %zu parameters", g->nparams);
    }
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *n = &g->nodes[i];
        if (n->kind != NN_CONV || !n->bn) continue;
        size_t wc = n->pcount - 2 * (size_t)n->c;
        for (int c = 0; c < n->c; c++) {
            hp[n->poff + wc + c] = 1.f;
            hb[n->boff + n->c + c] = 1.f;
        }
    }
    dy_status s = g->be->upload(g->params, hp, sizeof(float) * np);
    if (s == DY_OK) s = g->be->upload(g->buffers, hb, sizeof(float) * nb);
    free(hp);
    free(hb);
    return s;
}

size_t nn_graph_act_bytes(const nn_graph *g)
{
    return g->be->act_dtype == TN_F16 ? 2 : sizeof(float);
}

/* The activation `elems` values after base (activations are act_bytes wide). */
static void *act_at(const nn_graph *g, void *base, size_t elems)
{
    return (char *)base + elems * nn_graph_act_bytes(g);
}

/* AMP on f32 storage: values rounded to binary16 after every op (the CPU). */
static int emulate_f16(const nn_graph *g)
{
    return g->f16 && g->be->act_dtype == TN_F32;
}

void nn_graph_set_f16(nn_graph *g, int f16)
{
    const tn_backend *want = f16 && g->be_base->half_acts ? g->be_base->half_acts() : g->be_base;
    g->f16 = f16;
    if (!want || want == g->be) return;
    /* a half_acts table shares its base's memory functions: the parameters stay; the
     * plan's buffers go (they were sized for the other width, and the grow-only reuse
     * would keep f32's footprint), the next plan lays the activations out again */
    free_plan(g);
    g->be = want;
}

int nn_graph_planned(const nn_graph *g, int batch, int in_h, int in_w)
{
    /* a change of activation width drops the plan (nn_graph_set_f16) */
    return g->arena && g->batch == batch && g->in_h == in_h && g->in_w == in_w;
}

static tn_conv_shape conv_shape(const nn_graph *g, const nn_node *n, int batch)
{
    const nn_node *in = &g->nodes[n->in[0]];
    tn_conv_shape s = {.n = batch, .cin = in->c, .h = in->h, .w = in->w, .cout = n->c,
                       .k = n->k, .stride = n->stride, .pad = n->pad, .groups = n->groups};
    tn_conv_shape_init(&s);
    return s;
}

void nn_graph_shapes(nn_graph *g, int in_h, int in_w)
{
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *n = &g->nodes[i];
        const nn_node *a = n->nin ? &g->nodes[n->in[0]] : NULL;
        switch (n->kind) {
        case NN_INPUT: n->h = in_h; n->w = in_w; break;
        case NN_CONV: {
            tn_conv_shape s = conv_shape(g, n, 1);
            n->h = s.oh;
            n->w = s.ow;
            break;
        }
        case NN_UPSAMPLE: n->h = 2 * a->h; n->w = 2 * a->w; break;
        default: n->h = a->h; n->w = a->w; break;
        }
    }
}

double nn_graph_macs(const nn_graph *g, int in_h, int in_w)
{
    nn_graph_shapes((nn_graph *)g, in_h, in_w);
    double macs = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const nn_node *n = &g->nodes[i];
        if (n->kind != NN_CONV) continue;
        int cin = g->nodes[n->in[0]].c;
        macs += (double)n->c * n->h * n->w * (cin / n->groups) * n->k * n->k;
        /* one MAC per output element of a conv+BN (the bias of the fused conv): with it
         * the published YOLOv5 v7.0 GFLOPs of n/s/m/l/x all match to 0.05 */
        if (n->bn) macs += 1.0 * n->c * n->h * n->w;
    }
    return macs;
}

static dy_status check_shapes(const nn_graph *g)
{
    for (int i = 0; i < g->nnodes; i++) {
        const nn_node *n = &g->nodes[i];
        if (n->h < 1 || n->w < 1)
            return DY_ERR(DY_EINVAL, "node %d has an empty output (%dx%d): input too small", i,
                          n->h, n->w);
        for (int j = 1; j < n->nin && (n->kind == NN_CONCAT || n->kind == NN_ADD); j++) {
            const nn_node *a = &g->nodes[n->in[0]], *b = &g->nodes[n->in[j]];
            if (a->h != b->h || a->w != b->w)
                return DY_ERR(DY_EINVAL,
                              "node %d joins inputs of different sizes (%dx%d and %dx%d); the "
                              "input size must be a multiple of the largest stride",
                              i, a->h, a->w, b->h, b->w);
        }
    }
    return DY_OK;
}

/* Decide which producers write straight into a concat's buffer. */
static void plan_aliases(nn_graph *g)
{
    int *ncat = calloc((size_t)(unsigned)g->nnodes + 1, sizeof(int));
    for (int i = 0; i < g->nnodes; i++) {
        g->nodes[i].alias_of = -1;
        g->nodes[i].consumers = 0;
    }
    for (int i = 0; i < g->nnodes; i++)
        for (int j = 0; j < g->nodes[i].nin; j++) {
            g->nodes[g->nodes[i].in[j]].consumers++;
            if (ncat && g->nodes[i].kind == NN_CONCAT) ncat[g->nodes[i].in[j]]++;
        }
    for (int i = 0; ncat && i < g->nnodes; i++) {
        nn_node *n = &g->nodes[i];
        if (n->kind != NN_CONCAT) continue;
        int ch = 0;
        for (int j = 0; j < n->nin; j++) {
            nn_node *p = &g->nodes[n->in[j]];
            if (p->kind != NN_INPUT && ncat[n->in[j]] == 1) {
                p->alias_of = i;
                p->alias_ch = ch;
            }
            ch += p->c;
        }
    }
    free(ncat);
}

static size_t node_floats(const nn_node *n, int batch)
{
    return (size_t)n->c * batch * n->h * n->w;
}

dy_status nn_graph_plan(nn_graph *g, int batch, int in_h, int in_w)
{
    if (nn_graph_planned(g, batch, in_h, in_w)) return DY_OK;
    nn_graph_shapes(g, in_h, in_w);
    DY_TRY(check_shapes(g));
    plan_aliases(g);
    size_t act = 0, grad = 0, tmp = 0, ws = 0, stats = 0;
    int maxc = 0;
    for (int i = 0; i < g->nnodes; i++) {
        nn_node *n = &g->nodes[i];
        size_t f = node_floats(n, batch);
        if (n->alias_of < 0) {
            act += f;
            if (n->kind != NN_INPUT) grad += f;
        }
        if (n->kind == NN_CONV) {
            tn_conv_shape s = conv_shape(g, n, batch);
            size_t w = g->be->conv_workspace(&s, NN_WS_CAP_FLOATS);
            if (w > ws) ws = w;
            if (n->bn) {
                act += f;
                if (f > tmp) tmp = f;
                stats += 2 * (size_t)n->c;
                if (n->c > maxc) maxc = n->c;
            }
        }
    }
    size_t in_bytes = (size_t)batch * g->nodes[0].c * in_h * in_w, ab = nn_graph_act_bytes(g);
    dy_status st = reserve(g, ab * act, &g->arena, &g->arena_cap, "activations");
    if (st == DY_OK) st = reserve(g, ab * (grad + tmp + 1), &g->garena, &g->garena_cap, "activation gradients");
    if (st == DY_OK) st = reserve_floats(g, ws, &g->ws, &g->ws_cap, "convolution workspace");
    if (st == DY_OK) st = reserve_floats(g, stats + 2 * (size_t)maxc + 1, &g->stats, &g->stats_cap, "BN statistics");
    if (st == DY_OK) st = nn_graph_input_reserve(g, in_bytes);
    if (st != DY_OK) {
        free_plan(g);
        return err_wrap(st, "planning activations for batch %d at %dx%d (%.1f MB)", batch, in_h, in_w,
                        ((double)ab * (act + grad + tmp) + 4.0 * ws) / 1e6);
    }
    g->arena_floats = act;
    g->garena_floats = grad + tmp;
    g->ws_floats = ws ? ws : 1;
    void *pa = g->arena, *pg = act_at(g, g->garena, tmp);
    float *ps = g->stats + 2 * (size_t)maxc + 1;
    for (int i = g->nnodes - 1; i >= 0; i--) {
        nn_node *n = &g->nodes[i];
        size_t f = node_floats(n, batch), plane = (size_t)batch * n->h * n->w;
        if (n->alias_of >= 0) {
            const nn_node *c = &g->nodes[n->alias_of];
            n->out = act_at(g, c->out, (size_t)n->alias_ch * plane);
            n->gout = act_at(g, c->gout, (size_t)n->alias_ch * plane);
        } else {
            n->out = pa;
            pa = act_at(g, pa, f);
            n->gout = NULL;
            if (n->kind != NN_INPUT) {
                n->gout = pg;
                pg = act_at(g, pg, f);
            }
        }
        if (n->kind == NN_CONV && n->bn) {
            n->pre = pa;
            pa = act_at(g, pa, f);
            n->mean = ps;
            n->invstd = ps + n->c;
            ps += 2 * (size_t)n->c;
        }
    }
    g->batch = batch;
    g->in_h = in_h;
    g->in_w = in_w;
    return DY_OK;
}

size_t nn_graph_arena_bytes(const nn_graph *g)
{
    return nn_graph_act_bytes(g) * (g->arena_floats + g->garena_floats) + sizeof(float) * g->ws_floats;
}

static tn_bn_args bn_args(nn_graph *g, nn_node *n, int training)
{
    size_t wc = n->pcount - 2 * (size_t)n->c;
    tn_bn_args a = {.c = n->c, .m = (size_t)g->batch * n->h * n->w, .training = training,
                    .act = n->act, .eps = g->bn_eps, .momentum = g->bn_momentum,
                    .gamma = g->params + n->poff + wc, .beta = g->params + n->poff + wc + n->c,
                    .run_mean = g->buffers + n->boff, .run_var = g->buffers + n->boff + n->c,
                    .mean = n->mean, .invstd = n->invstd, .scratch = g->stats,
                    .reduce = g->bn_reduce, .reduce_user = g->bn_reduce_user};
    return a;
}

static void forward_conv(nn_graph *g, nn_node *n, int training)
{
    const tn_backend *be = g->be;
    tn_conv_shape s = conv_shape(g, n, g->batch);
    const float *w = g->params + n->poff;
    size_t wc = (size_t)s.cout * (s.cin / s.groups) * s.k * s.k;
    double t0 = g->prof_conv ? timer_now() : 0;
    be->conv_fwd(&s, g->nodes[n->in[0]].out, w, n->bias ? w + wc : NULL, n->bn ? n->pre : n->out,
                 g->ws, g->ws_floats);
    if (g->prof_conv) g->prof_conv[n - g->nodes] += timer_now() - t0;
    if (n->bn) {
        tn_bn_args a = bn_args(g, n, training);
        if (emulate_f16(g)) be->round_f16(node_floats(n, g->batch), n->pre);
        be->bn_act_fwd(&a, n->pre, n->out);
    }
}

void nn_graph_forward(nn_graph *g, int training)
{
    const tn_backend *be = g->be;
    if (emulate_f16(g)) be->round_f16(node_floats(&g->nodes[0], g->batch), g->nodes[0].out);
    for (int i = 1; i < g->nnodes; i++) {
        nn_node *n = &g->nodes[i];
        const nn_node *a = &g->nodes[n->in[0]];
        size_t f = node_floats(n, g->batch);
        double t0 = g->prof_fwd ? timer_now() : 0;
        switch (n->kind) {
        case NN_CONV: forward_conv(g, n, training); break;
        case NN_ADD: be->act_add(f, a->out, g->nodes[n->in[1]].out, n->out); break;
        case NN_MAXPOOL: be->maxpool_fwd(n->c, g->batch, n->h, n->w, n->pool_k, a->out, n->out); break;
        case NN_UPSAMPLE: be->upsample2_fwd(n->c, g->batch, a->h, a->w, a->out, n->out); break;
        case NN_CONCAT: {
            size_t plane = (size_t)g->batch * n->h * n->w, ch = 0;
            for (int j = 0; j < n->nin; j++) {
                const nn_node *p = &g->nodes[n->in[j]];
                if (p->alias_of != i)
                    be->copy(act_at(g, n->out, ch * plane), p->out, p->c * plane * nn_graph_act_bytes(g));
                ch += p->c;
            }
            break;
        }
        case NN_INPUT: break;
        }
        if (emulate_f16(g) && n->kind != NN_CONCAT) be->round_f16(f, n->out);
        if (g->prof_fwd) g->prof_fwd[i] += timer_now() - t0;
    }
}

void nn_graph_zero_grads(nn_graph *g)
{
    g->be->memset0(g->garena, g->garena_floats * nn_graph_act_bytes(g));
}

static void backward_conv(nn_graph *g, nn_node *n)
{
    const tn_backend *be = g->be;
    tn_conv_shape s = conv_shape(g, n, g->batch);
    size_t wc = (size_t)s.cout * (s.cin / s.groups) * s.k * s.k;
    const nn_node *in = &g->nodes[n->in[0]];
    float *gw = g->grads + n->poff;
    const void *gy = n->gout;
    if (n->bn) {
        tn_bn_args a = bn_args(g, n, 1);
        void *tmp = g->garena; /* the shared temporary at the start of the grad arena */
        be->bn_act_bwd(&a, n->pre, n->gout, tmp, gw + wc, gw + wc + n->c, g->accumulate);
        if (emulate_f16(g)) be->round_f16(node_floats(n, g->batch), tmp);
        gy = tmp;
    }
    double t0 = g->prof_conv ? timer_now() : 0;
    be->conv_bwd_filter(&s, in->out, gy, gw, n->bias ? gw + wc : NULL, g->accumulate, g->ws,
                        g->ws_floats);
    if (in->gout && n->in[0] >= g->bwd_stop)
        be->conv_bwd_data(&s, g->params + n->poff, gy, in->gout, g->ws, g->ws_floats);
    if (g->prof_conv) g->prof_conv[n - g->nodes] += timer_now() - t0;
    if (g->grad_ready) g->grad_ready(n->poff, n->pcount, g->grad_ready_user);
}

/* Whether input j of node n still needs its gradient (frozen nodes below bwd_stop
 * do not). */
static nn_node *grad_input(nn_graph *g, const nn_node *n, int j)
{
    nn_node *p = &g->nodes[n->in[j]];
    return p->gout && n->in[j] >= g->bwd_stop ? p : NULL;
}

void nn_graph_backward(nn_graph *g)
{
    const tn_backend *be = g->be;
    int stop = g->bwd_stop > 1 ? g->bwd_stop : 1;
    for (int i = g->nnodes - 1; i >= stop; i--) {
        nn_node *n = &g->nodes[i];
        nn_node *a = &g->nodes[n->in[0]];
        size_t f = node_floats(n, g->batch);
        double t0 = g->prof_bwd ? timer_now() : 0;
        if (emulate_f16(g) && n->kind != NN_CONCAT) be->round_f16(f, n->gout);
        switch (n->kind) {
        case NN_CONV: backward_conv(g, n); break;
        case NN_ADD:
            for (int j = 0; j < 2; j++)
                if (grad_input(g, n, j)) be->act_acc(f, n->gout, g->nodes[n->in[j]].gout);
            break;
        case NN_MAXPOOL:
            if (grad_input(g, n, 0)) be->maxpool_bwd(n->c, g->batch, n->h, n->w, n->pool_k, a->out, n->gout, a->gout);
            break;
        case NN_UPSAMPLE:
            if (grad_input(g, n, 0)) be->upsample2_bwd(n->c, g->batch, a->h, a->w, n->gout, a->gout);
            break;
        case NN_CONCAT: {
            size_t plane = (size_t)g->batch * n->h * n->w, ch = 0;
            for (int j = 0; j < n->nin; j++) {
                nn_node *p = grad_input(g, n, j);
                if (p && p->alias_of != i) be->act_acc(p->c * plane, act_at(g, n->gout, ch * plane), p->gout);
                ch += g->nodes[n->in[j]].c;
            }
            break;
        }
        case NN_INPUT: break;
        }
        if (g->prof_bwd) g->prof_bwd[i] += timer_now() - t0;
    }
}
