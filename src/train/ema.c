/* ema.c -- the YOLOv5 weight EMA (see ema.h). */
#include "train/ema.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

dy_status ema_init(ema *e, const float *src, size_t n, double decay, double tau)
{
    e->v = malloc(n * sizeof(float));
    if (!e->v) return DY_ERR(DY_ENOMEM, "EMA: out of memory for %zu values", n);
    memcpy(e->v, src, n * sizeof(float));
    e->n = n;
    e->updates = 0;
    e->decay = decay;
    e->tau = tau;
    return DY_OK;
}

void ema_free(ema *e)
{
    free(e->v);
    e->v = NULL;
}

double ema_decay_at(const ema *e, long updates) { return e->decay * (1 - exp(-(double)updates / e->tau)); }

void ema_update(ema *e, const float *src)
{
    e->updates++;
    float d = (float)ema_decay_at(e, e->updates), w = 1.0f - d;
    float *restrict v = e->v;
    for (size_t i = 0; i < e->n; i++) v[i] = d * v[i] + w * src[i];
}
