/* import_voc.c -- Pascal VOC: Annotations/<id>.xml parsed with expat, images from
 * JPEGImages/, the split from ImageSets/Main/<split>.txt when --split is given.
 * The class table is the sorted set of object names over *all* annotation files, so
 * train and val packs of one dataset agree on class ids.  VOC pixel indices are
 * 1-based: as Ultralytics VOC.yaml, a box becomes [xmin-1, ymin-1, xmax-1, ymax-1] in
 * pixels, so a box with xmin == xmax has zero area (BCCD has two).
 * `difficult` becomes DS_FLAG_DIFFICULT.  Objects are only the root's <object>
 * children (their <part>s are not objects), with no limit on count or name length. */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "data/dataset.h"

/* Elements are matched by their position, not their name alone: an <object> may hold
 * <part> elements (VOC person layouts: head, hand, foot) with their own <name> and
 * <bndbox>, which must not replace the object's. */
#define VOC_DEPTH 8

typedef struct {
    char *name; /* malloc'd, any length: truncating could merge two classes */
    float box[4];
    int difficult;
} voc_obj;

typedef struct {
    char stack[VOC_DEPTH][16]; /* open elements (names cut to 15 chars: only short ones are matched) */
    int depth;                 /* may exceed VOC_DEPTH: deeper elements are never matched */
    char *text;                /* character data of the element being read */
    size_t ntext, captext;
    char *filename;
    int width, height;
    voc_obj *obj; /* no limit on the count (growable) */
    int nobj, capobj;
    int bad_number, oom;
} voc_doc;

static void doc_clear(voc_doc *d)
{
    for (int o = 0; o < d->nobj; o++) free(d->obj[o].name);
    free(d->obj), free(d->text), free(d->filename);
    memset(d, 0, sizeof *d);
}

/* Is the open element at depth k (1 = root) named `name`? */
static int at(const voc_doc *d, int k, const char *name)
{
    return k >= 1 && k <= d->depth && k <= VOC_DEPTH && !strcmp(d->stack[k - 1], name);
}

static void on_start(void *ud, const XML_Char *el, const XML_Char **attr)
{
    (void)attr;
    voc_doc *d = ud;
    d->depth++;
    if (d->depth <= VOC_DEPTH) snprintf(d->stack[d->depth - 1], sizeof d->stack[0], "%s", el);
    d->ntext = 0;
    if (d->depth == 2 && at(d, 2, "object")) {
        if (d->nobj == d->capobj) {
            int nc = d->capobj ? 2 * d->capobj : 16;
            voc_obj *n = realloc(d->obj, sizeof *n * (size_t)nc);
            if (!n) {
                d->oom = 1;
                return;
            }
            d->obj = n, d->capobj = nc;
        }
        memset(&d->obj[d->nobj++], 0, sizeof d->obj[0]);
    }
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    voc_doc *d = ud;
    if (d->ntext + (size_t)len + 1 > d->captext) {
        size_t nc = (d->ntext + (size_t)len + 1) * 2;
        char *n = realloc(d->text, nc);
        if (!n) {
            d->oom = 1;
            return;
        }
        d->text = n, d->captext = nc;
    }
    memcpy(d->text + d->ntext, s, (size_t)len);
    d->ntext += (size_t)len;
}

static float num(voc_doc *d)
{
    /* An empty element (<width/>) before any text has no buffer at all: strtod(NULL)
     * (found by tests/fuzz/fuzz_voc_xml with the seeded CI run). */
    const char *t = d->text ? d->text : "";
    char *end;
    double v = strtod(t, &end);
    while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r') end++;
    if (end == t || *end) d->bad_number = 1;
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
    static const char *const k[] = {"xmin", "ymin", "xmax", "ymax"};
    if (d->text) d->text[d->ntext] = 0;
    const char *t = d->text ? d->text : "";
    /* the object being read: only while inside a top-level <object> */
    voc_obj *o = d->nobj && d->depth >= 3 && at(d, 2, "object") ? &d->obj[d->nobj - 1] : NULL;
    if (d->depth == 2 && !strcmp(el, "filename")) {
        free(d->filename);
        d->filename = ds_strdup(t);
    } else if (d->depth == 3 && at(d, 2, "size") && !strcmp(el, "width")) d->width = num_int(d);
    else if (d->depth == 3 && at(d, 2, "size") && !strcmp(el, "height")) d->height = num_int(d);
    else if (o && d->depth == 3 && !strcmp(el, "name") && !o->name) o->name = ds_strdup(t);
    else if (o && d->depth == 3 && !strcmp(el, "difficult")) o->difficult = num_int(d);
    else if (o && d->depth == 4 && at(d, 3, "bndbox"))
        for (int i = 0; i < 4; i++)
            if (!strcmp(el, k[i])) o->box[i] = num(d);
    d->ntext = 0;
    if (d->text) d->text[0] = 0;
    d->depth--;
}

static dy_status parse_xml(const char *path, voc_doc *d)
{
    doc_clear(d);
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
    if (s == DY_OK && d->oom) s = DY_ERR(DY_ENOMEM, "%s: out of memory", path);
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
            const char *nm = d->obj[o].name;
            for (int k = 0; k < n && nm && !seen; k++) seen = !strcmp(names[k], nm);
            if (seen || !nm || !nm[0]) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nn = realloc(names, sizeof(char *) * (size_t)cap);
                if (!nn) return DY_ERR(DY_ENOMEM, "out of memory for VOC classes");
                names = nn;
            }
            names[n++] = ds_strdup(nm);
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
    const char *fn = d->filename ? d->filename : "";
    snprintf(rel, sizeof rel, "JPEGImages/%s", fn[0] ? fn : stem);
    if (!strchr(fn, '.')) snprintf(rel, sizeof rel, "JPEGImages/%s.jpg", stem);
    snprintf(img, sizeof img, "%s/%s", root, rel);
    DY_TRY(ds_add_item(l, img, rel, l->n, &it));
    it->ann_w = d->width;
    it->ann_h = d->height;
    if (d->bad_number) DY_TRY(ds_issue(l, ISS_LABEL_MALFORMED, xml, "a number field is not numeric"));
    for (int o = 0; o < d->nobj; o++) {
        const voc_obj *v = &d->obj[o];
        int c = v->name ? class_of(l, v->name) : -1;
        if (c < 0) {
            DY_TRY(ds_issue(l, ISS_CLASS_UNKNOWN, xml, "object %d: class \"%s\"", o, v->name ? v->name : ""));
            continue;
        }
        float b[4] = {v->box[0] - 1, v->box[1] - 1, v->box[2] - 1, v->box[3] - 1};
        DY_TRY(ds_add_box(it, b, c, v->difficult ? DS_FLAG_DIFFICULT : 0));
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
    voc_doc *d = calloc(1, sizeof *d);
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
    doc_clear(d);
    free(d);
    return s;
}
