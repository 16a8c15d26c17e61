/* import_yolo.c -- Ultralytics YOLO datasets: a data.yaml (libyaml; path/train/val/
 * names) or a folder of images with a sibling labels folder.  Label rows are
 * "class cx cy w h" (normalized); longer rows are polygons "class x1 y1 x2 y2 ..."
 * and become their bounding box, as Ultralytics does. */
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/check.h"
#include "data/dataset.h"

#define MAX_ROW_VALUES 4096
/* Without a data.yaml the class table is 0..max id seen: a stray huge id must not
 * size it (1.2e9 asked for 9.6 GB: found by tests/fuzz/fuzz_yolo_labels). */
#define MAX_FOLDER_CLASSES 65536

/* Scalar value of `key` in a YAML mapping node, or NULL. */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* names: either a sequence or a mapping {0: a, 1: b}. */
static dy_status read_names(yaml_document_t *doc, yaml_node_t *n, const char *file, ds_list *l)
{
    int cnt = 0;
    if (n->type == YAML_SEQUENCE_NODE) cnt = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    else if (n->type == YAML_MAPPING_NODE) cnt = (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    else return DY_ERR(DY_EFORMAT, "%s: \"names\" must be a list or a mapping", file);
    char **v = calloc((size_t)(cnt ? cnt : 1), sizeof(char *));
    if (!v) return DY_ERR(DY_ENOMEM, "out of memory reading names");
    for (int i = 0; i < cnt; i++) {
        const char *name;
        int idx = i;
        if (n->type == YAML_SEQUENCE_NODE) {
            name = scalar(yaml_document_get_node(doc, n->data.sequence.items.start[i]));
        } else {
            yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
            const char *ks = scalar(yaml_document_get_node(doc, p->key));
            char *end;
            idx = ks ? (int)strtol(ks, &end, 10) : -1;
            if (!ks || *end || idx < 0 || idx >= cnt) idx = -1;
            name = scalar(yaml_document_get_node(doc, p->value));
        }
        if (!name || idx < 0 || v[idx]) {
            ds_free_strings(v, cnt);
            return DY_ERR(DY_EFORMAT, "%s: names entry %d is not \"index: name\" with indices 0..%d", file,
                          i, cnt - 1);
        }
        v[idx] = ds_strdup(name);
    }
    return ds_set_names(l, v, cnt);
}

/* Ultralytics: .../images/... -> .../labels/..., extension -> .txt */
static void label_path(const char *img, char *out, size_t n)
{
    snprintf(out, n, "%s", img);
    char *p = strstr(out, "/images/"), *last = NULL;
    while (p) {
        last = p;
        p = strstr(p + 1, "/images/");
    }
    if (last) memcpy(last, "/labels/", 8);
    char *dot = strrchr(out, '.');
    if (dot && (size_t)(dot - out) + 5 <= n) strcpy(dot, ".txt");
}

static dy_status parse_row(ds_list *l, ds_item *it, const char *lab, int lineno, char *line)
{
    double v[MAX_ROW_VALUES];
    int nv = 0;
    char *tok, *save = NULL;
    for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        char *end;
        if (nv == MAX_ROW_VALUES) return ds_issue(l, ISS_LABEL_MALFORMED, lab, "line %d: too many values", lineno);
        v[nv] = strtod(tok, &end);
        if (*end) return ds_issue(l, ISS_LABEL_MALFORMED, lab, "line %d: \"%s\" is not a number", lineno, tok);
        nv++;
    }
    if (nv == 0) return DY_OK;
    if (nv != 5 && (nv < 7 || (nv - 1) % 2))
        return ds_issue(l, ISS_LABEL_MALFORMED, lab, "line %d: %d values (want 5, or 1 + pairs for a polygon)",
                        lineno, nv);
    /* Range-check before the cast: converting NaN or a huge value to int is undefined
     * (found by tests/fuzz/fuzz_yolo_labels). */
    int c = v[0] >= 0 && v[0] <= INT_MAX ? (int)v[0] : -1;
    if (v[0] != c || c < 0 || (l->nclass > 0 && c >= l->nclass) || (l->nclass == 0 && c >= MAX_FOLDER_CLASSES))
        return ds_issue(l, ISS_CLASS_UNKNOWN, lab, "line %d: class %g (have %d classes)", lineno, v[0], l->nclass);
    float b[4];
    if (nv == 5) {
        b[0] = (float)(v[1] - v[3] / 2), b[1] = (float)(v[2] - v[4] / 2);
        b[2] = (float)(v[1] + v[3] / 2), b[3] = (float)(v[2] + v[4] / 2);
    } else {
        b[0] = b[1] = 1e30f, b[2] = b[3] = -1e30f;
        for (int k = 1; k + 1 < nv; k += 2) {
            b[0] = fminf(b[0], (float)v[k]), b[2] = fmaxf(b[2], (float)v[k]);
            b[1] = fminf(b[1], (float)v[k + 1]), b[3] = fmaxf(b[3], (float)v[k + 1]);
        }
    }
    return ds_add_box(it, b, c, 0);
}

static dy_status read_labels(ds_list *l, ds_item *it, const char *lab)
{
    FILE *f = fopen(lab, "r");
    if (!f) {
        it->label_missing = 1;
        return ds_issue(l, ISS_LABEL_MISSING, lab, "no label file for %s (kept as background)", it->name);
    }
    char line[65536];
    int lineno = 0;
    dy_status s = DY_OK;
    while (s == DY_OK && fgets(line, sizeof line, f)) s = parse_row(l, it, lab, ++lineno, line);
    fclose(f);
    return s;
}

static dy_status add_image_dir(ds_list *l, const char *dir)
{
    char **files;
    int n;
    DY_TRY(ds_list_dir(dir, 1, &files, &n));
    dy_status s = DY_OK;
    size_t rl = strlen(l->root);
    for (int i = 0; i < n && s == DY_OK; i++) {
        char img[4096], lab[4096];
        ds_item *it;
        snprintf(img, sizeof img, "%s/%s", dir, files[i]);
        const char *rel = !strncmp(img, l->root, rl) && img[rl] == '/' ? img + rl + 1 : img;
        if ((s = ds_add_item(l, img, rel, l->n, &it)) != DY_OK) break;
        label_path(img, lab, sizeof lab);
        s = read_labels(l, it, lab);
    }
    ds_free_strings(files, n);
    return s;
}

/* A split entry: a directory of images or a .txt list of image paths. */
static dy_status add_split_entry(ds_list *l, const char *base, const char *entry)
{
    char p[4096];
    if (entry[0] == '/') snprintf(p, sizeof p, "%s", entry);
    else snprintf(p, sizeof p, "%s/%s", base, entry);
    if (ds_path_exists(p, 1)) return add_image_dir(l, p);
    if (!ds_path_exists(p, 0)) return DY_ERR(DY_ENOENT, "split path %s does not exist", p);
    FILE *f = fopen(p, "r");
    SYS_CHECK(f, DY_EIO, "cannot open %.480s", p);
    char line[4096];
    dy_status s = DY_OK;
    while (s == DY_OK && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        char img[8192], lab[8192];
        ds_item *it;
        if (line[0] == '/') snprintf(img, sizeof img, "%s", line);
        else snprintf(img, sizeof img, "%s/%s", base, line[0] == '.' && line[1] == '/' ? line + 2 : line);
        if ((s = ds_add_item(l, img, line, l->n, &it)) != DY_OK) break;
        label_path(img, lab, sizeof lab);
        s = read_labels(l, it, lab);
    }
    fclose(f);
    return s;
}

static dy_status import_yaml(const char *file, const char *split, ds_list *l)
{
    FILE *f = fopen(file, "rb");
    SYS_CHECK(f, DY_ENOENT, "cannot open %.480s", file);
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        dy_status s = DY_ERR(DY_EFORMAT, "%s:%zu: YAML error: %s", file, parser.problem_mark.line + 1,
                             parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        fclose(f);
        return s;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    char dir[4096], base[4096];
    char tmpd[4096];
    snprintf(tmpd, sizeof tmpd, "%s", file);
    snprintf(dir, sizeof dir, "%s", dirname(tmpd));
    /* "path" is relative to Ultralytics' datasets dir; when that does not resolve
     * from the yaml's folder, the yaml's folder is the root (the usual layout). */
    const char *path = scalar(map_get(&doc, root, "path"));
    if (path && (!strcmp(path, ".") || !strcmp(path, "./") || !path[0])) path = NULL;
    if (path && path[0] == '/' && ds_path_exists(path, 1)) snprintf(base, sizeof base, "%s", path);
    else if (path && snprintf(base, sizeof base, "%s/%s", dir, path) > 0 && ds_path_exists(base, 1)) {
    } else snprintf(base, sizeof base, "%s", dir);
    dy_status s = DY_OK;
    yaml_node_t *names = map_get(&doc, root, "names"), *sp = map_get(&doc, root, split);
    l->root = ds_strdup(base);
    if (!names) s = DY_ERR(DY_EFORMAT, "%s: no \"names\"", file);
    else s = read_names(&doc, names, file, l);
    /* As YOLOv5's check_dataset: an "nc" that disagrees with "names" is an error (which
     * one is right cannot be guessed). */
    const char *ncs = scalar(map_get(&doc, root, "nc"));
    char *end = NULL;
    long nc = ncs ? strtol(ncs, &end, 10) : 0;
    if (s == DY_OK && ncs && (*end || end == ncs || nc != l->nclass))
        s = DY_ERR(DY_EFORMAT, "%s: nc is %s but names has %d entries", file, ncs, l->nclass);
    if (s == DY_OK && (!sp || (sp->type == YAML_SCALAR_NODE && !scalar(sp)[0])))
        s = DY_ERR(DY_ENOENT, "%s: no split \"%s\"", file, split);
    if (s == DY_OK && sp->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = sp->data.sequence.items.start; s == DY_OK && i < sp->data.sequence.items.top; i++) {
            const char *e = scalar(yaml_document_get_node(&doc, *i));
            s = e ? add_split_entry(l, base, e) : DY_ERR(DY_EFORMAT, "%s: bad \"%s\" entry", file, split);
        }
    } else if (s == DY_OK) {
        /* A mapping (or any non-scalar) is not a split entry: refuse it rather than
         * follow a NULL path (found by tests/fuzz/fuzz_data_yaml). */
        s = scalar(sp) ? add_split_entry(l, base, scalar(sp))
                       : DY_ERR(DY_EFORMAT, "%s: \"%s\" must be a path or a list of paths", file, split);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return s;
}

/* Folder input without a yaml: class names are the ids seen. */
static dy_status import_folder(const char *dir, const char *split, ds_list *l)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/images/%s", dir, split);
    if (!ds_path_exists(p, 1)) snprintf(p, sizeof p, "%s/images", dir);
    if (!ds_path_exists(p, 1)) snprintf(p, sizeof p, "%s", dir);
    l->root = ds_strdup(dir);
    DY_TRY(add_image_dir(l, p));
    int maxc = -1;
    for (int i = 0; i < l->n; i++)
        for (int k = 0; k < l->items[i].nbox; k++)
            if (l->items[i].cls[k] > maxc) maxc = l->items[i].cls[k];
    char **v = calloc((size_t)(maxc + 2), sizeof(char *));
    if (!v) return DY_ERR(DY_ENOMEM, "out of memory for names");
    for (int c = 0; c <= maxc; c++) {
        char nm[32];
        snprintf(nm, sizeof nm, "%d", c);
        v[c] = ds_strdup(nm);
    }
    return ds_set_names(l, v, maxc + 1);
}

dy_status ds_import_yolo(const char *input, const char *split, ds_list *l)
{
    l->pixel = 0;
    if (!split) split = "train";
    if (ds_path_exists(input, 1)) return import_folder(input, split, l);
    return import_yaml(input, split, l);
}
