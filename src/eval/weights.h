/* weights.h -- build a model from a checkpoint (its EMA weights when present) or
 * from a weights-only export (`dyolo ckpt export`): the model spec, classes, names
 * and input size travel inside the file, so `val` and `detect` need nothing else.
 * defines: weights_info, weights_load, weights_load_on, weights_info_free */
#ifndef DY_EVAL_WEIGHTS_H
#define DY_EVAL_WEIGHTS_H

#include <mpi.h>

#include "model/model.h"

typedef struct {
    int nc, imgsz;
    char **names; /* [nc] */
    const char *source; /* "ema", "model" or "weights" */
} weights_info;

/* Collective over comm (the file is read with parallel HDF5). */
dy_status weights_load(const char *path, MPI_Comm comm, yolo_model **out, weights_info *info);
/* The same on backend be (NULL: the CPU): the weights go through a host copy to a
 * device backend's memory.  The backend must stay open until the model is freed. */
dy_status weights_load_on(const tn_backend *be, const char *path, MPI_Comm comm, yolo_model **out,
                          weights_info *info);
void weights_info_free(weights_info *info);

#endif
