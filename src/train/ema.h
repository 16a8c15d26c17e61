/* ema.h -- exponential moving average of the weights (YOLOv5 ModelEMA): after each
 * optimizer update, with updates counted from 1,
 *   d = decay * (1 - exp(-updates / tau));   ema = d * ema + (1 - d) * x
 * The ramp makes early averages follow the fast-moving weights.  Use one ema per
 * flat buffer (parameters; BatchNorm running statistics) and update both each step.
 * The struct is plain data (a checkpoint saves `updates` and `v`).
 *
 * defines: ema, ema_init, ema_free, ema_update, ema_decay_at
 */
#ifndef DY_TRAIN_EMA_H
#define DY_TRAIN_EMA_H

#include <stddef.h>

#include "core/err.h"
#include "tensor/backend.h"

typedef struct {
    float *v;      /* the averaged values (backend memory) */
    const tn_backend *be;
    size_t n;
    long updates;
    double decay, tau;
} ema;

/* Starts as a copy of src, a buffer of backend be (NULL: the CPU backend); decay
 * 0.9999, tau 2000 in YOLOv5. */
dy_status ema_init(ema *e, const tn_backend *be, const float *src, size_t n, double decay, double tau);
void ema_free(ema *e);
double ema_decay_at(const ema *e, long updates);
void ema_update(ema *e, const float *src);

#endif
