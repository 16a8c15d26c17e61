/* coco_json.c -- COCO annotation/results files <-> eval_set (see coco_json.h). */
#include "eval/coco_json.h"
#include "core/fsutil.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dy_status read_json(const char *path, cJSON **out)
{
    char *buf = NULL;
    DY_TRY(fs_read_file(path, "COCO file", &buf, NULL));
    *out = cJSON_Parse(buf);
    free(buf);
    if (!*out) return DY_ERR(DY_EFORMAT, "\"%s\" is not valid JSON", path);
    return DY_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int class_of(const int64_t *ids, int n, int64_t id)
{
    const int64_t *p = bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_i64);
    return p ? (int)(p - ids) : -1;
}

static dy_status read_bbox(const cJSON *o, const char *path, double b[4])
{
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(o, "bbox");
    if (!cJSON_IsArray(bb) || cJSON_GetArraySize(bb) != 4)
        return DY_ERR(DY_EFORMAT, "%s: an entry has no 4-number \"bbox\"", path);
    for (int i = 0; i < 4; i++) {
        const cJSON *v = cJSON_GetArrayItem(bb, i);
        if (!cJSON_IsNumber(v)) return DY_ERR(DY_EFORMAT, "%s: \"bbox\" values must be numbers", path);
        b[i] = v->valuedouble;
    }
    return DY_OK;
}

static double num_or(const cJSON *o, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static dy_status load_categories(const cJSON *gt, const char *path, int64_t **ids, int *n)
{
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(gt, "categories"), *c;
    if (!cJSON_IsArray(cats)) return DY_ERR(DY_EFORMAT, "%s: no \"categories\" list", path);
    *n = cJSON_GetArraySize(cats);
    *ids = malloc(((size_t)*n + 1) * sizeof **ids);
    if (!*ids) return DY_ERR(DY_ENOMEM, "out of memory");
    int i = 0;
    cJSON_ArrayForEach(c, cats)(*ids)[i++] = (int64_t)num_or(c, "id", -1);
    qsort(*ids, (size_t)*n, sizeof **ids, cmp_i64);
    return DY_OK;
}

static dy_status load_gt(const cJSON *gt, const char *path, const int64_t *ids, int ncat, eval_set *s)
{
    const cJSON *it, *imgs = cJSON_GetObjectItemCaseSensitive(gt, "images");
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(gt, "annotations");
    if (!cJSON_IsArray(imgs) || !cJSON_IsArray(anns))
        return DY_ERR(DY_EFORMAT, "%s: needs \"images\" and \"annotations\" lists", path);
    cJSON_ArrayForEach(it, imgs) DY_TRY(eval_set_add_image(s, (int64_t)num_or(it, "id", -1)));
    cJSON_ArrayForEach(it, anns) {
        eval_gt g = {0};
        double b[4];
        DY_TRY(read_bbox(it, path, b));
        g.image_id = (int64_t)num_or(it, "image_id", -1);
        g.ann_id = (int64_t)num_or(it, "id", 0);
        g.category = class_of(ids, ncat, (int64_t)num_or(it, "category_id", -1));
        if (g.category < 0)
            return DY_ERR(DY_EFORMAT, "%s: annotation %lld has an unknown category_id", path, (long long)g.ann_id);
        g.x = b[0], g.y = b[1], g.w = b[2], g.h = b[3];
        g.area = num_or(it, "area", b[2] * b[3]);
        g.iscrowd = (int)num_or(it, "iscrowd", 0);
        DY_TRY(eval_set_add_gt(s, &g));
    }
    return DY_OK;
}

static dy_status load_dt(const cJSON *dt, const char *path, const int64_t *ids, int ncat, eval_set *s)
{
    if (!cJSON_IsArray(dt)) return DY_ERR(DY_EFORMAT, "%s: a results file is a JSON list", path);
    const cJSON *it;
    cJSON_ArrayForEach(it, dt) {
        eval_dt d = {0};
        double b[4];
        DY_TRY(read_bbox(it, path, b));
        d.image_id = (int64_t)num_or(it, "image_id", -1);
        d.category = class_of(ids, ncat, (int64_t)num_or(it, "category_id", -1));
        if (d.category < 0) return DY_ERR(DY_EFORMAT, "%s: a detection has an unknown category_id", path);
        d.x = b[0], d.y = b[1], d.w = b[2], d.h = b[3];
        d.score = num_or(it, "score", 0);
        DY_TRY(eval_set_add_dt(s, &d));
    }
    return DY_OK;
}

dy_status coco_json_load(const char *gt_path, const char *dt_path, eval_set *out, int64_t **cat_ids_out)
{
    cJSON *gt = NULL, *dt = NULL;
    int64_t *ids = NULL;
    int ncat = 0;
    dy_status st = read_json(gt_path, &gt);
    if (st == DY_OK) st = read_json(dt_path, &dt);
    if (st == DY_OK) st = load_categories(gt, gt_path, &ids, &ncat);
    if (st == DY_OK) {
        eval_set_init(out, ncat);
        st = load_gt(gt, gt_path, ids, ncat, out);
        if (st == DY_OK) st = load_dt(dt, dt_path, ids, ncat, out);
        if (st != DY_OK) eval_set_free(out);
    }
    cJSON_Delete(gt);
    cJSON_Delete(dt);
    if (st == DY_OK && cat_ids_out)
        *cat_ids_out = ids;
    else
        free(ids);
    return st;
}

static dy_status write_json(cJSON *root, const char *path)
{
    char *s = cJSON_PrintUnformatted(root);
    if (!s) return DY_ERR(DY_ENOMEM, "cannot serialize %s", path);
    FILE *f = fopen(path, "w");
    if (!f) {
        cJSON_free(s);
        return DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(errno));
    }
    int bad = fputs(s, f) < 0;
    bad |= fclose(f) != 0;
    cJSON_free(s);
    if (bad) return DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(errno));
    return DY_OK;
}

static cJSON *bbox_json(double x, double y, double w, double h)
{
    double b[4] = {x, y, w, h};
    return cJSON_CreateDoubleArray(b, 4);
}

dy_status coco_json_write_gt(const eval_set *s, const char *const *names, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *imgs = cJSON_AddArrayToObject(root, "images");
    cJSON *anns = cJSON_AddArrayToObject(root, "annotations");
    cJSON *cats = cJSON_AddArrayToObject(root, "categories");
    for (size_t i = 0; i < s->nimages; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)s->images[i]);
        cJSON_AddItemToArray(imgs, o);
    }
    for (size_t i = 0; i < s->ngt; i++) {
        const eval_gt *g = &s->gt[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)(g->ann_id > 0 ? g->ann_id : (int64_t)i + 1));
        cJSON_AddNumberToObject(o, "image_id", (double)g->image_id);
        cJSON_AddNumberToObject(o, "category_id", g->category + 1);
        cJSON_AddItemToObject(o, "bbox", bbox_json(g->x, g->y, g->w, g->h));
        cJSON_AddNumberToObject(o, "area", g->area);
        cJSON_AddNumberToObject(o, "iscrowd", g->iscrowd);
        cJSON_AddItemToArray(anns, o);
    }
    for (int k = 0; k < s->ncat; k++) {
        char buf[32];
        snprintf(buf, sizeof buf, "class%d", k);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", k + 1);
        cJSON_AddStringToObject(o, "name", names ? names[k] : buf);
        cJSON_AddItemToArray(cats, o);
    }
    dy_status st = write_json(root, path);
    cJSON_Delete(root);
    return st;
}

dy_status coco_json_write_dt(const eval_set *s, const char *path)
{
    cJSON *root = cJSON_CreateArray();
    for (size_t i = 0; i < s->ndt; i++) {
        const eval_dt *d = &s->dt[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "image_id", (double)d->image_id);
        cJSON_AddNumberToObject(o, "category_id", d->category + 1);
        cJSON_AddItemToObject(o, "bbox", bbox_json(d->x, d->y, d->w, d->h));
        cJSON_AddNumberToObject(o, "score", d->score);
        cJSON_AddItemToArray(root, o);
    }
    dy_status st = write_json(root, path);
    cJSON_Delete(root);
    return st;
}
