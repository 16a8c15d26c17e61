/* transfer.h -- starting a run from pretrained weights and freezing layers, as
 * YOLOv5's train.py does with --weights and --freeze.
 *
 * train_transfer copies every tensor of a weights file (a `dyolo-weights` file from
 * `dyolo import` or `dyolo ckpt export`, or a checkpoint: its EMA weights when
 * present) whose name and size match the model's, parameters and BN statistics
 * alike, and reports how many did ("transferred 343/349 tensors").  A model with
 * another class count keeps its fresh Detect output convolutions (their sizes
 * differ), which is YOLOv5's behaviour.
 *
 * Freezing the first N layers of the spec (model.0 .. model.N-1): they are a prefix
 * of the flat parameter buffer (layers are laid out in spec order), so the frozen
 * part is [0, train_frozen_params) and backward can stop at the first node that has
 * a trainable parameter (nothing below it needs a gradient): no gradients, no
 * all-reduce, no optimizer update and no EMA drift for those weights.
 *
 * defines: train_transfer_report, train_transfer, train_frozen_params, train_frozen_node */
#ifndef DY_TRAIN_TRANSFER_H
#define DY_TRAIN_TRANSFER_H

#include <mpi.h>
#include <stddef.h>

#include "core/err.h"
#include "model/model.h"

typedef struct {
    int params_done, params_total;   /* parameter tensors transferred / in the model */
    int buffers_done, buffers_total; /* BN statistics tensors */
    char source[32];                 /* "weights", "ema" or "model" */
} train_transfer_report;

/* Collective over comm (the file is read with parallel HDF5).  A file with no tensor
 * that fits is an error (the wrong model, or not weights at all). */
dy_status train_transfer(yolo_model *m, const char *path, MPI_Comm comm, train_transfer_report *rep);

/* Parameters of the first `layers` spec layers: the frozen prefix of the buffer. */
size_t train_frozen_params(const yolo_model *m, int layers);
/* The first graph node with a parameter outside the frozen prefix (backward stops
 * there); 0 when nothing is frozen. */
int train_frozen_node(const yolo_model *m, size_t frozen_params);

#endif
