/* model_run.c -- running a yolo_model: planning, forward, loss, backward with the
 * gradient-ready hook and loss scaling, inference decode, accessors and the summary.
 *
 * The loss and the decode run on the host.  On a device backend the forward pass
 * downloads the Detect outputs (and nothing else) and backward uploads their
 * gradients: 2 x 4 x (5 + nc) x anchors x batch bytes per step, e.g. 12.9 MB each way
 * for yolov5n, nc 3, 640 px, batch 16 (yolo_model_loss_transfer_bytes).  Objectness
 * and class rows are contiguous in CNHW, so this is one copy per level.
 *
 * defines: yolo_model_plan, yolo_model_forward, yolo_model_prefetch, yolo_model_loss, yolo_model_eval_loss,
 *          yolo_model_backward,
 *          yolo_model_decode, yolo_model_summary, yolo_model_state_get/put and the
 *          accessors of model.h */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

void yolo_model_set_opts(yolo_model *m, const yolo_model_opts *o)
{
    int prev_threads = m->opts.threads;
    m->opts = *o;
    if (m->opts.loss_scale == 0.f) m->opts.loss_scale = 1.f;
    nn_graph *g = m->g;
    nn_graph_set_f16(g, o->f16); /* half activation storage where the backend has it */
    g->accumulate = o->accumulate;
    g->grad_ready = o->grad_ready;
    g->grad_ready_user = o->grad_ready_user;
    g->bn_reduce = o->bn_reduce;
    g->bn_reduce_user = o->bn_reduce_user;
    m->lws.count_reduce = o->count_reduce;
    m->lws.count_reduce_user = o->count_reduce_user;
    /* Called every micro-step (accumulate, loss scale): resize the pool only on change. */
    if (o->threads > 0 && o->threads != prev_threads) g->be->set_threads(o->threads);
}

yolo_model_opts *yolo_model_opts_ptr(yolo_model *m) { return &m->opts; }

/* Whether the Detect outputs travel through f32 staging buffers: on a device, and
 * wherever activations are stored as half (the loss reads f32). */
static int staged_io(const tn_backend *be)
{
    return !be->host_mem || be->act_dtype != TN_F32;
}

/* Host gradient of the Detect outputs; when staged (staged_io) also the host copy of
 * the outputs and a backend f32 buffer that carries the outputs down (half storage)
 * and the gradient up. */
static dy_status plan_detect_io(yolo_model *m, size_t tot)
{
    const tn_backend *be = m->g->be;
    free(m->dout);
    free(m->hout);
    be->free(m->ddev);
    m->hout = m->ddev = NULL;
    m->det_floats = tot;
    m->dout = malloc(sizeof(float) * (tot + 1));
    if (!m->dout) return DY_ERR(DY_ENOMEM, "out of memory for the loss gradient");
    if (staged_io(be)) {
        void *p = NULL;
        m->hout = malloc(sizeof(float) * (tot + 1));
        if (!m->hout) return DY_ERR(DY_ENOMEM, "out of memory for the Detect outputs");
        DY_TRY_CTX(be->alloc(sizeof(float) * (tot + 1), &p), "the loss gradient on %s", be->name);
        m->ddev = p;
    }
    size_t off = 0;
    for (int l = 0; m->has_detect && l < m->head.nl; l++) {
        const nn_node *n = &m->g->nodes[m->det[l]];
        m->dlev[l] = m->dout + off;
        m->hlev[l] = m->hout ? m->hout + off : (float *)n->out;
        off += (size_t)n->c * m->g->batch * n->h * n->w;
    }
    return DY_OK;
}

dy_status yolo_model_plan(yolo_model *m, int batch, int h, int w)
{
    if (batch < 1 || h < 1 || w < 1)
        return DY_ERR(DY_EINVAL, "model %s: invalid input shape %dx%dx%d", m->name, batch, h, w);
    int same = nn_graph_planned(m->g, batch, h, w);
    DY_TRY_CTX(nn_graph_plan(m->g, batch, h, w), "model %s", m->name);
    if (same) return DY_OK;
    size_t tot = 0;
    for (int l = 0; m->has_detect && l < m->head.nl; l++) {
        const nn_node *n = &m->g->nodes[m->det[l]];
        m->head.ny[l] = n->h;
        m->head.nx[l] = n->w;
        tot += (size_t)n->c * batch * n->h * n->w;
    }
    m->head.batch = batch;
    DY_TRY(plan_detect_io(m, tot));
    int imgsz = h > w ? h : w;
    if (!m->hyp_pinned && imgsz != m->hyp_imgsz) {
        float ls = m->hyp.label_smoothing, at = m->hyp.anchor_t;
        yolo_loss_hyp_default(&m->hyp, m->head.nc, imgsz, m->head.nl);
        m->hyp.label_smoothing = ls;
        m->hyp.anchor_t = at;
        m->hyp_imgsz = imgsz;
    }
    return DY_OK;
}

dy_status yolo_model_forward(yolo_model *m, const uint8_t *images, int training)
{
    nn_graph *g = m->g;
    if (!g->batch) return DY_ERR(DY_EINVAL, "model %s: forward before yolo_model_plan", m->name);
    /* AMP switched the activation width since the plan (yolo_model_set_opts) */
    if (!nn_graph_planned(g, g->batch, g->in_h, g->in_w)) DY_TRY(yolo_model_plan(m, g->batch, g->in_h, g->in_w));
    const tn_backend *be = g->be;
    if (images) DY_TRY_CTX(nn_graph_set_input_u8(g, images), "model %s", m->name);
    nn_graph_forward(g, training);
    if (!staged_io(be)) return DY_OK;
    size_t off = 0;
    for (int l = 0; m->has_detect && l < m->head.nl; l++) {
        const nn_node *n = &g->nodes[m->det[l]];
        size_t f = (size_t)n->c * g->batch * n->h * n->w;
        if (be->act_dtype == TN_F32) {
            DY_TRY_CTX(be->download(m->hout + off, n->out, sizeof(float) * f), "model %s: Detect output %d", m->name, l);
        } else {
            be->act_to_f32(f, n->out, m->ddev + off); /* widened on the backend, one download below */
        }
        off += f;
    }
    if (be->act_dtype != TN_F32 && off)
        DY_TRY_CTX(be->download(m->hout, m->ddev, sizeof(float) * off), "model %s: Detect outputs", m->name);
    DY_TRY_CTX(be->status(), "model %s: forward on %s", m->name, be->name);
    return DY_OK;
}

dy_status yolo_model_prefetch(yolo_model *m, const uint8_t *images, int n, int h, int w)
{
    DY_TRY_CTX(nn_graph_prefetch_u8(m->g, images, n, h, w), "model %s", m->name);
    return DY_OK;
}

dy_status yolo_model_loss(yolo_model *m, const float *targets, int nt, yolo_loss_parts *parts)
{
    if (!m->has_detect) return DY_ERR(DY_EINVAL, "model %s has no Detect layer: no loss", m->name);
    const float *outs[YOLO_MAX_LEVELS];
    for (int l = 0; l < m->head.nl; l++) outs[l] = m->hlev[l];
    DY_TRY(yolo_loss_compute(&m->head, &m->hyp, outs, m->dlev, targets, nt, &m->lws, parts));
    if (!isfinite(parts->total))
        return DY_ERR(DY_ERANGE, "model %s: the loss is not finite (box %g obj %g cls %g)", m->name,
                      parts->box, parts->obj, parts->cls);
    return DY_OK;
}

/* The Detect outputs of the first n images of the planned batch, compacted into
 * buf (the outputs are CNHW: an image is not a prefix), for a loss over n images. */
static void compact_outputs(const yolo_model *m, int n, float *buf, const float **outs)
{
    const yolo_head *hd = &m->head;
    const int no = 5 + hd->nc;
    for (int l = 0; l < hd->nl; l++) {
        size_t img = (size_t)hd->ny[l] * hd->nx[l], full = img * hd->batch, part = img * (size_t)n;
        for (size_t r = 0; r < (size_t)hd->na * no; r++) memcpy(buf + r * part, m->hlev[l] + r * full, sizeof(float) * part);
        outs[l] = buf;
        buf += (size_t)hd->na * no * part;
    }
}

dy_status yolo_model_eval_loss(yolo_model *m, const float *targets, int nt, int n, yolo_loss_parts *parts)
{
    if (!m->has_detect) return DY_ERR(DY_EINVAL, "model %s has no Detect layer: no loss", m->name);
    if (n < 1 || n > m->head.batch)
        return DY_ERR(DY_EINVAL, "model %s: loss over %d images of a batch of %d", m->name, n, m->head.batch);
    yolo_head hd = m->head;
    hd.batch = n;
    size_t fl = m->det_floats / (size_t)m->head.batch * (size_t)n;
    /* outputs (when compacted) and the gradient the loss writes, which nothing reads */
    float *buf = malloc(sizeof(float) * 2 * fl + 1);
    if (!buf) return DY_ERR(DY_ENOMEM, "model %s: out of memory for the validation loss", m->name);
    const float *outs[YOLO_MAX_LEVELS];
    float *grad[YOLO_MAX_LEVELS];
    if (n < m->head.batch) compact_outputs(m, n, buf + fl, outs);
    else for (int l = 0; l < hd.nl; l++) outs[l] = m->hlev[l];
    float *g = buf;
    for (int l = 0; l < hd.nl; l++) {
        grad[l] = g;
        g += (size_t)hd.na * (5 + hd.nc) * hd.ny[l] * hd.nx[l] * (size_t)n;
    }
    yolo_loss_ws ws = {0}; /* own workspace, no count_reduce: ranks validate different batches */
    dy_status s = yolo_loss_compute(&hd, &m->hyp, outs, grad, targets, nt, &ws, parts);
    yolo_loss_ws_free(&ws);
    free(buf);
    return s;
}

dy_status yolo_model_backward(yolo_model *m)
{
    nn_graph *g = m->g;
    const tn_backend *be = g->be;
    nn_graph_zero_grads(g);
    if (m->ddev) DY_TRY_CTX(be->upload(m->ddev, m->dout, sizeof(float) * m->det_floats), "model %s: loss gradient", m->name);
    size_t off = 0;
    for (int l = 0; m->has_detect && l < m->head.nl; l++) {
        nn_node *n = &g->nodes[m->det[l]];
        size_t f = (size_t)n->c * g->batch * n->h * n->w;
        be->act_from_f32(f, m->opts.loss_scale, m->ddev ? m->ddev + off : m->dlev[l], n->gout);
        off += f;
    }
    nn_graph_backward(g);
    DY_TRY_CTX(be->status(), "model %s: backward on %s", m->name, be->name);
    return DY_OK;
}

size_t yolo_model_loss_transfer_bytes(const yolo_model *m)
{
    return m->g->be->host_mem ? 0 : 2 * sizeof(float) * m->det_floats;
}

const tn_backend *yolo_model_backend(const yolo_model *m) { return m->g->be; }

dy_status yolo_model_state_get(const yolo_model *m, float *params, float *buffers)
{
    const nn_graph *g = m->g;
    if (params) DY_TRY_CTX(g->be->download(params, g->params, sizeof(float) * g->nparams), "model %s: parameters", m->name);
    if (buffers) DY_TRY_CTX(g->be->download(buffers, g->buffers, sizeof(float) * g->nbuffers), "model %s: BN buffers", m->name);
    return DY_OK;
}

dy_status yolo_model_state_put(yolo_model *m, const float *params, const float *buffers)
{
    nn_graph *g = m->g;
    if (params) DY_TRY_CTX(g->be->upload(g->params, params, sizeof(float) * g->nparams), "model %s: parameters", m->name);
    if (buffers) DY_TRY_CTX(g->be->upload(g->buffers, buffers, sizeof(float) * g->nbuffers), "model %s: BN buffers", m->name);
    return DY_OK;
}

size_t yolo_model_num_anchors_total(const yolo_model *m)
{
    size_t a = 0;
    for (int l = 0; l < m->head.nl; l++) a += (size_t)m->head.na * m->head.ny[l] * m->head.nx[l];
    return a;
}

static inline float sigmf(float x) { return 1.f / (1.f + expf(-x)); }

void yolo_model_decode(const yolo_model *m, float *out)
{
    const int no = 5 + m->head.nc, B = m->head.batch;
    const size_t at = yolo_model_num_anchors_total(m);
    size_t base = 0;
    for (int l = 0; l < m->head.nl; l++) {
        const int ny = m->head.ny[l], nx = m->head.nx[l];
        const size_t plane = (size_t)B * ny * nx;
        const float *o = m->hlev[l], s = m->head.stride[l];
        for (int b = 0; b < B; b++)
            for (int a = 0; a < m->head.na; a++)
                for (int y = 0; y < ny; y++)
                    for (int x = 0; x < nx; x++) {
                        size_t cell = ((size_t)b * ny + y) * nx + x;
                        float *d = out + ((size_t)b * at + base + ((size_t)a * ny + y) * nx + x) * no;
                        const float *p = o + (size_t)a * no * plane + cell;
                        float sx = sigmf(p[0]), sy = sigmf(p[plane]), sw = sigmf(p[2 * plane]),
                              sh = sigmf(p[3 * plane]);
                        d[0] = (2.f * sx - 0.5f + x) * s;
                        d[1] = (2.f * sy - 0.5f + y) * s;
                        d[2] = 4.f * sw * sw * m->head.anchors[l][a][0];
                        d[3] = 4.f * sh * sh * m->head.anchors[l][a][1];
                        for (int k = 4; k < no; k++) d[k] = sigmf(p[(size_t)k * plane]);
                    }
        base += (size_t)m->head.na * ny * nx;
    }
}

size_t yolo_model_num_params(const yolo_model *m) { return m->g->nparams; }
float *yolo_model_params(yolo_model *m) { return m->g->params; }
float *yolo_model_grads(yolo_model *m) { return m->g->grads; }
size_t yolo_model_num_buffers(const yolo_model *m) { return m->g->nbuffers; }
float *yolo_model_buffers(yolo_model *m) { return m->g->buffers; }
int yolo_model_num_param_ranges(const yolo_model *m) { return m->g->nranges; }
const nn_param_range *yolo_model_param_range(const yolo_model *m, int i) { return &m->g->ranges[i]; }
int yolo_model_num_buffer_ranges(const yolo_model *m) { return m->g->nbuf_ranges; }
const nn_param_range *yolo_model_buffer_range(const yolo_model *m, int i) { return &m->g->buf_ranges[i]; }
int yolo_model_nc(const yolo_model *m) { return m->head.nc; }
const yolo_head *yolo_model_head(const yolo_model *m) { return &m->head; }
int yolo_model_detect_node(const yolo_model *m, int l)
{
    return m->has_detect && l >= 0 && l < m->head.nl ? m->det[l] : -1;
}
yolo_loss_hyp *yolo_model_hyp(yolo_model *m) { return &m->hyp; }
yolo_loss_ws *yolo_model_loss_ws(yolo_model *m) { return &m->lws; }
nn_graph *yolo_model_graph(yolo_model *m) { return m->g; }
int yolo_model_num_layers(const yolo_model *m) { return m->nlayers; }
const yolo_layer_info *yolo_model_layer(const yolo_model *m, int i) { return &m->layers[i]; }

size_t yolo_model_check_finite(const yolo_model *m, size_t off, size_t count)
{
    if (off > m->g->nparams) return 0;
    if (count > m->g->nparams - off) count = m->g->nparams - off;
    return m->g->be->nonfinite(count, m->g->grads + off);
}

double yolo_model_gflops(const yolo_model *m, int h, int w)
{
    return 2.0 * nn_graph_macs(m->g, h, w) / 1e9;
}

/* Anchor count from the node shapes last computed (by nn_graph_shapes). */
static size_t anchors_from_shapes(const yolo_model *m)
{
    size_t a = 0;
    for (int l = 0; m->has_detect && l < m->head.nl; l++)
        a += (size_t)m->head.na * m->g->nodes[m->det[l]].h * m->g->nodes[m->det[l]].w;
    return a;
}

void yolo_model_summary(yolo_model *m, FILE *f, int imgsz)
{
    double gf = yolo_model_gflops(m, imgsz, imgsz); /* also sets the shapes */
    fprintf(f, "%-4s %-14s %3s %10s  %-11s %-24s %s\n", "", "from", "n", "params", "module", "arguments",
            "output (C x H x W)");
    for (int i = 0; i < m->nlayers; i++) {
        const yolo_layer_info *L = &m->layers[i];
        const nn_node *n = &m->g->nodes[L->node];
        char shape[64];
        if (!strcmp(L->module, "Detect"))
            snprintf(shape, sizeof shape, "%zu x %d", anchors_from_shapes(m), 5 + m->head.nc);
        else
            snprintf(shape, sizeof shape, "%d x %d x %d", n->c, n->h, n->w);
        fprintf(f, "%-4d %-14s %3d %10zu  %-11s %-24s %s\n", i, L->from, L->repeats, L->params, L->module,
                L->args, shape);
    }
    fprintf(f, "%s summary: %d layers, %zu parameters, %zu gradients, %zu BN buffers, %.1f GFLOPs at %d px\n",
            m->name, m->nlayers, m->g->nparams, m->g->nparams, m->g->nbuffers, gf, imgsz);
}
