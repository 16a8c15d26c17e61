/* model.h -- a YOLOv5 detector built from a JSON model spec (configs/models/yolov5?.json,
 * the YOLOv5 YAML structure: backbone and head as [from, repeats, module, args]
 * lists scaled by depth_multiple / width_multiple), with its flat parameter,
 * gradient and BN-statistics buffers, training step pieces and inference decode.
 *
 * A training step:  yolo_model_plan(m, B, H, W)  (once per shape; no allocation after)
 *                   yolo_model_forward(m, images_u8_nchw, 1)
 *                   yolo_model_loss(m, targets, nt, &parts)
 *                   yolo_model_backward(m)   -> yolo_model_grads(m)
 * Inference:        yolo_model_forward(m, images, 0); yolo_model_decode(m, out)
 *
 * defines: yolo_model, yolo_layer_info, yolo_model_opts, yolo_model_create,
 *          yolo_model_create_json, yolo_model_from_config, yolo_model_from_config_text, yolo_model_free, yolo_model_init, yolo_model_plan,
 *          yolo_model_forward, yolo_model_prefetch, yolo_model_loss, yolo_model_eval_loss,
 *          yolo_model_backward, yolo_model_decode,
 *          yolo_model_* accessors (yolo_model_detect_node ...), yolo_model_check_finite,
 *          yolo_model_set_anchors, yolo_model_anchors_from_spec, yolo_spec_with_anchors */
#ifndef DY_MODEL_MODEL_H
#define DY_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "core/err.h"
#include "model/loss.h"
#include "nn/graph.h"

typedef struct yolo_model yolo_model;

extern const cfg_section cfg_section_model; /* model_config.c */

/* One row of the summary: a spec layer. */
typedef struct {
    char from[32], module[24], args[64];
    int repeats;
    size_t params;
    int node;          /* graph node holding its output */
} yolo_layer_info;

/* Per-model runtime options; all default to 0/NULL except loss_scale (1). */
typedef struct {
    int threads;        /* BLAS threads (0: leave as is) */
    int f16;            /* f16 storage mode */
    int accumulate;     /* accumulate parameter gradients over micro-batches */
    float loss_scale;   /* applied to the loss gradient at the start of backward */
    nn_grad_ready_fn grad_ready;  /* called when a flat gradient range is final */
    void *grad_ready_user;
    void (*bn_reduce)(float *buf, int n, void *user); /* SyncBN statistics all-reduce */
    void *bn_reduce_user;
    void (*count_reduce)(double *counts, int n, void *user); /* see yolo_loss_ws */
    void *count_reduce_user;
} yolo_model_opts;

/* nc <= 0 keeps the spec's nc.  The model lives on the CPU backend; the _on
 * variants put its buffers and compute on backend be (NULL: CPU). */
dy_status yolo_model_create(const char *spec_path, int nc, yolo_model **out);
dy_status yolo_model_create_json(const char *json_text, const char *name, int nc, yolo_model **out);
dy_status yolo_model_create_on(const tn_backend *be, const char *spec_path, int nc, yolo_model **out);
dy_status yolo_model_create_json_on(const tn_backend *be, const char *json_text, const char *name, int nc,
                                    yolo_model **out);
void yolo_model_free(yolo_model *m);
/* From the config: model.spec, nc (> 0 overrides model.nc, which 0 leaves to the
 * spec), model.anchor_t / label_smoothing, the loss gains for data.imgsz, f16
 * storage when train.amp, runtime.threads (0: all cores), on backend be (from
 * rt_select; NULL: CPU).  The caller plans. */
struct cfg;
dy_status yolo_model_from_config(const struct cfg *c, int nc, const tn_backend *be, yolo_model **out);
/* The same from model.spec's text already read (the trainer saves that text in its
 * checkpoints, so it reads the file once). */
dy_status yolo_model_from_config_text(const struct cfg *c, const char *spec_text, int nc, const tn_backend *be,
                                      yolo_model **out);
void yolo_model_set_opts(yolo_model *m, const yolo_model_opts *o);
yolo_model_opts *yolo_model_opts_ptr(yolo_model *m);

/* YOLOv5 initialisation (PyTorch default conv init, BN 1/0, Detect priors). */
dy_status yolo_model_init(yolo_model *m, uint64_t seed);
dy_status yolo_model_plan(yolo_model *m, int batch, int h, int w);
dy_status yolo_model_forward(yolo_model *m, const uint8_t *images, int training);
/* Starts the upload of the next batch (n x 3 x h x w uint8, untouched until it is
 * passed to yolo_model_forward) while the current step computes; a no-op where
 * there is nothing to gain (nn_graph_prefetch_u8). */
dy_status yolo_model_prefetch(yolo_model *m, const uint8_t *images, int n, int h, int w);
/* targets: nt x 6 (image, class, cx, cy, w, h normalised); imgsz scales the obj gain. */
dy_status yolo_model_loss(yolo_model *m, const float *targets, int nt, yolo_loss_parts *parts);
/* The loss of the first n images of the last forward's batch (a partial validation
 * batch; padding images excluded), as YOLOv5's val.py computes it: no gradient is
 * kept, no count_reduce hook runs, the training workspace is not touched. */
dy_status yolo_model_eval_loss(yolo_model *m, const float *targets, int nt, int n, yolo_loss_parts *parts);
dy_status yolo_model_backward(yolo_model *m);
/* After an eval-mode forward: out[batch][anchors_total][5 + nc], boxes in input pixels
 * (host memory: on a device backend the forward pass downloads the Detect outputs,
 * and only those, for the loss and the decode). */
void yolo_model_decode(const yolo_model *m, float *out);
size_t yolo_model_num_anchors_total(const yolo_model *m);

/* Flat buffers and their named ranges.  params/grads/buffers are backend memory:
 * host code reads or writes them with yolo_model_state_get/put (or the backend's
 * download/upload); on the CPU backend they are plain host arrays. */
const tn_backend *yolo_model_backend(const yolo_model *m);
/* Copies parameters and BN buffers to host arrays (either may be NULL)... */
dy_status yolo_model_state_get(const yolo_model *m, float *params, float *buffers);
/* ...and back (either may be NULL). */
dy_status yolo_model_state_put(yolo_model *m, const float *params, const float *buffers);
/* Bytes moved between host and backend per training step for the loss (Detect
 * outputs down, their gradients up); 0 on a host-memory backend. */
size_t yolo_model_loss_transfer_bytes(const yolo_model *m);
size_t yolo_model_num_params(const yolo_model *m);
float *yolo_model_params(yolo_model *m);
float *yolo_model_grads(yolo_model *m);
size_t yolo_model_num_buffers(const yolo_model *m);
float *yolo_model_buffers(yolo_model *m);
int yolo_model_num_param_ranges(const yolo_model *m);
const nn_param_range *yolo_model_param_range(const yolo_model *m, int i);
int yolo_model_num_buffer_ranges(const yolo_model *m);
const nn_param_range *yolo_model_buffer_range(const yolo_model *m, int i);
/* Number of non-finite values in [off, off+count) of the gradients (overflow check). */
size_t yolo_model_check_finite(const yolo_model *m, size_t off, size_t count);

int yolo_model_nc(const yolo_model *m);
const yolo_head *yolo_model_head(const yolo_model *m);
/* Replace the Detect anchors: k holds nl levels of na (w, h) pairs in pixels
 * (AutoAnchor, model/autoanchor.h). */
void yolo_model_set_anchors(yolo_model *m, const float *k);
/* The anchors of a saved spec (a checkpoint's model_spec text), which must have the
 * model's number of levels and anchors; the model is unchanged on error. */
dy_status yolo_model_anchors_from_spec(yolo_model *m, const char *spec_text);
/* spec_text with its "anchors" replaced by the model's (malloc'd JSON text): the
 * spec a checkpoint keeps, so that val, detect, export and resume use them. */
dy_status yolo_spec_with_anchors(const char *spec_text, const yolo_model *m, char **out);
/* Graph node of the Detect output conv of level l (-1 without Detect or l out of range). */
int yolo_model_detect_node(const yolo_model *m, int l);
yolo_loss_hyp *yolo_model_hyp(yolo_model *m);
yolo_loss_ws *yolo_model_loss_ws(yolo_model *m);
nn_graph *yolo_model_graph(yolo_model *m);
int yolo_model_num_layers(const yolo_model *m);
const yolo_layer_info *yolo_model_layer(const yolo_model *m, int i);
/* GFLOPs (2 x multiply-accumulates, as YOLOv5 reports) for one h x w image. */
double yolo_model_gflops(const yolo_model *m, int h, int w);
/* Prints the per-layer table and the totals at imgsz. */
void yolo_model_summary(yolo_model *m, FILE *f, int imgsz);

#endif
