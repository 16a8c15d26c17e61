/* pt_import.c -- implementation of pt_import.h: find the weights in the unpickled
 * tree (EMA first, as YOLOv5's own loaders do), flatten the module tree into
 * state_dict names, derive the model spec, map and convert every tensor into
 * dyolo's flat parameter and buffer arrays, and write the weights file with the
 * checkpoint writer that `dyolo ckpt export` uses. */
#include "io/pt_import.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "io/ckpt.h"
#include "io/pt_zip.h"
#include "io/unpickle.h"
#include "model/model.h"
#include "tensor/backend.h"

#define MODULE_DEPTH_MAX 32 /* DetectionModel > Sequential > C3 > Sequential > Bottleneck > Conv > Conv2d */

typedef struct {
    char name[CKPT_NAME_MAX];
    const pk_tensor *t;
    int used;
} named_tensor;

typedef struct {
    const char *path;
    pt_archive *ar;
    pk_doc *doc;
    named_tensor *v;
    size_t n, cap;
    const pk_value *model; /* the DetectionModel object, NULL for a state_dict */
} importer;

static dy_status add_tensor(importer *im, const char *prefix, const pk_value *key, const pk_value *val)
{
    if (key->type != PK_STR) return DY_ERR(DY_EFORMAT, "%s: a tensor name that is not a string", im->path);
    if (val->type == PK_NONE) return DY_OK; /* e.g. a Conv2d without bias */
    if (val->type != PK_TENSOR)
        return DY_ERR(DY_EFORMAT, "%s: \"%s%s\" is a %s, not a tensor", im->path, prefix, key->s,
                      pk_type_name(val->type));
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 512;
        named_tensor *v = realloc(im->v, cap * sizeof *v);
        if (!v) return DY_ERR(DY_ENOMEM, "out of memory");
        im->v = v, im->cap = cap;
    }
    named_tensor *t = &im->v[im->n];
    if ((size_t)snprintf(t->name, sizeof t->name, "%s%s", prefix, key->s) >= sizeof t->name)
        return DY_ERR(DY_EFORMAT, "%s: tensor name \"%s%.40s...\" too long", im->path, prefix, key->s);
    t->t = val->tensor, t->used = 0;
    im->n++;
    return DY_OK;
}

static int in_list(const pk_value *list, const char *s)
{
    for (size_t i = 0; list && (list->type == PK_LIST || list->type == PK_TUPLE) && i < list->n; i++)
        if (list->items[i]->type == PK_STR && !strcmp(list->items[i]->s, s)) return 1;
    return 0;
}

/* nn.Module.state_dict(): _parameters, persistent _buffers, then _modules recursively. */
static dy_status collect_module(importer *im, const pk_value *obj, const char *prefix, int depth)
{
    if (depth > MODULE_DEPTH_MAX)
        return DY_ERR(DY_ERANGE, "%s: modules nested deeper than %d at \"%s\" (a cycle?)", im->path, MODULE_DEPTH_MAX,
                      prefix);
    if (obj->type != PK_OBJECT || !obj->attrs)
        return DY_ERR(DY_EFORMAT, "%s: \"%s\" is not a module with a state", im->path, prefix);
    const pk_value *a = obj->attrs, *p = pk_dict_get(a, "_parameters"), *b = pk_dict_get(a, "_buffers"),
                   *m = pk_dict_get(a, "_modules"), *np = pk_dict_get(a, "_non_persistent_buffers_set");
    for (size_t i = 0; p && p->type == PK_DICT && i < p->n; i += 2) DY_TRY(add_tensor(im, prefix, p->items[i], p->items[i + 1]));
    for (size_t i = 0; b && b->type == PK_DICT && i < b->n; i += 2)
        if (!(b->items[i]->type == PK_STR && in_list(np, b->items[i]->s)))
            DY_TRY(add_tensor(im, prefix, b->items[i], b->items[i + 1]));
    for (size_t i = 0; m && m->type == PK_DICT && i < m->n; i += 2) {
        const pk_value *k = m->items[i], *v = m->items[i + 1];
        if (v->type == PK_NONE) continue;
        if (k->type != PK_STR) return DY_ERR(DY_EFORMAT, "%s: a module name that is not a string", im->path);
        char sub[CKPT_NAME_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s%s.", prefix, k->s) >= sizeof sub)
            return DY_ERR(DY_EFORMAT, "%s: module name \"%s%.40s\" too long", im->path, prefix, k->s);
        DY_TRY(collect_module(im, v, sub, depth + 1));
    }
    return DY_OK;
}

static dy_status collect_state_dict(importer *im, const pk_value *d)
{
    for (size_t i = 0; i < d->n; i += 2) {
        const pk_value *k = d->items[i];
        /* torch.nn.parallel.DistributedDataParallel(model).state_dict() */
        if (k->type == PK_STR && !strncmp(k->s, "module.", 7)) {
            pk_value stripped = *k;
            stripped.s = k->s + 7;
            DY_TRY(add_tensor(im, "", &stripped, d->items[i + 1]));
        } else DY_TRY(add_tensor(im, "", k, d->items[i + 1]));
    }
    return im->n ? DY_OK : DY_ERR(DY_EFORMAT, "%s: an empty state_dict", im->path);
}

static dy_status storage_bytes(importer *im, const named_tensor *nt, const void **data);

static int is_tensor_dict(const pk_value *v)
{
    return v && v->type == PK_DICT && v->n >= 2 && v->items[1]->type == PK_TENSOR;
}

/* EMA when present (train.py's last.pt), else the model (best.pt after strip_optimizer,
 * released weights), else the file is itself a model or a state_dict. */
static dy_status select_weights(importer *im, pt_import_report *rep)
{
    const pk_value *root = pk_doc_root(im->doc), *w = NULL;
    if (root->type == PK_OBJECT) w = root, rep->source = "model";
    else if (root->type == PK_DICT) {
        const pk_value *ema = pk_dict_get(root, "ema"), *model = pk_dict_get(root, "model");
        if (ema && (ema->type == PK_OBJECT || is_tensor_dict(ema))) w = ema, rep->source = "ema";
        else if (model && (model->type == PK_OBJECT || is_tensor_dict(model))) w = model, rep->source = "model";
        else if (is_tensor_dict(root)) w = root, rep->source = "state_dict";
    }
    if (!w)
        return DY_ERR(DY_EFORMAT, "%s: neither a YOLOv5 checkpoint (a dict with a 'model' or 'ema' module) nor a "
                      "state_dict (a dict of tensors); the pickle holds a %s", im->path, pk_type_name(root->type));
    if (w->type == PK_DICT) DY_TRY(collect_state_dict(im, w));
    else {
        im->model = w;
        DY_TRY(collect_module(im, w, "", 0));
    }
    /* Every storage is read and checked now, before any spec question is asked. */
    for (size_t i = 0; i < im->n; i++) {
        const void *data;
        DY_TRY(storage_bytes(im, &im->v[i], &data));
    }
    return DY_OK;
}

/* ---- the model spec ------------------------------------------------------------------ */
static cJSON *to_json(const importer *im, const pk_value *v, int depth, dy_status *s)
{
    if (depth > 16) {
        *s = DY_ERR(DY_ERANGE, "%s: model.yaml nested deeper than 16", im->path);
        return NULL;
    }
    cJSON *j = NULL;
    switch (v->type) {
    case PK_NONE: return cJSON_CreateNull();
    case PK_BOOL: return cJSON_CreateBool((int)v->i);
    case PK_INT: return cJSON_CreateNumber((double)v->i);
    case PK_FLOAT: return cJSON_CreateNumber(v->f);
    case PK_STR: return cJSON_CreateString(v->s);
    case PK_LIST:
    case PK_TUPLE:
        j = cJSON_CreateArray();
        for (size_t i = 0; j && i < v->n && *s == DY_OK; i++) {
            cJSON *c = to_json(im, v->items[i], depth + 1, s);
            if (c) cJSON_AddItemToArray(j, c);
        }
        break;
    case PK_DICT:
        j = cJSON_CreateObject();
        for (size_t i = 0; j && i < v->n && *s == DY_OK; i += 2) {
            if (v->items[i]->type != PK_STR) {
                *s = DY_ERR(DY_EFORMAT, "%s: model.yaml has a key that is not a string", im->path);
                break;
            }
            cJSON *c = to_json(im, v->items[i + 1], depth + 1, s);
            if (c) cJSON_AddItemToObject(j, v->items[i]->s, c);
        }
        break;
    default: *s = DY_ERR(DY_EFORMAT, "%s: model.yaml holds a %s", im->path, pk_type_name(v->type));
    }
    if (*s != DY_OK || !j) {
        if (*s == DY_OK) *s = DY_ERR(DY_ENOMEM, "out of memory");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static dy_status load_spec(importer *im, const pt_import_opts *o, pt_import_report *rep, cJSON **out)
{
    *out = NULL;
    if (o->spec_path) {
        char *text = NULL;
        DY_TRY(fs_read_file(o->spec_path, "model spec", &text, NULL));
        *out = cJSON_Parse(text);
        free(text);
        snprintf(rep->spec_from, sizeof rep->spec_from, "%s", o->spec_path);
        return *out && cJSON_IsObject(*out) ? DY_OK : DY_ERR(DY_EFORMAT, "%s: not a JSON model spec", o->spec_path);
    }
    if (!im->model)
        return DY_ERR(DY_EINVAL, "%s is a state_dict, which carries no model.yaml: name the model spec with --model "
                      "(e.g. configs/models/yolov5n.json)", im->path);
    const pk_value *y = pk_dict_get(im->model->attrs, "yaml");
    if (!y || y->type != PK_DICT)
        return DY_ERR(DY_EFORMAT, "%s: the model has no yaml dictionary: name the model spec with --model", im->path);
    dy_status s = DY_OK;
    *out = to_json(im, y, 0, &s);
    if (s != DY_OK) return s;
    cJSON_AddItemToObject(*out, "comment", cJSON_CreateString("model.yaml of a YOLOv5 checkpoint (dyolo import)"));
    snprintf(rep->spec_from, sizeof rep->spec_from, "model.yaml in the checkpoint");
    return DY_OK;
}

static named_tensor *find(importer *im, const char *name)
{
    for (size_t i = 0; i < im->n; i++)
        if (!strcmp(im->v[i].name, name)) return &im->v[i];
    return NULL;
}

/* The bytes of a tensor's storage: read (CRC-checked) and of the size it claims. */
static dy_status storage_bytes(importer *im, const named_tensor *nt, const void **data)
{
    const pk_storage *st = nt->t->storage;
    size_t es = pk_dtype_size(st->dtype), len;
    DY_TRY_CTX(pt_archive_storage(im->ar, st->key, data, &len), "tensor \"%s\"", nt->name);
    if ((uint64_t)st->numel > (uint64_t)len / es || (uint64_t)st->numel * es != len)
        return DY_ERR(DY_ECORRUPT, "%s: storage %s of tensor \"%s\" holds %zu bytes, its %lld %s elements need %llu",
                      im->path, st->key, nt->name, len, (long long)st->numel, pk_dtype_name(st->dtype),
                      (unsigned long long)st->numel * es);
    return DY_OK;
}

/* Gather a tensor (any strides) into dst as float32. */
static dy_status to_f32(importer *im, const named_tensor *nt, float *dst)
{
    const pk_tensor *t = nt->t;
    const pk_storage *st = t->storage;
    size_t es = pk_dtype_size(st->dtype);
    if (st->dtype != PK_F16 && st->dtype != PK_BF16 && st->dtype != PK_F32 && st->dtype != PK_F64)
        return DY_ERR(DY_EFORMAT, "%s: tensor \"%s\" holds %s, not floating point", im->path, nt->name,
                      pk_dtype_name(st->dtype));
    const void *data;
    DY_TRY(storage_bytes(im, nt, &data));
    int64_t idx[PK_MAX_NDIM] = {0};
    const uint8_t *b = data;
    for (int64_t i = 0; i < t->numel; i++) {
        int64_t e = t->offset;
        for (int k = 0; k < t->ndim; k++) e += idx[k] * t->stride[k];
        const uint8_t *p = b + (size_t)e * es; /* e < extent <= numel: checked by the unpickler */
        uint16_t h;
        uint32_t u;
        double d;
        switch (st->dtype) {
        case PK_F16: memcpy(&h, p, 2), dst[i] = tn_float_from_half(h); break;
        case PK_BF16: memcpy(&h, p, 2), u = (uint32_t)h << 16, memcpy(&dst[i], &u, 4); break;
        case PK_F32: memcpy(&dst[i], p, 4); break;
        default: memcpy(&d, p, 8), dst[i] = (float)d; break;
        }
        for (int k = t->ndim - 1; k >= 0 && ++idx[k] == t->shape[k]; k--) idx[k] = 0;
    }
    return DY_OK;
}

static void shape_str(const pk_tensor *t, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < t->ndim && o < n; k++)
        o += (size_t)snprintf(buf + o, n - o, k ? "x%lld" : "%lld", (long long)t->shape[k]);
    if (!t->ndim) snprintf(buf, n, "scalar");
}

/* Detect layer index and anchors per level: from the spec. */
static int detect_index(const cJSON *spec)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "backbone")) +
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "head")) - 1;
}

static dy_status find_nc(importer *im, const cJSON *spec, const char *spec_from, int *nc)
{
    const cJSON *an = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "anchors"), 0);
    int na = cJSON_GetArraySize(an) / 2;
    char name[CKPT_NAME_MAX];
    snprintf(name, sizeof name, "model.%d.m.0.weight", detect_index(spec));
    const named_tensor *t = find(im, name);
    if (!t || t->t->ndim != 4 || na < 1)
        return DY_ERR(DY_EFORMAT, "%s: no Detect output convolution \"%s\" as the model spec (%s) expects",
                      im->path, name, spec_from);
    int64_t rows = t->t->shape[0];
    if (rows % na || rows / na < 6 || rows / na - 5 > 100000)
        return DY_ERR(DY_EFORMAT, "%s: \"%s\" has %lld outputs, not %d anchors x (5 + classes)", im->path, name,
                      (long long)rows, na);
    *nc = (int)(rows / na - 5);
    return DY_OK;
}

/* The checkpoint's Detect anchors ([levels][anchors][2], in units of the level's
 * stride) replace the spec's when they differ: train.py's autoanchor rewrites them. */
static dy_status take_anchors(importer *im, cJSON *spec, const yolo_model *m, pt_import_report *rep)
{
    char name[CKPT_NAME_MAX];
    snprintf(name, sizeof name, "model.%d.anchors", detect_index(spec));
    named_tensor *t = find(im, name);
    if (!t) return DY_OK; /* a state_dict of an older YOLOv5: the spec's anchors */
    const yolo_head *h = yolo_model_head(m);
    if (t->t->ndim != 3 || t->t->shape[0] != h->nl || t->t->shape[1] != h->na || t->t->shape[2] != 2)
        return DY_ERR(DY_EFORMAT, "%s: \"%s\" is not [%d levels][%d anchors][2] as the model spec has", im->path,
                      name, h->nl, h->na);
    float a[YOLO_MAX_LEVELS * YOLO_MAX_ANCHORS * 2];
    DY_TRY(to_f32(im, t, a));
    t->used = 1;
    rep->skipped++; /* they go into the spec, not into the buffers */
    cJSON *levels = cJSON_CreateArray();
    for (int l = 0; levels && l < h->nl; l++) {
        cJSON *lv = cJSON_CreateArray();
        for (int k = 0; lv && k < 2 * h->na; k++) {
            double px = (double)a[l * h->na * 2 + k] * h->stride[l], ref = h->anchors[l][k / 2][k % 2];
            if (!(px > 0)) {
                cJSON_Delete(lv), cJSON_Delete(levels);
                return DY_ERR(DY_EFORMAT, "%s: anchor %d of level %d is not > 0", im->path, k / 2, l);
            }
            if (fabs(px - ref) > 1e-3 * ref) rep->anchors_changed = 1;
            cJSON_AddItemToArray(lv, cJSON_CreateNumber(px));
        }
        if (lv) cJSON_AddItemToArray(levels, lv);
    }
    if (!levels) return DY_ERR(DY_ENOMEM, "out of memory");
    if (rep->anchors_changed) cJSON_ReplaceItemInObjectCaseSensitive(spec, "anchors", levels);
    else cJSON_Delete(levels);
    return DY_OK;
}

/* Fill one of the model's flat arrays from the checkpoint, range by range. */
static dy_status map_ranges(importer *im, yolo_model *m, int buffers, float *dst, ckpt_table_row *rows,
                            pt_import_report *rep)
{
    int n = buffers ? yolo_model_num_buffer_ranges(m) : yolo_model_num_param_ranges(m);
    for (int i = 0; i < n; i++) {
        const nn_param_range *r = buffers ? yolo_model_buffer_range(m, i) : yolo_model_param_range(m, i);
        named_tensor *t = find(im, r->name);
        if (!t)
            return DY_ERR(DY_ENOENT, "%s: no tensor \"%s\", which the model spec (%s) needs", im->path, r->name,
                          rep->spec_from);
        char shape[CKPT_SHAPE_MAX];
        shape_str(t->t, shape, sizeof shape);
        int want_ndim = !buffers && r->group == 0 ? 4 : 1;
        if (t->t->numel != (int64_t)r->count || t->t->ndim != want_ndim)
            return DY_ERR(DY_EINVAL, "%s: tensor \"%s\" is %s (%lld elements) but the model spec (%s) needs %zu "
                          "elements in %d dimensions", im->path, r->name, shape, (long long)t->t->numel,
                          rep->spec_from, r->count, want_ndim);
        DY_TRY(to_f32(im, t, dst + r->offset));
        t->used = 1;
        rep->tensors++;
        snprintf(rows[i].name, sizeof rows[i].name, "%s", r->name);
        rows[i].offset = (int64_t)r->offset, rows[i].count = (int64_t)r->count;
        snprintf(rows[i].shape, sizeof rows[i].shape, "%s", shape);
    }
    return DY_OK;
}

static dy_status check_unused(importer *im, pt_import_report *rep)
{
    for (size_t i = 0; i < im->n; i++) {
        if (im->v[i].used) continue;
        size_t l = strlen(im->v[i].name);
        if (l > 20 && !strcmp(im->v[i].name + l - 20, ".num_batches_tracked")) {
            rep->skipped++;
            continue;
        }
        char shape[CKPT_SHAPE_MAX];
        shape_str(im->v[i].t, shape, sizeof shape);
        return DY_ERR(DY_EINVAL, "%s: tensor \"%s\" (%s) has no place in the model of %s (another model: pass "
                      "--model SPEC)", im->path, im->v[i].name, shape, rep->spec_from);
    }
    return DY_OK;
}

/* model.names: {0: 'person', ...} (v7.0) or ['person', ...] (earlier). */
static dy_status take_names(importer *im, pt_import_report *rep)
{
    const pk_value *n = im->model ? pk_dict_get(im->model->attrs, "names") : NULL;
    if (!n || (n->type != PK_DICT && n->type != PK_LIST)) return DY_OK;
    size_t count = n->type == PK_DICT ? n->n / 2 : n->n;
    if (count != (size_t)rep->nc) return DY_OK; /* names of another head: not ours */
    rep->names = calloc(count + 1, sizeof *rep->names);
    if (!rep->names) return DY_ERR(DY_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const pk_value *k = n->type == PK_DICT ? n->items[2 * i] : NULL, *v = n->type == PK_DICT ? n->items[2 * i + 1] : n->items[i];
        int64_t idx = k ? (k->type == PK_INT ? k->i : -1) : (int64_t)i;
        if (idx < 0 || idx >= rep->nc || v->type != PK_STR || rep->names[idx])
            return DY_ERR(DY_EFORMAT, "%s: model.names is not a list of %d class names", im->path, rep->nc);
        if (!(rep->names[idx] = strdup(v->s))) return DY_ERR(DY_ENOMEM, "out of memory");
    }
    rep->nnames = rep->nc;
    return DY_OK;
}

static int64_t opt_imgsz(const importer *im)
{
    const pk_value *root = pk_doc_root(im->doc), *opt = pk_dict_get(root, "opt");
    const pk_value *sz = pk_dict_get(opt, "imgsz");
    if (sz && (sz->type == PK_LIST || sz->type == PK_TUPLE) && sz->n) sz = sz->items[0];
    return sz && sz->type == PK_INT && sz->i >= 32 && sz->i <= 16384 ? sz->i : 640;
}

static dy_status write_weights(importer *im, const pt_import_opts *o, pt_import_report *rep, yolo_model *m,
                               const char *spec_text)
{
    size_t np = yolo_model_num_params(m), nb = yolo_model_num_buffers(m);
    int nrp = yolo_model_num_param_ranges(m), nrb = yolo_model_num_buffer_ranges(m);
    float *p = calloc(np + 1, sizeof *p), *b = calloc(nb + 1, sizeof *b);
    ckpt_table_row *rp = calloc((size_t)nrp + 1, sizeof *rp), *rb = calloc((size_t)nrb + 1, sizeof *rb);
    cJSON *names = rep->nnames ? cJSON_CreateStringArray((const char *const *)rep->names, rep->nnames) : NULL;
    char *ntext = names ? cJSON_PrintUnformatted(names) : NULL;
    dy_status s = p && b && rp && rb && (!rep->nnames || ntext) ? DY_OK : DY_ERR(DY_ENOMEM, "out of memory");
    if (s == DY_OK) s = map_ranges(im, m, 0, p, rp, rep);
    if (s == DY_OK) s = map_ranges(im, m, 1, b, rb, rep);
    if (s == DY_OK) s = check_unused(im, rep);
    rep->params = (long long)np, rep->buffers = (long long)nb;
    char dir[4096], *slash;
    snprintf(dir, sizeof dir, "%s", o->out_path);
    slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : o->out_path;
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    ckpt_writer *w = NULL;
    if (s == DY_OK) s = ckpt_writer_begin(&w, dir, base, MPI_COMM_SELF);
    if (s == DY_OK) {
        ckpt_writer_set_pointers(w, 0);
        s = ckpt_add_array_ref(w, "params", CKPT_F32, p, (int64_t)np);
    }
    if (s == DY_OK) s = ckpt_add_array_ref(w, "buffers", CKPT_F32, b, (int64_t)nb);
    if (s == DY_OK) s = ckpt_add_table(w, "params", rp, nrp);
    if (s == DY_OK) s = ckpt_add_table(w, "buffers", rb, nrb);
    if (s == DY_OK) s = ckpt_add_text(w, "model_spec", spec_text);
    if (s == DY_OK && ntext) s = ckpt_add_text(w, "class_names", ntext);
    if (s == DY_OK) s = ckpt_attr_set_str(w, "schema", CKPT_WEIGHTS_SCHEMA_NAME);
    if (s == DY_OK) s = ckpt_attr_set_str(w, "weights_from", rep->source);
    if (s == DY_OK) s = ckpt_attr_set_str(w, "source_checkpoint", im->path);
    if (s == DY_OK) s = ckpt_attr_set_str(w, "source_format", "yolov5-pt");
    if (s == DY_OK) s = ckpt_attr_set_int(w, "nc", rep->nc);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "imgsz", opt_imgsz(im));
    const pk_value *ep = pk_dict_get(pk_doc_root(im->doc), "epoch");
    if (s == DY_OK && ep && ep->type == PK_INT) s = ckpt_attr_set_int(w, "epoch", ep->i);
    if (s == DY_OK) s = ckpt_commit(w);
    ckpt_writer_free(w);
    free(p), free(b), free(rp), free(rb), cJSON_free(ntext), cJSON_Delete(names);
    return s;
}

static dy_status run(importer *im, const pt_import_opts *o, pt_import_report *rep)
{
    const void *pkl;
    size_t len;
    DY_TRY(pt_archive_open(im->path, &im->ar));
    DY_TRY(pt_archive_pickle(im->ar, &pkl, &len));
    char what[4200];
    snprintf(what, sizeof what, "%s: data.pkl", im->path);
    DY_TRY(pk_parse(pkl, len, what, &im->doc));
    DY_TRY(select_weights(im, rep));
    cJSON *spec = NULL;
    yolo_model *m = NULL;
    char *text = NULL;
    dy_status s = load_spec(im, o, rep, &spec);
    if (s == DY_OK) s = find_nc(im, spec, rep->spec_from, &rep->nc);
    if (s == DY_OK) {
        rep->depth_multiple = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(spec, "depth_multiple"));
        rep->width_multiple = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(spec, "width_multiple"));
        /* The spec's class count follows the checkpoint's Detect head. */
        cJSON_ReplaceItemInObjectCaseSensitive(spec, "nc", cJSON_CreateNumber(rep->nc));
        if (!(text = cJSON_Print(spec))) s = DY_ERR(DY_ENOMEM, "out of memory");
    }
    if (s == DY_OK) s = yolo_model_create_json(text, rep->spec_from, rep->nc, &m);
    if (s == DY_OK) s = take_anchors(im, spec, m, rep);
    if (s == DY_OK && rep->anchors_changed) {
        cJSON_free(text);
        yolo_model_free(m), m = NULL;
        if (!(text = cJSON_Print(spec))) s = DY_ERR(DY_ENOMEM, "out of memory");
        if (s == DY_OK) s = yolo_model_create_json(text, rep->spec_from, rep->nc, &m);
    }
    if (s == DY_OK) s = take_names(im, rep);
    if (s == DY_OK) s = write_weights(im, o, rep, m, text);
    yolo_model_free(m);
    cJSON_free(text);
    cJSON_Delete(spec);
    return s;
}

dy_status pt_import(const char *pt_path, const pt_import_opts *o, pt_import_report *rep)
{
    memset(rep, 0, sizeof *rep);
    importer im = {.path = pt_path};
    dy_status s = run(&im, o, rep);
    pk_doc_free(im.doc);
    pt_archive_close(im.ar);
    free(im.v);
    if (s != DY_OK) pt_import_report_free(rep);
    return s;
}

void pt_import_report_free(pt_import_report *rep)
{
    for (int i = 0; rep->names && i < rep->nc; i++) free(rep->names[i]);
    free(rep->names);
    rep->names = NULL, rep->nnames = 0;
}
