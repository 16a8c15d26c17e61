/* validate.c -- implementation of validate.h. */
#include "eval/validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fault.h"
#include "core/log.h"
#include "dist/dist.h"
#include "core/timer.h"
#include "eval/eval_dist.h"

/* Ground truth of image i of a val batch, back in original pixels. */
static dy_status add_ground_truth(eval_set *s, const data_batch *b, int i)
{
    const float *lb = b->letterbox + 4 * i; /* scale_x, scale_y, pad_x, pad_y */
    int64_t id = b->index[i] + 1; /* COCO image ids start at 1 */
    int j = 0;
    for (int t = 0; t < b->ntargets; t++) {
        const float *tg = b->targets + 6 * t;
        if ((int)tg[0] != i) continue;
        double cx = tg[2] * b->w, cy = tg[3] * b->h, w = tg[4] * b->w, h = tg[5] * b->h;
        eval_gt g = {.image_id = id, .ann_id = id * 100000 + ++j, .category = (int)tg[1]};
        g.x = (cx - w / 2 - lb[2]) / lb[0], g.y = (cy - h / 2 - lb[3]) / lb[1];
        g.w = w / lb[0], g.h = h / lb[1];
        g.area = g.w * g.h;
        g.iscrowd = (b->target_flags[t] & 3) != 0; /* crowd and difficult are ignored */
        DY_TRY(eval_set_add_gt(s, &g));
    }
    return DY_OK;
}

static dy_status add_detections(eval_set *s, nms_ctx *ctx, const float *pred, size_t na, int nc,
                                const nms_params *np, const data_batch *b, int i, nms_box *boxes,
                                const validate_hook *hook)
{
    int n = 0;
    DY_TRY(nms_image(ctx, pred, (int)na, nc, np, boxes, &n));
    if (hook) hook->fn(hook->ctx, b, i, boxes, n);
    const float *lb = b->letterbox + 4 * i;
    nms_unletterbox(boxes, n, lb[0], lb[1], lb[2], lb[3], b->orig_size[2 * i], b->orig_size[2 * i + 1]);
    for (int k = 0; k < n; k++) {
        eval_dt d = {.image_id = b->index[i] + 1, .category = boxes[k].cls, .score = boxes[k].score};
        d.x = boxes[k].x1, d.y = boxes[k].y1, d.w = boxes[k].x2 - boxes[k].x1, d.h = boxes[k].y2 - boxes[k].y1;
        DY_TRY(eval_set_add_dt(s, &d));
    }
    return DY_OK;
}

/* Rectangular validation (data.rect: YOLOv5's batches of one shape each, sorted by
 * aspect ratio) changes the input shape from batch to batch: the model is planned
 * for each batch's h x w (a no-op when it is unchanged) and the decode buffer grows
 * with the anchor count.  Without this the forward read a rect batch as if it were
 * square (issue #18). */
static dy_status fit_batch(yolo_model *m, int B, int nc, const data_batch *b, float **out, size_t *cap, size_t *na)
{
    DY_TRY(yolo_model_plan(m, B, b->h, b->w));
    *na = yolo_model_num_anchors_total(m);
    size_t need = (size_t)B * *na * (5 + (size_t)nc);
    if (need <= *cap) return DY_OK;
    float *o = realloc(*out, sizeof(float) * need);
    if (!o) return DY_ERR(DY_ENOMEM, "validation: out of memory for a %dx%d batch", b->h, b->w);
    *out = o, *cap = need;
    return DY_OK;
}

/* YOLOv5's val.py loss of one batch (box, obj, cls) added to sum[0..2], sum[3]
 * counting batches; their mean over all ranks' batches is the run's val loss. */
static dy_status add_loss(yolo_model *m, const data_batch *b, double sum[4])
{
    if (yolo_model_detect_node(m, 0) < 0) return DY_OK;
    yolo_loss_parts lp;
    DY_TRY_CTX(yolo_model_eval_loss(m, b->targets, b->ntargets, b->n, &lp), "validation loss");
    sum[0] += lp.box, sum[1] += lp.obj, sum[2] += lp.cls, sum[3] += 1;
    return DY_OK;
}

static dy_status infer_all(yolo_model *m, data_loader *val, const nms_params *np, double progress_s,
                           const validate_hook *hook, eval_set *local, double loss[4])
{
    int nc = yolo_model_nc(m);
    size_t na = yolo_model_num_anchors_total(m);
    int B = yolo_model_head(m)->batch;
    size_t cap = (size_t)B * na * (5 + (size_t)nc);
    float *out = malloc(sizeof(float) * cap + 1);
    nms_box *boxes = malloc(sizeof *boxes * (size_t)(np->max_det + 1));
    nms_ctx ctx = {0};
    dy_status s = out && boxes ? loader_start_epoch(val, 0, 0) : DY_ERR(DY_ENOMEM, "validation: out of memory");
    log_progress bar;
    log_progress_begin(&bar, "val", (long)loader_steps(val), progress_s);
    long step = 0;
    while (s == DY_OK) {
        data_batch *b = NULL;
        s = loader_next(val, &b);
        if (s != DY_OK || !b) break;
        s = fault_at("validation"); /* tests: as a failed batch of this rank */
        if (s == DY_OK && b->n > 0) s = fit_batch(m, B, nc, b, &out, &cap, &na);
        if (s == DY_OK && b->n > 0) s = yolo_model_forward(m, b->images, 0);
        if (s == DY_OK && b->n > 0) yolo_model_decode(m, out);
        if (s == DY_OK && b->n > 0) s = add_loss(m, b, loss);
        for (int i = 0; s == DY_OK && i < b->n; i++) {
            s = eval_set_add_image(local, b->index[i] + 1);
            if (s == DY_OK) s = add_ground_truth(local, b, i);
            if (s == DY_OK)
                s = add_detections(local, &ctx, out + (size_t)i * na * (5 + nc), na, nc, np, b, i, boxes,
                                   step == 0 && hook && hook->fn ? hook : NULL);
        }
        loader_release(val, b);
        log_progress_update(&bar, ++step, NULL);
    }
    log_progress_end(&bar, step, NULL);
    nms_ctx_free(&ctx);
    free(out), free(boxes);
    return s;
}

/* The mean over every rank's batches (YOLOv5 averages over its batches); NaN without
 * a batch or a Detect layer. */
static dy_status reduce_loss(MPI_Comm comm, double loss[4], validate_result *r)
{
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, loss, 4, MPI_DOUBLE, MPI_SUM, comm));
    for (int k = 0; k < 3; k++) r->loss[k] = loss[3] > 0 ? loss[k] / loss[3] : NAN;
    return DY_OK;
}

dy_status validate_run(yolo_model *m, data_loader *val, MPI_Comm comm, const nms_params *np, double progress_s,
                       const validate_hook *hook, validate_result *r)
{
    memset(r, 0, sizeof *r);
    double t0 = timer_now();
    eval_set local;
    eval_set_init(&local, yolo_model_nc(m));
    double loss[4] = {0, 0, 0, 0};
    dy_status s = infer_all(m, val, np, progress_s, hook, &local, loss);
    /* Every rank reaches the gather (even after a local failure) so none hangs, and
     * all report the failing rank's error. */
    s = dist_agree(comm, s);
    if (s == DY_OK) s = eval_set_allgather(&local, comm, &r->set);
    if (s == DY_OK) s = reduce_loss(comm, loss, r);
    eval_set_free(&local);
    if (s == DY_OK) s = yolo_ap_run(&r->set, &r->yolo);
    if (s == DY_OK) s = coco_eval_run(&r->set, &r->coco);
    r->nimages = (int)r->set.nimages;
    r->seconds = timer_now() - t0;
    r->images_per_s = r->seconds > 0 ? r->nimages / r->seconds : 0;
    if (s != DY_OK) validate_result_free(r);
    return s;
}

void validate_result_free(validate_result *r)
{
    eval_set_free(&r->set);
    yolo_ap_free(&r->yolo);
    coco_eval_free(&r->coco);
}
