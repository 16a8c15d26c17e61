/* loss.h -- the YOLOv5 training loss (ComputeLoss semantics of YOLOv5 v6/v7):
 * anchor matching by width/height ratio < anchor_t, two neighbouring cells per target,
 * box loss 1 - CIoU, objectness BCE against the detached IoU, class BCE with optional
 * label smoothing, per-level objectness balance, and the total scaled by batch size.
 * It reads the raw Detect outputs (CNHW, channel = anchor * (5 + nc) + field) and
 * writes d(total)/d(output) into buffers of the same layout.
 *
 * defines: yolo_head, yolo_loss_hyp, yolo_loss_parts, yolo_loss_ws, yolo_loss_hyp_default,
 *          yolo_loss_compute, yolo_loss_ws_free, yolo_ciou */
#ifndef DY_MODEL_LOSS_H
#define DY_MODEL_LOSS_H

#include <stddef.h>

#include "core/err.h"

#define YOLO_MAX_LEVELS 4
#define YOLO_MAX_ANCHORS 4

typedef struct {
    int nl, na, nc, batch;
    int ny[YOLO_MAX_LEVELS], nx[YOLO_MAX_LEVELS];
    float stride[YOLO_MAX_LEVELS];
    float anchors[YOLO_MAX_LEVELS][YOLO_MAX_ANCHORS][2]; /* pixels */
} yolo_head;

typedef struct {
    float box, obj, cls;      /* gains after YOLOv5's rescaling */
    float anchor_t;           /* 4.0 */
    float label_smoothing;    /* 0.0 */
    float balance[YOLO_MAX_LEVELS];
} yolo_loss_hyp;

typedef struct {
    float box, obj, cls;      /* components (before the batch-size factor) */
    float total;              /* (box + obj + cls) * batch */
    double total64;           /* the same in double (for gradient checks) */
    int matches;
} yolo_loss_parts;

/* Workspace reused across steps (grows only when the target count grows).  With
 * freeze = 1 the detached quantities (CIoU alpha and the objectness IoU targets) are
 * replayed from the previous call instead of recomputed: gradient checks use it to
 * differentiate exactly the function whose gradient the loss returns. */
typedef struct {
    double *alpha, *tiou;
    size_t cap, used;
    float *tobj;
    size_t tobj_cap;
    void *matches; /* per-level match list */
    size_t mcap;
    int freeze;
    /* Optional: replaces the per-level match counts (the box/class normalizers) in
     * place, e.g. by their sum over data-parallel ranks divided by the number of
     * ranks, so that the ranks' losses add up to the loss of the whole global batch
     * and training does not depend on how the batch is split. */
    void (*count_reduce)(double *counts, int n, void *user);
    void *count_reduce_user;
} yolo_loss_ws;

void yolo_loss_hyp_default(yolo_loss_hyp *h, int nc, int imgsz, int nl);
dy_status yolo_loss_compute(const yolo_head *hd, const yolo_loss_hyp *hp, const float *const *out,
                            float *const *grad, const float *targets, int nt, yolo_loss_ws *ws,
                            yolo_loss_parts *res);
void yolo_loss_ws_free(yolo_loss_ws *ws);

/* CIoU of xywh boxes p (prediction) and t; alpha < 0: computed (and returned in
 * *alpha_out), else used as the detached trade-off.  dp: d CIoU / d p (may be NULL). */
double yolo_ciou(const double p[4], const double t[4], double alpha, double *alpha_out, double dp[4]);

#endif
