/* dataset.h -- an imported detection dataset before packing: the list of samples
 * (image file, boxes, classes, flags), the class table, and the problems found.
 * Importers (import_yolo.c, import_coco.c, import_voc.c) fill it; pack.c validates
 * the boxes against the decoded images and writes shards.
 *
 * Box convention inside a ds_item: x0 y0 x1 y1, either normalized to [0,1]
 * (YOLO sources, pixel == 0) or in pixels of the original image (VOC, COCO).
 *
 * defines: ds_format, ds_issue_kind, ds_item, ds_list, ds_list_free, ds_issue,
 *          ds_issue_name, ds_add_item, ds_add_box, ds_import, ds_format_parse,
 *          DS_FLAG_CROWD, DS_FLAG_DIFFICULT
 */
#ifndef DY_DATA_DATASET_H
#define DY_DATA_DATASET_H

#include <stdint.h>

#include "core/err.h"

#define DS_FLAG_CROWD 1u
#define DS_FLAG_DIFFICULT 2u

typedef enum { DS_YOLO, DS_COCO, DS_VOC } ds_format;

typedef enum {
    ISS_IMAGE_UNREADABLE, /* cannot open/read the file (sample dropped) */
    ISS_IMAGE_CORRUPT,    /* not a decodable JPEG/PNG (sample dropped) */
    ISS_LABEL_MISSING,    /* no label file: kept as a background image */
    ISS_LABEL_MALFORMED,  /* unparsable row/file/element (row dropped) */
    ISS_BOX_RANGE,        /* box exceeds the image by more than 1 px (clipped) */
    ISS_BOX_ZERO,         /* zero or negative area after clipping (dropped) */
    ISS_CLASS_UNKNOWN,    /* class id/name not in the class table (dropped) */
    ISS_BOX_DUPLICATE,    /* same class and coordinates as an earlier box (dropped) */
    ISS_SIZE_MISMATCH,    /* annotation's image size differs from the file's */
    ISS_COUNT
} ds_issue_kind;

typedef struct {
    char *path;   /* image file to read */
    char *name;   /* stored source name (path relative to the dataset root) */
    int64_t id;   /* source id (COCO image id; otherwise the item's index) */
    int ann_w, ann_h; /* size declared by the annotation (0: none) */
    int label_missing;
    int nbox, capbox;
    float *box;   /* nbox * 4: x0 y0 x1 y1 */
    int32_t *cls;
    uint8_t *flags;
} ds_item;

typedef struct {
    ds_format format;
    int pixel;            /* boxes are in pixels (VOC/COCO) instead of normalized */
    ds_item *items;
    int n, cap;
    char **names;         /* class names, nclass */
    int64_t *class_src;   /* source category id of each class (COCO ids; else 0..K-1) */
    int nclass;
    char *root;           /* dataset root, for relative names */
    char **issues;        /* "kind: file: detail" lines, in item order */
    int nissues, capissues;
    long counts[ISS_COUNT];
} ds_list;

const char *ds_issue_name(ds_issue_kind k);
dy_status ds_format_parse(const char *s, ds_format *out);
/* Record a problem (also counted).  Returns DY_OK unless out of memory. */
dy_status ds_issue(ds_list *l, ds_issue_kind k, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
dy_status ds_add_item(ds_list *l, const char *path, const char *name, int64_t id, ds_item **out);
dy_status ds_add_box(ds_item *it, const float b[4], int32_t cls, uint8_t flags);
dy_status ds_set_names(ds_list *l, char **names, int n);
void ds_list_free(ds_list *l);

/* Import `input` (data.yaml or folder; COCO JSON; VOC root) for `split` (NULL: the
 * format's default: "train" for YOLO, every annotation for VOC).  Deterministic:
 * every rank that calls it gets the same list. */
dy_status ds_import(ds_format f, const char *input, const char *split, ds_list *out);
dy_status ds_import_yolo(const char *input, const char *split, ds_list *out);
dy_status ds_import_coco(const char *input, ds_list *out);
dy_status ds_import_voc(const char *input, const char *split, ds_list *out);

/* Helpers shared by the importers. */
char *ds_strdup(const char *s);
int ds_is_image_name(const char *name);
dy_status ds_list_dir(const char *dir, int images_only, char ***names, int *n);
void ds_free_strings(char **v, int n);
int ds_path_exists(const char *p, int want_dir);

#endif
