/* model_config.c -- the `model` configuration section: which spec, classes, input
 * size, f16 storage (amp) and threads, plus the loss hyper-parameters; and building a
 * model from an effective configuration.
 *
 * defines: cfg_section_model, yolo_model_from_config, yolo_model_from_config_text */

#include "core/affinity.h"
#include "core/config.h"
#include "model/model.h"
#include "model/model_internal.h"

static const cfg_key model_keys[] = {
    {"model.spec", CFG_STRING, "\"configs/models/yolov5n.json\"", 1, 0, NULL,
     "model spec (JSON, YOLOv5 layer-list structure)"},
    {"model.nc", CFG_INT, "0", 0, 100000, NULL, "number of classes (0: the spec's nc)"},
    {"model.weights", CFG_STRING, "\"\"", 1, 0, NULL,
     "start from these weights (dyolo import / ckpt export file, or a checkpoint; EMA weights preferred): every "
     "tensor whose name and size match is copied, the rest (e.g. Detect outputs for another nc) keeps its init"},
    {"model.anchor_t", CFG_FLOAT, "4.0", 1.0, 100.0, NULL, "anchor-target size ratio threshold"},
    {"model.autoanchor", CFG_BOOL, "true", 1, 0, NULL,
     "YOLOv5's AutoAnchor: before a fresh run, if 98% or fewer of the training boxes fit an anchor (w and h "
     "within anchor_t), evolve new anchors (k-means + 1000 generations) and train with them if they fit better; "
     "the checkpoints' model spec keeps them"},
    {"model.label_smoothing", CFG_FLOAT, "0.0", 0.0, 0.5, NULL, "class label smoothing epsilon"},
};

const cfg_section cfg_section_model = {"model", "network spec, classes, input size, precision",
                                       model_keys, (int)(sizeof model_keys / sizeof model_keys[0])};

/* The options and loss hyper-parameters of the config (after the spec built m). */
static void apply_config(const cfg *c, yolo_model *m)
{
    int threads = (int)cfg_int(c, "runtime.threads");
    if (threads == 0) threads = aff_threads(); /* the CPUs the rank is bound to (core/affinity.h) */
    yolo_model_opts o = {.threads = threads, .f16 = cfg_bool(c, "train.amp"), .loss_scale = 1.f};
    yolo_model_set_opts(m, &o);
    yolo_loss_hyp *h = yolo_model_hyp(m);
    int imgsz = (int)cfg_int(c, "data.imgsz");
    yolo_loss_hyp_default(h, yolo_model_nc(m), imgsz, yolo_model_head(m)->nl);
    /* fixed for data.imgsz, whatever shape is planned later (a rectangular validation
     * batch of 352 x 288 px must not raise the objectness gain by (352 / 320)^2) */
    m->hyp_imgsz = imgsz, m->hyp_pinned = 1;
    h->anchor_t = (float)cfg_float(c, "model.anchor_t");
    h->label_smoothing = (float)cfg_float(c, "model.label_smoothing");
}

dy_status yolo_model_from_config(const cfg *c, int nc, const tn_backend *be, yolo_model **out)
{
    const char *spec = cfg_str(c, "model.spec");
    if (nc <= 0) nc = (int)cfg_int(c, "model.nc");
    DY_TRY_CTX(yolo_model_create_on(be, spec, nc, out), "model.spec");
    apply_config(c, *out);
    return DY_OK;
}

dy_status yolo_model_from_config_text(const cfg *c, const char *spec_text, int nc, const tn_backend *be,
                                      yolo_model **out)
{
    if (nc <= 0) nc = (int)cfg_int(c, "model.nc");
    DY_TRY_CTX(yolo_model_create_json_on(be, spec_text, cfg_str(c, "model.spec"), nc, out), "model.spec");
    apply_config(c, *out);
    return DY_OK;
}
