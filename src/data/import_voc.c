/* import_voc.c -- Pascal VOC: Annotations/<id>.xml parsed with expat, images from
 * JPEGImages/, the split from ImageSets/Main/<split>.txt when --split is given.
 * The class table is the sorted set of object names over *all* annotation files, so
 * train and val packs of one dataset agree on class ids.  VOC pixel indices are
 * 1-based: as Ultralytics VOC.yaml, a box becomes [xmin-1, ymin-1, xmax-1, ymax-1] in
 * pixels, so a box with xmin == xmax has zero area (BCCD has two).
 * `difficult` becomes DS_FLAG_DIFFICULT. */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "data/dataset.h"

#define VOC_MAX_OBJ 4096

typedef struct {
    char path[16];        /* innermost element names we care about */
    char text[256];
    char filename[256];
    int width, height;
    int nobj;
    char name[VOC_MAX_OBJ][64];
    float box[VOC_MAX_OBJ][4];
    int difficult[VOC_MAX_OBJ];
    int bad_number;
    char cur[32], parent[32];
} voc_doc;

static void on_start(void *ud, const XML_Char *el, const XML_Char **attr)
{
    (void)attr;
    voc_doc *d = ud;
    snprintf(d->parent, sizeof d->parent, "%s", d->cur);
    snprintf(d->cur, sizeof d->cur, "%s", el);
    d->text[0] = 0;
    if (!strcmp(el, "object") && d->nobj < VOC_MAX_OBJ) {
        d->nobj++;
        memset(d->box[d->nobj - 1], 0, sizeof d->box[0]);
        d->name[d->nobj - 1][0] = 0;
        d->difficult[d->nobj - 1] = 0;
    }
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    voc_doc *d = ud;
    size_t l = strlen(d->text);
    if (l + (size_t)len < sizeof d->text) {
        memcpy(d->text + l, s, (size_t)len);
        d->text[l + (size_t)len] = 0;
    }
}

static float num(voc_doc *d)
{
    char *end;
    double v = strtod(d->text, &end);
    while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r') end++;
    if (end == d->text || *end) d->bad_number = 1;
    return (float)v;
}

/* An integer field; out-of-range values (converting them is undefined: found by
 * tests/fuzz/fuzz_voc_xml) count as non-numeric and read as 0. */
static int num_int(voc_doc *d)
{
    float v = num(d);
    if (v >= -2147483520.0f && v <= 2147483520.0f) return (int)v;
    d->bad_number = 1;
    return 0;
}

static void on_end(void *ud, const XML_Char *el)
{
    voc_doc *d = ud;
    int o = d->nobj - 1;
    const char *k[] = {"xmin", "ymin", "xmax", "ymax"};
    if (!strcmp(el, "filename")) snprintf(d->filename, sizeof d->filename, "%s", d->text);
    else if (!strcmp(el, "width")) d->width = num_int(d);
    else if (!strcmp(el, "height")) d->height = num_int(d);
    else if (o >= 0 && !strcmp(el, "name") && !d->name[o][0]) snprintf(d->name[o], sizeof d->name[o], "%.63s", d->text);
    else if (o >= 0 && !strcmp(el, "difficult")) d->difficult[o] = num_int(d);
    else
        for (int i = 0; i < 4; i++)
            if (o >= 0 && !strcmp(el, k[i])) d->box[o][i] = num(d);
    d->text[0] = 0;
}

static dy_status parse_xml(const char *path, voc_doc *d)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "rb");
    SYS_CHECK(f, DY_ENOENT, "cannot open %.480s", path);
    XML_Parser p = XML_ParserCreate(NULL);
    if (!p) {
        fclose(f);
        return DY_ERR(DY_ENOMEM, "XML_ParserCreate failed");
    }
    XML_SetUserData(p, d);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    char buf[16384];
    dy_status s = DY_OK;
    for (;;) {
        size_t n = fread(buf, 1, sizeof buf, f);
        int last = n < sizeof buf;
        if (XML_Parse(p, buf, (int)n, last) == XML_STATUS_ERROR) {
            s = DY_ERR(DY_EFORMAT, "%s:%lu: XML error: %s", path, (unsigned long)XML_GetCurrentLineNumber(p),
                       XML_ErrorString(XML_GetErrorCode(p)));
            break;
        }
        if (last) break;
    }
    XML_ParserFree(p);
    fclose(f);
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted unique object names over every annotation file. */
static dy_status collect_classes(const char *root, char **xmls, int nx, voc_doc *d, ds_list *l)
{
    char **names = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < nx; i++) {
        char p[8192];
        snprintf(p, sizeof p, "%s/Annotations/%s", root, xmls[i]);
        if (parse_xml(p, d) != DY_OK) continue; /* reported when the file is imported */
        for (int o = 0; o < d->nobj; o++) {
            int seen = 0;
            for (int k = 0; k < n && !seen; k++) seen = !strcmp(names[k], d->name[o]);
            if (seen || !d->name[o][0]) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nn = realloc(names, sizeof(char *) * (size_t)cap);
                if (!nn) return DY_ERR(DY_ENOMEM, "out of memory for VOC classes");
                names = nn;
            }
            names[n++] = ds_strdup(d->name[o]);
        }
    }
    if (n) qsort(names, (size_t)n, sizeof(char *), cmp_str);
    return ds_set_names(l, names, n);
}

static int class_of(const ds_list *l, const char *name)
{
    for (int c = 0; c < l->nclass; c++)
        if (!strcmp(l->names[c], name)) return c;
    return -1;
}

static dy_status import_one(const char *root, const char *stem, voc_doc *d, ds_list *l)
{
    char xml[8192], img[8192], rel[4096];
    snprintf(xml, sizeof xml, "%s/Annotations/%s.xml", root, stem);
    ds_item *it;
    if (!ds_path_exists(xml, 0) || parse_xml(xml, d) != DY_OK) {
        snprintf(img, sizeof img, "%s/JPEGImages/%s.jpg", root, stem);
        snprintf(rel, sizeof rel, "JPEGImages/%s.jpg", stem);
        DY_TRY(ds_add_item(l, img, rel, l->n, &it));
        it->label_missing = 1;
        if (!ds_path_exists(xml, 0)) return ds_issue(l, ISS_LABEL_MISSING, xml, "no annotation (kept as background)");
        return ds_issue(l, ISS_LABEL_MALFORMED, xml, "%s (kept as background)", err_msg());
    }
    snprintf(rel, sizeof rel, "JPEGImages/%s", d->filename[0] ? d->filename : stem);
    if (!strchr(d->filename, '.')) snprintf(rel, sizeof rel, "JPEGImages/%s.jpg", stem);
    snprintf(img, sizeof img, "%s/%s", root, rel);
    DY_TRY(ds_add_item(l, img, rel, l->n, &it));
    it->ann_w = d->width;
    it->ann_h = d->height;
    if (d->bad_number) DY_TRY(ds_issue(l, ISS_LABEL_MALFORMED, xml, "a number field is not numeric"));
    for (int o = 0; o < d->nobj; o++) {
        int c = class_of(l, d->name[o]);
        if (c < 0) {
            DY_TRY(ds_issue(l, ISS_CLASS_UNKNOWN, xml, "object %d: class \"%s\"", o, d->name[o]));
            continue;
        }
        float b[4] = {d->box[o][0] - 1, d->box[o][1] - 1, d->box[o][2] - 1, d->box[o][3] - 1};
        DY_TRY(ds_add_box(it, b, c, d->difficult[o] ? DS_FLAG_DIFFICULT : 0));
    }
    return DY_OK;
}

static dy_status read_split(const char *root, const char *split, char ***stems, int *n)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/ImageSets/Main/%s.txt", root, split);
    FILE *f = fopen(p, "r");
    SYS_CHECK(f, DY_ENOENT, "VOC split \"%.480s\": cannot open %.480s", split, p);
    char line[1024], **v = NULL;
    int cnt = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        char *t = strtok(line, " \t\r\n");
        if (!t) continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(v, sizeof(char *) * (size_t)cap);
            if (!nv) {
                fclose(f);
                ds_free_strings(v, cnt);
                return DY_ERR(DY_ENOMEM, "out of memory reading %s", p);
            }
            v = nv;
        }
        v[cnt++] = ds_strdup(t);
    }
    fclose(f);
    *stems = v;
    *n = cnt;
    return DY_OK;
}

dy_status ds_import_voc(const char *input, const char *split, ds_list *l)
{
    char ann[8192];
    snprintf(ann, sizeof ann, "%s/Annotations", input);
    if (!ds_path_exists(ann, 1)) return DY_ERR(DY_ENOENT, "%s: not a VOC root (no Annotations/ folder)", input);
    l->pixel = 1;
    l->root = ds_strdup(input);
    voc_doc *d = malloc(sizeof *d);
    if (!d) return DY_ERR(DY_ENOMEM, "out of memory");
    char **xmls = NULL, **stems = NULL;
    int nx = 0, ns = 0;
    dy_status s = ds_list_dir(ann, 0, &xmls, &nx);
    if (s == DY_OK) s = collect_classes(input, xmls, nx, d, l);
    if (s == DY_OK && split) s = read_split(input, split, &stems, &ns);
    if (s == DY_OK && !split) {
        stems = xmls, ns = nx, xmls = NULL, nx = 0;
        int k = 0;
        for (int i = 0; i < ns; i++) {
            char *dot = strrchr(stems[i], '.');
            if (!dot || strcmp(dot, ".xml")) {
                free(stems[i]);
                continue;
            }
            *dot = 0;
            stems[k++] = stems[i];
        }
        ns = k;
    }
    for (int i = 0; i < ns && s == DY_OK; i++) s = import_one(input, stems[i], d, l);
    ds_free_strings(xmls, nx);
    ds_free_strings(stems, ns);
    free(d);
    return s;
}
