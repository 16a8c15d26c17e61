/* validate.h -- distributed validation of a model on a validation loader: every
 * rank runs inference on its slice (letterbox, f32 or f16 as the model is set),
 * decodes, applies NMS, maps boxes back to original pixels, then the sets are
 * gathered canonically (eval_dist.h) and both mAP protocols are computed, giving
 * bit-identical results on every rank and for every world size.
 * defines: validate_result, validate_hook, validate_run, validate_result_free */
#ifndef DY_EVAL_VALIDATE_H
#define DY_EVAL_VALIDATE_H

#include <mpi.h>

#include "data/loader.h"
#include "eval/coco_eval.h"
#include "eval/eval_set.h"
#include "eval/nms.h"
#include "eval/yolo_ap.h"
#include "model/model.h"

typedef struct {
    eval_set set;          /* gathered ground truth and detections (original pixels) */
    yolo_ap_result yolo;
    coco_eval_result coco;
    int nimages;
    double seconds, images_per_s; /* inference + NMS + metrics, global images */
    /* YOLOv5's validation loss (box, obj, cls, gains applied: results.csv's
     * val/box_loss, val/obj_loss, val/cls_loss): the mean over all ranks' batches
     * of the loss of the eval-mode outputs; NaN for a model without Detect.  Each
     * rank's slice of a step is a batch of its own, so unlike the metrics it
     * depends a little on the number of ranks (as YOLOv5's does on its batch). */
    double loss[3];
} validate_result;

/* Sees each image of this rank's first validation batch after NMS, before the boxes
 * are mapped back to original pixels (they are in the batch's network pixels): the
 * trainer draws val_batch0_*.jpg from it.  Local; must not fail the validation. */
typedef struct {
    void (*fn)(void *ctx, const data_batch *b, int i, const nms_box *boxes, int n);
    void *ctx;
} validate_hook;

/* The model must be planned for the loader's per-rank batch size.  Collective.
 * hook may be NULL. */
dy_status validate_run(yolo_model *m, data_loader *val, MPI_Comm comm, const nms_params *np, double progress_s,
                       const validate_hook *hook, validate_result *r);
void validate_result_free(validate_result *r);

#endif
