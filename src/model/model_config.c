/* model_config.c -- the `model` configuration section: which spec, classes, input
 * size, f16 storage (amp) and threads, plus the loss hyper-parameters.
 *
 * defines: cfg_section_model */
#include "core/config.h"

static const cfg_key model_keys[] = {
    {"model.spec", CFG_STRING, "\"configs/models/yolov5n.json\"", 1, 0, NULL,
     "model spec (JSON, YOLOv5 layer-list structure)"},
    {"model.nc", CFG_INT, "0", 0, 100000, NULL, "number of classes (0: the spec's nc)"},
    {"model.imgsz", CFG_INT, "640", 32, 8192, NULL, "input size in pixels (multiple of 32)"},
    {"model.amp", CFG_BOOL, "false", 1, 0, NULL,
     "mixed precision: f16 activations/gradients (CPU: f16 storage mode), f32 math"},
    {"model.threads", CFG_INT, "0", 0, 1024, NULL, "BLAS threads (0: runtime.threads)"},
    {"model.anchor_t", CFG_FLOAT, "4.0", 1.0, 100.0, NULL, "anchor-target size ratio threshold"},
    {"model.label_smoothing", CFG_FLOAT, "0.0", 0.0, 0.5, NULL, "class label smoothing epsilon"},
};

const cfg_section cfg_section_model = {"model", "network spec, classes, input size, precision",
                                       model_keys, (int)(sizeof model_keys / sizeof model_keys[0])};
