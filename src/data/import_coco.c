/* import_coco.c -- COCO detection JSON (instances_*.json) via cJSON.  Category ids
 * (sparse in COCO: 1..90) map to contiguous classes in ascending id order; the
 * mapping is kept in ds_list.class_src.  Boxes are [x, y, w, h] in pixels; iscrowd
 * becomes DS_FLAG_CROWD.  "annotations" may be absent (background-only data).  Image files are looked up next to the JSON, then in
 * ../images/ and images/ (the usual layouts). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/check.h"
#include "data/dataset.h"
#include "core/fsutil.h"

static dy_status slurp(const char *path, char **out) { return fs_read_file(path, "COCO annotation file", out, NULL); }

/* A JSON number as an integer id; 0 when it is no number or out of int64 range
 * (converting such a double is undefined: found by tests/fuzz/fuzz_coco_json). */
static int json_id(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= -9.2e18 && v->valuedouble <= 9.2e18)) return 0;
    *out = (int64_t)v->valuedouble;
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static dy_status read_categories(const cJSON *cats, const char *file, ds_list *l)
{
    int n = cJSON_GetArraySize(cats);
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    char **names = calloc((size_t)(n ? n : 1), sizeof(char *));
    if (!ids || !names) return DY_ERR(DY_ENOMEM, "out of memory for categories");
    for (int i = 0; i < n; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cats, i), "id");
        if (!json_id(id, &ids[i])) {
            free(ids);
            free(names);
            return DY_ERR(DY_EFORMAT, "%s: categories[%d] has no numeric id", file, i);
        }
    }
    qsort(ids, (size_t)n, sizeof *ids, cmp_i64);
    for (int i = 0; i < n; i++) {
        const cJSON *c = cJSON_GetArrayItem(cats, i);
        int64_t id = 0;
        json_id(cJSON_GetObjectItemCaseSensitive(c, "id"), &id); /* checked above */
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        int64_t *p = bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_i64);
        int k = (int)(p - ids);
        if (k > 0 && ids[k - 1] == id) k--;
        if (names[k]) {
            ds_free_strings(names, n);
            free(ids);
            return DY_ERR(DY_EFORMAT, "%s: category id %lld appears twice", file, (long long)id);
        }
        names[k] = ds_strdup(cJSON_IsString(nm) ? nm->valuestring : "?");
    }
    DY_TRY(ds_set_names(l, names, n));
    memcpy(l->class_src, ids, sizeof(int64_t) * (size_t)n);
    free(ids);
    return DY_OK;
}

static void find_image(const char *dir, const char *fname, char *out, size_t n)
{
    const char *tries[] = {"%s/%s", "%s/../images/%s", "%s/images/%s", "%s/../%s"};
    for (int t = 0; t < 4; t++) {
        snprintf(out, n, tries[t], dir, fname);
        if (ds_path_exists(out, 0)) return;
    }
    snprintf(out, n, "%s/%s", dir, fname); /* reported as unreadable when packed */
}

static int item_by_id(const ds_list *l, int64_t id)
{
    int lo = 0, hi = l->n - 1; /* items are sorted by id below */
    while (lo <= hi) {
        int m = (lo + hi) / 2;
        if (l->items[m].id == id) return m;
        if (l->items[m].id < id) lo = m + 1;
        else hi = m - 1;
    }
    return -1;
}

static int cmp_item(const void *a, const void *b)
{
    return cmp_i64(&((const ds_item *)a)->id, &((const ds_item *)b)->id);
}

static dy_status read_annotation(ds_list *l, const cJSON *a, int idx, const char *file)
{
    const cJSON *iid = cJSON_GetObjectItemCaseSensitive(a, "image_id");
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(a, "category_id");
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(a, "bbox");
    const cJSON *crowd = cJSON_GetObjectItemCaseSensitive(a, "iscrowd");
    int64_t image_id, c;
    if (!json_id(iid, &image_id) || !json_id(cid, &c) || cJSON_GetArraySize(bb) != 4)
        return ds_issue(l, ISS_LABEL_MALFORMED, file, "annotations[%d]: needs image_id, category_id, bbox[4]", idx);
    int it = item_by_id(l, image_id);
    if (it < 0)
        return ds_issue(l, ISS_LABEL_MALFORMED, file, "annotations[%d]: unknown image_id %lld", idx,
                        (long long)image_id);
    int64_t *p = bsearch(&c, l->class_src, (size_t)l->nclass, sizeof(int64_t), cmp_i64);
    if (!p)
        return ds_issue(l, ISS_CLASS_UNKNOWN, file, "annotations[%d] (image %s): category_id %lld", idx,
                        l->items[it].name, (long long)c);
    float b[4];
    for (int k = 0; k < 4; k++) {
        const cJSON *v = cJSON_GetArrayItem(bb, k);
        if (!cJSON_IsNumber(v))
            return ds_issue(l, ISS_LABEL_MALFORMED, file, "annotations[%d]: bbox is not numeric", idx);
        b[k] = (float)v->valuedouble;
    }
    b[2] += b[0], b[3] += b[1];
    uint8_t fl = cJSON_IsNumber(crowd) && crowd->valuedouble != 0 ? DS_FLAG_CROWD : 0;
    return ds_add_box(&l->items[it], b, (int32_t)(p - l->class_src), fl);
}

static dy_status import_doc(const cJSON *root, const char *file, ds_list *l)
{
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(root, "images");
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(root, "annotations");
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(root, "categories");
    if (!cJSON_IsArray(imgs) || !cJSON_IsArray(cats))
        return DY_ERR(DY_EFORMAT, "%s: not COCO detection JSON (needs \"images\" and \"categories\" arrays)", file);
    /* No "annotations" is a legal background-only dataset; anything but an array is not. */
    if (anns && !cJSON_IsArray(anns))
        return DY_ERR(DY_EFORMAT, "%s: \"annotations\" must be an array, got %s", file,
                      cJSON_IsString(anns) ? "a string" : cJSON_IsObject(anns) ? "an object" : "a scalar");
    DY_TRY(read_categories(cats, file, l));
    char dir[4096];
    char tmpd[4096];
    snprintf(tmpd, sizeof tmpd, "%s", file);
    snprintf(dir, sizeof dir, "%s", dirname(tmpd));
    l->root = ds_strdup(dir);
    int n = cJSON_GetArraySize(imgs);
    for (int i = 0; i < n; i++) {
        const cJSON *im = cJSON_GetArrayItem(imgs, i);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(im, "id");
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(im, "file_name");
        int64_t image_id;
        if (!json_id(id, &image_id) || !cJSON_IsString(fn)) {
            DY_TRY(ds_issue(l, ISS_LABEL_MALFORMED, file, "images[%d]: needs id and file_name", i));
            continue;
        }
        char path[8192];
        ds_item *it;
        find_image(dir, fn->valuestring, path, sizeof path);
        DY_TRY(ds_add_item(l, path, fn->valuestring, image_id, &it));
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(im, "width");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(im, "height");
        it->ann_w = cJSON_IsNumber(w) ? w->valueint : 0;
        it->ann_h = cJSON_IsNumber(h) ? h->valueint : 0;
    }
    if (l->n > 1) qsort(l->items, (size_t)l->n, sizeof(ds_item), cmp_item); /* items is NULL when n == 0 */
    for (int i = 1; i < l->n; i++)
        if (l->items[i].id == l->items[i - 1].id)
            return DY_ERR(DY_EFORMAT, "%s: image id %lld appears twice", file, (long long)l->items[i].id);
    int na = cJSON_GetArraySize(anns);
    for (int i = 0; i < na; i++) DY_TRY(read_annotation(l, cJSON_GetArrayItem(anns, i), i, file));
    return DY_OK;
}

dy_status ds_import_coco(const char *input, ds_list *l)
{
    char *text;
    l->pixel = 1;
    DY_TRY(slurp(input, &text));
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        const char *e = cJSON_GetErrorPtr();
        long off = e ? (long)(e - text) : -1;
        free(text);
        return DY_ERR(DY_EFORMAT, "%s: malformed JSON near byte %ld", input, off);
    }
    dy_status s = import_doc(root, input, l);
    cJSON_Delete(root);
    free(text);
    return s;
}
