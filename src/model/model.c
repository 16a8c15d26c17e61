/* model.c -- YOLOv5 from a JSON spec: parsing and scaling of the layer list, the
 * YOLOv5 blocks (Conv, C3/Bottleneck, SPPF, Upsample, Concat, Detect) as graph
 * nodes, initialisation, and the training/inference entry points of model.h.
 *
 * defines: the yolo_model_* functions of model.h */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/model_internal.h"

static int make_div8(double x)
{
    return (int)ceil(x / 8.0) * 8;
}

static int conv_block(nn_graph *g, int in, int c2, int k, int s, int p, const char *prefix)
{
    return nn_graph_add_conv(g, in, c2, k, s, p < 0 ? k / 2 : p, 1, 1, prefix);
}

static int bottleneck(nn_graph *g, int in, int c2, int shortcut, const char *prefix)
{
    char nm[96];
    int c1 = g->nodes[in].c;
    snprintf(nm, sizeof nm, "%.64s.cv1", prefix);
    int a = conv_block(g, in, c2, 1, 1, -1, nm);
    snprintf(nm, sizeof nm, "%.64s.cv2", prefix);
    int b = a < 0 ? -1 : conv_block(g, a, c2, 3, 1, -1, nm);
    if (b < 0 || !shortcut || c1 != c2) return b;
    return nn_graph_add_add(g, in, b);
}

static int c3_block(nn_graph *g, int in, int c2, int n, int shortcut, const char *prefix)
{
    char nm[96];
    int c_ = c2 / 2;
    snprintf(nm, sizeof nm, "%.64s.cv1", prefix);
    int x = conv_block(g, in, c_, 1, 1, -1, nm);
    for (int i = 0; i < n && x >= 0; i++) {
        snprintf(nm, sizeof nm, "%.64s.m.%d", prefix, i);
        x = bottleneck(g, x, c_, shortcut, nm);
    }
    snprintf(nm, sizeof nm, "%.64s.cv2", prefix);
    int y = x < 0 ? -1 : conv_block(g, in, c_, 1, 1, -1, nm);
    if (y < 0) return -1;
    int ins[2] = {x, y};
    int cat = nn_graph_add_concat(g, ins, 2);
    snprintf(nm, sizeof nm, "%.64s.cv3", prefix);
    return cat < 0 ? -1 : conv_block(g, cat, c2, 1, 1, -1, nm);
}

static int sppf_block(nn_graph *g, int in, int c2, int k, const char *prefix)
{
    char nm[96];
    snprintf(nm, sizeof nm, "%.64s.cv1", prefix);
    int ins[4];
    ins[0] = conv_block(g, in, g->nodes[in].c / 2, 1, 1, -1, nm);
    for (int i = 1; i < 4 && ins[i - 1] >= 0; i++) ins[i] = nn_graph_add_maxpool(g, ins[i - 1], k);
    if (ins[0] < 0 || ins[3] < 0) return -1;
    int cat = nn_graph_add_concat(g, ins, 4);
    snprintf(nm, sizeof nm, "%.64s.cv2", prefix);
    return cat < 0 ? -1 : conv_block(g, cat, c2, 1, 1, -1, nm);
}

static double num_arg(const cJSON *args, int i, double dflt)
{
    const cJSON *a = cJSON_GetArrayItem(args, i);
    return cJSON_IsNumber(a) ? a->valuedouble : dflt;
}

static void args_text(const cJSON *args, char *buf, size_t n)
{
    char *s = cJSON_PrintUnformatted(args);
    snprintf(buf, n, "%s", s ? s : "[]");
    free(s);
}

static dy_status parse_anchors(yolo_model *m, const cJSON *root)
{
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(root, "anchors");
    int nl = cJSON_GetArraySize(an);
    if (!cJSON_IsArray(an) || nl < 1 || nl > YOLO_MAX_LEVELS)
        return DY_ERR(DY_EFORMAT, "%s: \"anchors\" must be a list of 1..%d levels", m->name,
                      YOLO_MAX_LEVELS);
    for (int l = 0; l < nl; l++) {
        const cJSON *lv = cJSON_GetArrayItem(an, l);
        int k = cJSON_GetArraySize(lv);
        if (k % 2 || k < 2 || k > 2 * YOLO_MAX_ANCHORS || (l && k / 2 != m->head.na))
            return DY_ERR(DY_EFORMAT, "%s: anchors level %d must hold the same number of w,h pairs "
                          "(1..%d) as the others", m->name, l, YOLO_MAX_ANCHORS);
        m->head.na = k / 2;
        for (int a = 0; a < k; a++) {
            double v = num_arg(lv, a, -1);
            if (!(v > 0)) return DY_ERR(DY_EFORMAT, "%s: anchor value %d of level %d is not > 0", m->name, a, l);
            m->head.anchors[l][a / 2][a % 2] = (float)v;
        }
    }
    m->head.nl = nl;
    return DY_OK;
}

static int resolve_from(const yolo_model *m, int layer, int f)
{
    int idx = f < 0 ? layer + f : f;
    if (idx < -1 || idx >= layer) return -2;
    return idx < 0 ? 0 : m->layers[idx].node;
}

/* Adds one spec layer; returns its output node or -1 with the error set. */
static int add_layer(yolo_model *m, int i, const cJSON *row, double gd, double gw)
{
    nn_graph *g = m->g;
    const cJSON *from = cJSON_GetArrayItem(row, 0), *rep = cJSON_GetArrayItem(row, 1);
    const cJSON *mod = cJSON_GetArrayItem(row, 2), *args = cJSON_GetArrayItem(row, 3);
    yolo_layer_info *L = &m->layers[i];
    if (cJSON_GetArraySize(row) != 4 || !cJSON_IsNumber(rep) || !cJSON_IsString(mod) ||
        !cJSON_IsArray(args) || !(cJSON_IsNumber(from) || cJSON_IsArray(from))) {
        DY_ERR(DY_EFORMAT, "%s: layer %d must be [from, repeats, \"Module\", [args]]", m->name, i);
        return -1;
    }
    int ins[NN_MAX_IN], nin = 0;
    char *ft = cJSON_PrintUnformatted(from);
    snprintf(L->from, sizeof L->from, "%s", ft ? ft : "?");
    free(ft);
    for (int j = 0; j < (cJSON_IsArray(from) ? cJSON_GetArraySize(from) : 1); j++) {
        const cJSON *fj = cJSON_IsArray(from) ? cJSON_GetArrayItem(from, j) : from;
        int node = cJSON_IsNumber(fj) && nin < NN_MAX_IN ? resolve_from(m, i, fj->valueint) : -2;
        if (node < 0) {
            DY_ERR(DY_EFORMAT, "%s: layer %d: \"from\" %s refers to no earlier layer", m->name, i, L->from);
            return -1;
        }
        ins[nin++] = node;
    }
    int n = rep->valueint > 1 ? (int)fmax(round(rep->valueint * gd), 1) : rep->valueint;
    snprintf(L->module, sizeof L->module, "%s", mod->valuestring);
    args_text(args, L->args, sizeof L->args);
    L->repeats = n;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "model.%d", i);
    size_t before = g->nparams;
    const char *mn = mod->valuestring;
    int c2 = make_div8(num_arg(args, 0, 0) * gw), out = -1;
    if (strcmp(mn, "C3") && strcmp(mn, "Detect") && n != 1) {
        DY_ERR(DY_EUNSUPPORTED, "%s: layer %d: repeats > 1 are supported for C3 only", m->name, i);
        return -1;
    }
    if ((!strcmp(mn, "Conv") || !strcmp(mn, "C3") || !strcmp(mn, "SPPF")) && !(c2 > 0)) {
        DY_ERR(DY_EFORMAT, "%s: layer %d (%s): args[0] must be the output channels", m->name, i, mn);
        return -1;
    }
    if (!strcmp(mn, "Conv")) {
        const cJSON *p = cJSON_GetArrayItem(args, 3);
        out = conv_block(g, ins[0], c2, (int)num_arg(args, 1, 1), (int)num_arg(args, 2, 1),
                         cJSON_IsNumber(p) ? p->valueint : -1, prefix);
    } else if (!strcmp(mn, "C3")) {
        const cJSON *sc = cJSON_GetArrayItem(args, 1);
        out = c3_block(g, ins[0], c2, n, sc ? cJSON_IsTrue(sc) : 1, prefix);
    } else if (!strcmp(mn, "SPPF")) {
        out = sppf_block(g, ins[0], c2, (int)num_arg(args, 1, 5), prefix);
    } else if (!strcmp(mn, "nn.Upsample") || !strcmp(mn, "Upsample")) {
        const cJSON *mode = cJSON_GetArrayItem(args, 2);
        if (num_arg(args, 1, 2) != 2 || (mode && !(cJSON_IsString(mode) && !strcmp(mode->valuestring, "nearest")))) {
            DY_ERR(DY_EUNSUPPORTED, "%s: layer %d: only nearest x2 upsampling is supported", m->name, i);
            return -1;
        }
        out = nn_graph_add_upsample(g, ins[0]);
    } else if (!strcmp(mn, "Concat")) {
        out = nn_graph_add_concat(g, ins, nin);
    } else if (!strcmp(mn, "Detect")) {
        if (nin != m->head.nl) {
            DY_ERR(DY_EFORMAT, "%s: Detect takes %d inputs but anchors have %d levels", m->name, nin, m->head.nl);
            return -1;
        }
        for (int l = 0; l < nin; l++) {
            char nm[96];
            snprintf(nm, sizeof nm, "%.64s.m.%d", prefix, l);
            out = nn_graph_add_conv(g, ins[l], m->head.na * (5 + m->head.nc), 1, 1, 0, 1, 0, nm);
            if (out < 0) return -1;
            m->det[l] = out;
        }
        m->has_detect = 1;
    } else {
        DY_ERR(DY_EUNSUPPORTED, "%s: layer %d: unknown module \"%s\" (known: Conv, C3, SPPF, "
               "nn.Upsample, Concat, Detect)", m->name, i, mn);
        return -1;
    }
    if (out < 0) {
        err_wrap(DY_EINVAL, "%s: layer %d (%s)", m->name, i, mn);
        return -1;
    }
    L->params = g->nparams - before;
    L->node = out;
    return out;
}

static dy_status build(yolo_model *m, const cJSON *root, int nc)
{
    const cJSON *jnc = cJSON_GetObjectItemCaseSensitive(root, "nc");
    const cJSON *jgd = cJSON_GetObjectItemCaseSensitive(root, "depth_multiple");
    const cJSON *jgw = cJSON_GetObjectItemCaseSensitive(root, "width_multiple");
    const cJSON *jch = cJSON_GetObjectItemCaseSensitive(root, "ch");
    m->head.nc = nc > 0 ? nc : (cJSON_IsNumber(jnc) ? jnc->valueint : 0);
    if (m->head.nc < 1) return DY_ERR(DY_EFORMAT, "%s: \"nc\" (number of classes) must be >= 1", m->name);
    double gd = cJSON_IsNumber(jgd) ? jgd->valuedouble : 1.0, gw = cJSON_IsNumber(jgw) ? jgw->valuedouble : 1.0;
    if (!(gd > 0) || !(gw > 0))
        return DY_ERR(DY_EFORMAT, "%s: depth_multiple and width_multiple must be > 0", m->name);
    DY_TRY(parse_anchors(m, root));
    const cJSON *parts[2] = {cJSON_GetObjectItemCaseSensitive(root, "backbone"),
                             cJSON_GetObjectItemCaseSensitive(root, "head")};
    int total = 0;
    for (int p = 0; p < 2; p++) {
        if (parts[p] && !cJSON_IsArray(parts[p]))
            return DY_ERR(DY_EFORMAT, "%s: \"%s\" must be a list of layers", m->name, p ? "head" : "backbone");
        total += cJSON_GetArraySize(parts[p]);
    }
    if (total < 1) return DY_ERR(DY_EFORMAT, "%s: the spec has no layers", m->name);
    m->layers = calloc((size_t)total, sizeof *m->layers);
    if (!m->layers) return DY_ERR(DY_ENOMEM, "out of memory");
    if (nn_graph_add_input(m->g, cJSON_IsNumber(jch) ? jch->valueint : 3) < 0) return DY_EINVAL;
    for (int p = 0, i = 0; p < 2; p++)
        for (int j = 0; j < cJSON_GetArraySize(parts[p]); j++, i++) {
            if (m->has_detect)
                return DY_ERR(DY_EFORMAT, "%s: layer %d follows Detect, which must be last", m->name, i);
            if (add_layer(m, i, cJSON_GetArrayItem(parts[p], j), gd, gw) < 0) return DY_EFORMAT;
            m->nlayers = i + 1;
        }
    DY_TRY(nn_graph_finalize(m->g));
    nn_graph_shapes(m->g, 256, 256);
    for (int l = 0; m->has_detect && l < m->head.nl; l++)
        m->head.stride[l] = 256.f / (float)m->g->nodes[m->det[l]].h;
    yolo_loss_hyp_default(&m->hyp, m->head.nc, 640, m->head.nl);
    return DY_OK;
}

dy_status yolo_model_create_json(const char *text, const char *name, int nc, yolo_model **out)
{
    return yolo_model_create_json_on(NULL, text, name, nc, out);
}

dy_status yolo_model_create_json_on(const tn_backend *be, const char *text, const char *name, int nc,
                                    yolo_model **out)
{
    yolo_model *m = calloc(1, sizeof *m);
    if (!m) return DY_ERR(DY_ENOMEM, "out of memory");
    snprintf(m->name, sizeof m->name, "%s", name);
    m->opts.loss_scale = 1.f;
    cJSON *root = cJSON_Parse(text);
    dy_status st = DY_OK;
    if (!root || !cJSON_IsObject(root))
        st = DY_ERR(DY_EFORMAT, "%s: not a JSON object (syntax error near \"%.20s\")", name,
                    cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    if (st == DY_OK) st = nn_graph_new(&m->g, be ? be : tn_backend_cpu());
    if (st == DY_OK) st = build(m, root, nc);
    cJSON_Delete(root);
    if (st != DY_OK) {
        yolo_model_free(m);
        return st;
    }
    *out = m;
    return DY_OK;
}

dy_status yolo_model_create(const char *path, int nc, yolo_model **out)
{
    return yolo_model_create_on(NULL, path, nc, out);
}

dy_status yolo_model_create_on(const tn_backend *be, const char *path, int nc, yolo_model **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return DY_ERR(DY_ENOENT, "model spec %s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)len + 1);
    size_t got = buf ? fread(buf, 1, (size_t)len, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)len) {
        free(buf);
        return DY_ERR(DY_EIO, "model spec %s: read failed", path);
    }
    buf[len] = 0;
    dy_status st = yolo_model_create_json_on(be, buf, path, nc, out);
    free(buf);
    return st;
}

void yolo_model_free(yolo_model *m)
{
    if (!m) return;
    if (m->g) m->g->be->free(m->ddev);
    nn_graph_free(m->g);
    free(m->layers);
    free(m->dout);
    free(m->hout);
    yolo_loss_ws_free(&m->lws);
    free(m);
}

/* Initialises host copies p (parameters) and b (buffers) of the graph's layout. */
static void init_host(yolo_model *m, uint64_t seed, float *p, float *b);

dy_status yolo_model_init(yolo_model *m, uint64_t seed)
{
    nn_graph *g = m->g;
    if (g->be->host_mem) {
        init_host(m, seed, g->params, g->buffers);
        return DY_OK;
    }
    float *p = calloc(g->nparams + 1, sizeof(float)), *b = calloc(g->nbuffers + 1, sizeof(float));
    dy_status s = p && b ? yolo_model_state_get(m, p, b)
                         : DY_ERR(DY_ENOMEM, "model %s: out of memory initialising", m->name);
    if (s == DY_OK) {
        init_host(m, seed, p, b);
        s = yolo_model_state_put(m, p, b);
    }
    free(p);
    free(b);
    return s;
}

static void init_host(yolo_model *m, uint64_t seed, float *params, float *buffers)
{
    nn_graph *g = m->g;
    for (int i = 0; i < g->nnodes; i++) {
        const nn_node *n = &g->nodes[i];
        if (n->kind != NN_CONV) continue;
        int fan_in = g->nodes[n->in[0]].c / n->groups * n->k * n->k;
        size_t wc = (size_t)n->c * fan_in;
        float bound = 1.f / sqrtf((float)fan_in); /* kaiming_uniform(a=sqrt 5) */
        rng_stream r;
        rng_stream_init(&r, seed, 0x6e6e, 0, (uint64_t)i);
        for (size_t j = 0; j < wc; j++) params[n->poff + j] = rng_uniform_range(&r, -bound, bound);
        if (n->bn) {
            for (int c = 0; c < n->c; c++) {
                params[n->poff + wc + c] = 1.f;
                params[n->poff + wc + n->c + c] = 0.f;
                buffers[n->boff + c] = 0.f;
                buffers[n->boff + n->c + c] = 1.f;
            }
            continue;
        }
        float *b = params + n->poff + wc;
        for (int c = 0; c < n->c; c++) b[c] = rng_uniform_range(&r, -bound, bound);
    }
    for (int l = 0; m->has_detect && l < m->head.nl; l++) {
        const nn_node *n = &g->nodes[m->det[l]];
        float *b = params + n->poff + (n->pcount - (size_t)n->c);
        int no = 5 + m->head.nc;
        double s = m->head.stride[l];
        for (int a = 0; a < m->head.na; a++) {
            b[a * no + 4] += (float)log(8.0 / ((640.0 / s) * (640.0 / s)));
            for (int c = 0; c < m->head.nc; c++) b[a * no + 5 + c] += (float)log(0.6 / (m->head.nc - 0.99999));
        }
    }
}

/* ---------------------------------------------------- anchors (AutoAnchor) */

void yolo_model_set_anchors(yolo_model *m, const float *k)
{
    for (int l = 0; l < m->head.nl; l++)
        for (int a = 0; a < m->head.na; a++) {
            m->head.anchors[l][a][0] = k[2 * (l * m->head.na + a)];
            m->head.anchors[l][a][1] = k[2 * (l * m->head.na + a) + 1];
        }
}

dy_status yolo_model_anchors_from_spec(yolo_model *m, const char *spec_text)
{
    cJSON *root = cJSON_Parse(spec_text);
    if (!root) return DY_ERR(DY_EFORMAT, "%s: the saved model spec is not valid JSON", m->name);
    yolo_head was = m->head;
    dy_status s = parse_anchors(m, root);
    if (s == DY_OK && (m->head.nl != was.nl || m->head.na != was.na))
        s = DY_ERR(DY_EFORMAT, "%s: the saved spec has %d levels of %d anchors, the model %d of %d", m->name,
                   m->head.nl, m->head.na, was.nl, was.na);
    if (s != DY_OK) m->head = was;
    cJSON_Delete(root);
    return s;
}

dy_status yolo_spec_with_anchors(const char *spec_text, const yolo_model *m, char **out)
{
    *out = NULL;
    cJSON *root = cJSON_Parse(spec_text), *an = cJSON_CreateArray();
    for (int l = 0; an && l < m->head.nl; l++) {
        cJSON *lv = cJSON_CreateArray();
        for (int a = 0; lv && a < m->head.na; a++) {
            cJSON_AddItemToArray(lv, cJSON_CreateNumber(m->head.anchors[l][a][0]));
            cJSON_AddItemToArray(lv, cJSON_CreateNumber(m->head.anchors[l][a][1]));
        }
        cJSON_AddItemToArray(an, lv);
    }
    int ok = root && an;
    if (ok && cJSON_GetObjectItemCaseSensitive(root, "anchors"))
        ok = cJSON_ReplaceItemInObjectCaseSensitive(root, "anchors", an);
    else if (ok)
        ok = cJSON_AddItemToObject(root, "anchors", an);
    if (!ok) cJSON_Delete(an);
    *out = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return *out ? DY_OK : DY_ERR(DY_EFORMAT, "%s: cannot write the anchors into the model spec", m->name);
}
