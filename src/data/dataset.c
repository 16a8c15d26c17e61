/* dataset.c -- the in-memory sample list shared by the importers: growth, issues,
 * directory listing (sorted, so every rank sees the same order). */
#include "data/dataset.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/check.h"

static const char *const issue_names[ISS_COUNT] = {
    "unreadable image", "corrupt image", "missing label file", "malformed label",
    "box out of range", "zero-area box", "unknown class", "duplicate box", "image size mismatch"};

const char *ds_issue_name(ds_issue_kind k)
{
    return k < ISS_COUNT ? issue_names[k] : "?";
}

dy_status ds_format_parse(const char *s, ds_format *out)
{
    if (!strcmp(s, "yolo")) *out = DS_YOLO;
    else if (!strcmp(s, "coco")) *out = DS_COCO;
    else if (!strcmp(s, "voc")) *out = DS_VOC;
    else return DY_ERR(DY_EINVAL, "unknown format \"%s\" (yolo, coco or voc)", s);
    return DY_OK;
}

char *ds_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static dy_status grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return DY_OK;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q) return DY_ERR(DY_ENOMEM, "out of memory growing a list to %d", nc);
    *p = q;
    *cap = nc;
    return DY_OK;
}

dy_status ds_issue(ds_list *l, ds_issue_kind k, const char *file, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    l->counts[k]++;
    DY_TRY(grow((void **)&l->issues, &l->capissues, l->nissues + 1, sizeof(char *)));
    size_t n = strlen(file) + strlen(detail) + 64;
    char *s = malloc(n);
    if (!s) return DY_ERR(DY_ENOMEM, "out of memory recording an issue");
    snprintf(s, n, "%s: %s: %s", issue_names[k], file, detail);
    l->issues[l->nissues++] = s;
    return DY_OK;
}

dy_status ds_add_item(ds_list *l, const char *path, const char *name, int64_t id, ds_item **out)
{
    DY_TRY(grow((void **)&l->items, &l->cap, l->n + 1, sizeof(ds_item)));
    ds_item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    it->path = ds_strdup(path);
    it->name = ds_strdup(name);
    if (!it->path || !it->name) return DY_ERR(DY_ENOMEM, "out of memory adding %s", path);
    it->id = id;
    l->n++;
    *out = it;
    return DY_OK;
}

dy_status ds_add_box(ds_item *it, const float b[4], int32_t cls, uint8_t flags)
{
    if (it->nbox == it->capbox) {
        int nc = it->capbox ? it->capbox * 2 : 8;
        float *nb = realloc(it->box, sizeof(float) * 4 * (size_t)nc);
        if (nb) it->box = nb;
        int32_t *ncl = realloc(it->cls, sizeof(int32_t) * (size_t)nc);
        if (ncl) it->cls = ncl;
        uint8_t *nf = realloc(it->flags, (size_t)nc);
        if (nf) it->flags = nf;
        if (!nb || !ncl || !nf) return DY_ERR(DY_ENOMEM, "out of memory adding a box to %s", it->name);
        it->capbox = nc;
    }
    memcpy(it->box + 4 * it->nbox, b, sizeof(float) * 4);
    it->cls[it->nbox] = cls;
    it->flags[it->nbox] = flags;
    it->nbox++;
    return DY_OK;
}

dy_status ds_set_names(ds_list *l, char **names, int n)
{
    l->names = names;
    l->nclass = n;
    l->class_src = calloc((size_t)(n ? n : 1), sizeof(int64_t));
    if (!l->class_src) return DY_ERR(DY_ENOMEM, "out of memory for the class table");
    for (int i = 0; i < n; i++) l->class_src[i] = i;
    return DY_OK;
}

void ds_free_strings(char **v, int n)
{
    if (!v) return;
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

void ds_list_free(ds_list *l)
{
    for (int i = 0; i < l->n; i++) {
        ds_item *it = &l->items[i];
        free(it->path);
        free(it->name);
        free(it->box);
        free(it->cls);
        free(it->flags);
    }
    free(l->items);
    ds_free_strings(l->names, l->nclass);
    free(l->class_src);
    ds_free_strings(l->issues, l->nissues);
    free(l->root);
    memset(l, 0, sizeof *l);
}

int ds_is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    return !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png");
}

int ds_path_exists(const char *p, int want_dir)
{
    struct stat st;
    if (stat(p, &st) != 0) return 0;
    return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

dy_status ds_list_dir(const char *dir, int images_only, char ***names, int *n)
{
    DIR *d = opendir(dir);
    SYS_CHECK(d, DY_ENOENT, "cannot open directory %.480s", dir);
    char **v = NULL;
    int cnt = 0, cap = 0;
    struct dirent *e;
    dy_status s = DY_OK;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (images_only && !ds_is_image_name(e->d_name)) continue;
        if ((s = grow((void **)&v, &cap, cnt + 1, sizeof(char *))) != DY_OK) break;
        if (!(v[cnt] = ds_strdup(e->d_name))) {
            s = DY_ERR(DY_ENOMEM, "out of memory listing %s", dir);
            break;
        }
        cnt++;
    }
    closedir(d);
    if (s != DY_OK) {
        ds_free_strings(v, cnt);
        return s;
    }
    if (cnt) qsort(v, (size_t)cnt, sizeof(char *), cmp_str);
    *names = v;
    *n = cnt;
    return DY_OK;
}

dy_status ds_import(ds_format f, const char *input, const char *split, ds_list *out)
{
    memset(out, 0, sizeof *out);
    out->format = f;
    switch (f) {
    case DS_YOLO: return ds_import_yolo(input, split, out);
    case DS_COCO: return ds_import_coco(input, out);
    default: return ds_import_voc(input, split, out);
    }
}
