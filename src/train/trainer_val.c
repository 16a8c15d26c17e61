/* trainer_val.c -- validation during training: the EMA weights are swapped in, the
 * model is re-planned for the validation batch, every rank validates its slice, and
 * the metrics (identical on all ranks) decide the best checkpoint; rank 0 queues
 * the validation plots (trainer_plots.h). */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "eval/report.h"
#include "eval/validate.h"
#include "train/trainer_internal.h"
#include "train/trainer_plots.h"

static void swap_weights(trainer *t, int in)
{
    yolo_model *m = t->model;
    size_t np = yolo_model_num_params(m), nb = yolo_model_num_buffers(m);
    const tn_backend *be = yolo_model_backend(m);
    if (!t->ts.hyp.ema) return;
    if (in) {
        be->copy(t->val_params, yolo_model_params(m), np * sizeof(float));
        be->copy(t->val_buffers, yolo_model_buffers(m), nb * sizeof(float));
        be->copy(yolo_model_params(m), t->ts.ema.v, np * sizeof(float));
        be->copy(yolo_model_buffers(m), t->buf_ema.v, nb * sizeof(float));
    } else {
        be->copy(yolo_model_params(m), t->val_params, np * sizeof(float));
        be->copy(yolo_model_buffers(m), t->val_buffers, nb * sizeof(float));
    }
}

static void write_reports(trainer *t, const validate_result *v)
{
    eval_report rep = {(const char *const *)t->names, v->nimages, &v->coco, &v->yolo, cfg_str(t->cfg, "train.val_protocol")};
    if (t->dist->rank != 0) return;
    eval_report_print(stdout, &rep);
    fflush(stdout);
    char path[1100];
    snprintf(path, sizeof path, "%s/val.json", t->run_dir);
    if (eval_report_write_json(&rep, path) != DY_OK) log_warn("%s", err_msg());
    snprintf(path, sizeof path, "%s/pr_curve.png", t->run_dir);
    if (eval_report_write_pr_png(&rep, path) != DY_OK) log_warn("%s", err_msg());
}

dy_status trainer_val(trainer *t, trainer_val_out *o)
{
    yolo_model *m = t->model;
    swap_weights(t, 1);
    nms_params np = NMS_VAL_DEFAULTS;
    validate_result v;
    dy_status s = yolo_model_plan(m, t->val_batch, t->imgsz, t->imgsz);
    if (s == DY_OK) s = validate_run(m, t->val, t->dist->world, &np, cfg_float(t->cfg, "log.progress_interval"),
                                        trainer_plots_val_hook(t), &v);
    dy_status s2 = yolo_model_plan(m, (int)t->batch, t->imgsz, t->imgsz);
    swap_weights(t, 0);
    DY_TRY(s);
    if (s2 != DY_OK) {
        validate_result_free(&v);
        return s2;
    }
    eval_report rep = {(const char *const *)t->names, v.nimages, &v.coco, &v.yolo, cfg_str(t->cfg, "train.val_protocol")};
    eval_report_headline(&rep, &o->map50, &o->map);
    o->fitness = 0.1 * o->map50 + 0.9 * o->map;
    o->p = v.yolo.mp, o->r = v.yolo.mr;
    memcpy(o->loss, v.loss, sizeof o->loss);
    log_info("val epoch %lld: %d images, mAP50 %.4f mAP50-95 %.4f (%s protocol), loss box %.4f obj %.4f cls %.4f, "
             "%.1f img/s", (long long)t->epoch + 1, v.nimages, o->map50, o->map, rep.protocol, v.loss[0], v.loss[1],
             v.loss[2], v.images_per_s);
    write_reports(t, &v);
    trainer_plots_val(t, &v); /* rank 0 only: t->plots is NULL elsewhere */
    validate_result_free(&v);
    return DY_OK;
}
