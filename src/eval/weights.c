/* weights.c -- implementation of weights.h. */
#include "eval/weights.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ckpt.h"

static dy_status read_names(const ckpt_reader *r, weights_info *info)
{
    const char *t = ckpt_text(r, "class_names");
    cJSON *a = t ? cJSON_Parse(t) : NULL;
    info->names = calloc((size_t)info->nc + 1, sizeof *info->names);
    if (!info->names) {
        cJSON_Delete(a);
        return DY_ERR(DY_ENOMEM, "out of memory");
    }
    for (int k = 0; k < info->nc; k++) {
        const cJSON *n = a ? cJSON_GetArrayItem(a, k) : NULL;
        char buf[32];
        snprintf(buf, sizeof buf, "class%d", k);
        info->names[k] = strdup(cJSON_IsString(n) ? n->valuestring : buf);
    }
    cJSON_Delete(a);
    return DY_OK;
}

/* Which arrays hold the weights: EMA of a checkpoint, else its model, else an export. */
static const char *pick(const ckpt_reader *r, const char **src)
{
    if (ckpt_find(r, "ema.params")) return *src = "ema", "ema.";
    if (ckpt_find(r, "model.params")) return *src = "model", "model.";
    return *src = "weights", "";
}

static dy_status fill(const ckpt_reader *r, const char *prefix, yolo_model *m)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "%sparams", prefix), snprintf(b, sizeof b, "%sbuffers", prefix);
    const ckpt_entry *ep = ckpt_find(r, a), *eb = ckpt_find(r, b);
    if (!ep || !eb) return DY_ERR(DY_ENOENT, "%s holds no weights (no \"%s\"/\"%s\")", ckpt_reader_path(r), a, b);
    if ((size_t)ep->n != yolo_model_num_params(m) || (size_t)eb->n != yolo_model_num_buffers(m))
        return DY_ERR(DY_EINVAL, "%s: %lld parameters and %lld buffers do not fit its model spec (%zu and %zu)",
                      ckpt_reader_path(r), (long long)ep->n, (long long)eb->n, yolo_model_num_params(m),
                      yolo_model_num_buffers(m));
    const tn_backend *be = yolo_model_backend(m);
    DY_TRY(ckpt_get_f32_on(r, be, a, yolo_model_params(m), ep->n));
    return ckpt_get_f32_on(r, be, b, yolo_model_buffers(m), eb->n);
}

dy_status weights_load(const char *path, MPI_Comm comm, yolo_model **out, weights_info *info)
{
    return weights_load_on(NULL, path, comm, out, info);
}

dy_status weights_load_on(const tn_backend *be, const char *path, MPI_Comm comm, yolo_model **out,
                          weights_info *info)
{
    memset(info, 0, sizeof *info);
    ckpt_reader *r = NULL;
    char real[1400];
    DY_TRY_CTX(ckpt_resolve_pointer(path, real, sizeof real), "loading weights");
    path = real;
    DY_TRY_CTX(ckpt_reader_open(&r, path, comm), "loading weights");
    int64_t nc = 0, imgsz = 640;
    const char *spec = ckpt_text(r, "model_spec");
    dy_status s = spec ? ckpt_attr_int(r, "nc", &nc)
                       : DY_ERR(DY_EINVAL, "%s has no model spec: not a dyolo checkpoint or weights file", path);
    if (s == DY_OK && ckpt_attr_int(r, "imgsz", &imgsz) != DY_OK) imgsz = 640;
    info->nc = (int)nc, info->imgsz = (int)imgsz;
    if (s == DY_OK) s = read_names(r, info);
    if (s == DY_OK) s = yolo_model_create_json_on(be, spec, path, info->nc, out);
    if (s == DY_OK) {
        s = fill(r, pick(r, &info->source), *out);
        if (s != DY_OK) yolo_model_free(*out), *out = NULL;
    }
    ckpt_reader_close(r);
    if (s != DY_OK) weights_info_free(info);
    return s;
}

void weights_info_free(weights_info *info)
{
    for (int k = 0; info->names && k < info->nc; k++) free(info->names[k]);
    free(info->names);
    info->names = NULL;
}
