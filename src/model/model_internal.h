/* model_internal.h -- the yolo_model structure, shared by the files of src/model/
 * (model.c builds it, model_run.c runs it); other modules use model.h only.
 *
 * defines: struct yolo_model */
#ifndef DY_MODEL_MODEL_INTERNAL_H
#define DY_MODEL_MODEL_INTERNAL_H

#include "model/model.h"

struct yolo_model {
    char name[256];
    nn_graph *g;
    yolo_layer_info *layers;
    int nlayers;
    int has_detect;
    int det[YOLO_MAX_LEVELS];   /* Detect conv node per level */
    yolo_head head;
    yolo_loss_hyp hyp;
    int hyp_imgsz;              /* imgsz the default hyp was scaled for */
    /* The gains were set for the config's data.imgsz (YOLOv5 scales them by
     * --img once): planning another shape, e.g. a rectangular validation batch,
     * keeps them.  Without a config they follow the planned size. */
    int hyp_pinned;
    yolo_model_opts opts;
    float *dout;                /* d loss / d Detect outputs, all levels (host) */
    float *dlev[YOLO_MAX_LEVELS];
    /* device backends: host copies of the Detect outputs, and dout in backend memory */
    float *hout, *ddev;
    const float *hlev[YOLO_MAX_LEVELS]; /* Detect outputs as the host reads them */
    size_t det_floats;          /* all levels */
    yolo_loss_ws lws;
};

#endif
