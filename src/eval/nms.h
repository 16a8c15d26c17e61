/* nms.h -- YOLOv5-style post-processing of decoded predictions: confidence =
 * objectness x class probability, class-aware greedy non-maximum suppression, at most
 * max_det boxes per image, and mapping back through the letterbox to original pixels.
 *
 * Validation uses multi_label (every class whose confidence passes the threshold
 * becomes a candidate, conf 0.001, IoU 0.6, 300 boxes); `detect` uses the best class
 * only (conf 0.25, IoU 0.45).  Each class is suppressed independently, which equals
 * YOLOv5's offset-by-class batched NMS, and stops after max_det kept boxes (a class
 * cannot contribute more), so the cost stays O(candidates x max_det).
 *
 * defines: nms_params, nms_box, nms_ctx, nms_ctx_free, nms_image, nms_unletterbox,
 *          NMS_VAL_DEFAULTS, NMS_DETECT_DEFAULTS
 */
#ifndef DY_EVAL_NMS_H
#define DY_EVAL_NMS_H

#include <stddef.h>

#include "core/err.h"

typedef struct {
    float conf_thres;
    float iou_thres;
    int max_det;
    int multi_label;
    int max_candidates; /* YOLOv5's max_nms: keep the best this many before NMS */
} nms_params;

#define NMS_VAL_DEFAULTS ((nms_params){0.001f, 0.6f, 300, 1, 30000})
#define NMS_DETECT_DEFAULTS ((nms_params){0.25f, 0.45f, 1000, 0, 30000})

typedef struct {
    float x1, y1, x2, y2, score;
    int cls;
} nms_box;

typedef struct {
    nms_box *cand;
    size_t cap;
    unsigned char *dead;
    size_t cap_dead;
} nms_ctx; /* reusable scratch; zero-initialize */

void nms_ctx_free(nms_ctx *c);

/* pred: [na][5 + nc] rows (cx, cy, w, h, objectness, class probabilities).
 * Writes at most p->max_det boxes to out (sorted by score) and their count to *n. */
dy_status nms_image(nms_ctx *c, const float *pred, int na, int nc, const nms_params *p, nms_box *out, int *n);

/* Undo a letterbox (resize by scale_x, scale_y, then pad by pad_x/pad_y) and clip to
 * w x h. */
void nms_unletterbox(nms_box *b, int n, float scale_x, float scale_y, float pad_x, float pad_y, int w, int h);

#endif
