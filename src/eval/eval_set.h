/* eval_set.h -- ground truth and detections of a validation set, in original-image
 * pixel coordinates (COCO's x, y, w, h), as consumed by both mAP protocols.
 *
 * Ground-truth flags follow pycocotools: `iscrowd` boxes match with intersection over
 * the detection's area, and detections matched to them are neither true nor false
 * positives.  VOC "difficult" boxes are given iscrowd = 1 when a dataset is packed for
 * evaluation: pycocotools overwrites any other "ignore" field with iscrowd, so this is
 * the only way a COCO tool re-evaluating our exported files agrees with us.
 * Categories are contiguous class ids 0..ncat-1.
 *
 * defines: eval_gt, eval_dt, eval_set, eval_set_init, eval_set_free, eval_set_add_gt,
 *          eval_set_add_dt, eval_set_add_image
 */
#ifndef DY_EVAL_SET_H
#define DY_EVAL_SET_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct {
    int64_t image_id;
    int64_t ann_id; /* >= 1, unique (pycocotools treats id 0 as "no match") */
    int category;
    double x, y, w, h;
    double area; /* COCO "area" (w*h for boxes we create) */
    int iscrowd;
} eval_gt;

typedef struct {
    int64_t image_id;
    int category;
    double x, y, w, h;
    double score;
} eval_dt;

typedef struct {
    eval_gt *gt;
    size_t ngt, cap_gt;
    eval_dt *dt;
    size_t ndt, cap_dt;
    int64_t *images; /* every evaluated image, including ones without boxes */
    size_t nimages, cap_images;
    int ncat;
} eval_set;

void eval_set_init(eval_set *s, int ncat);
void eval_set_free(eval_set *s);
dy_status eval_set_add_image(eval_set *s, int64_t image_id);
dy_status eval_set_add_gt(eval_set *s, const eval_gt *g);
dy_status eval_set_add_dt(eval_set *s, const eval_dt *d);

#endif
