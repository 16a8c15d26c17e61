/* confusion.h -- YOLOv5's detection confusion matrix (v7.0 utils/metrics.py
 * ConfusionMatrix): detections with confidence > conf (0.25) are matched to the
 * ground truth of their image class-agnostically at IoU > iou (0.45), each detection
 * to its best ground truth, then each ground truth to its best remaining detection.
 * A matched ground truth counts at (predicted class, true class); an unmatched one in
 * the background row; an unmatched detection in the background column -- only in
 * images where something matched, as v7.0 does (so its plots and ours agree).
 * Rows are predicted classes, columns true classes; index nc is background.  The
 * plot normalises each column (what fraction of class c was predicted as what).
 * defines: confusion_matrix, confusion_init, confusion_free, confusion_add_image,
 *          confusion_from_set, confusion_write_png, confusion_write_csv, CONFUSION_CONF,
 *          CONFUSION_IOU
 */
#ifndef DY_EVAL_CONFUSION_H
#define DY_EVAL_CONFUSION_H

#include <stddef.h>

#include "eval/eval_set.h"

#define CONFUSION_CONF 0.25
#define CONFUSION_IOU 0.45

typedef struct {
    int nc;
    double *m; /* (nc + 1) x (nc + 1), row-major: m[pred * (nc + 1) + true] */
} confusion_matrix;

dy_status confusion_init(confusion_matrix *c, int nc);
void confusion_free(confusion_matrix *c);
/* One image's ground truth and detections (any order; crowd ground truth is left
 * out, as the mAP does); conf and iou are the thresholds above. */
dy_status confusion_add_image(confusion_matrix *c, const eval_gt *gt, size_t ngt, const eval_dt *dt, size_t ndt,
                              double conf, double iou);
/* Every image of a gathered validation set. */
dy_status confusion_from_set(confusion_matrix *c, const eval_set *s, double conf, double iou);
/* The column-normalised heat map with class names (names may be NULL). */
dy_status confusion_write_png(const confusion_matrix *c, const char *const *names, const char *path);
/* The counts as CSV: nc + 1 rows (predicted class, then background) of nc + 1
 * columns (true class, then background). */
dy_status confusion_write_csv(const confusion_matrix *c, const char *path);

#endif
