/* ema.c -- the YOLOv5 weight EMA (see ema.h); the averaging pass is the backend's
 * ema_update, so the values stay where the weights are (host or device). */
#include "train/ema.h"

#include <math.h>

dy_status ema_init(ema *e, const tn_backend *be, const float *src, size_t n, double decay, double tau)
{
    e->be = be ? be : tn_backend_cpu();
    void *p = NULL;
    e->v = NULL;
    DY_TRY_CTX(e->be->alloc(sizeof(float) * (n ? n : 1), &p), "EMA of %zu values", n);
    e->v = p;
    e->be->copy(e->v, src, n * sizeof(float));
    e->n = n;
    e->updates = 0;
    e->decay = decay;
    e->tau = tau;
    return DY_OK;
}

void ema_free(ema *e)
{
    if (e->be) e->be->free(e->v);
    e->v = NULL;
}

double ema_decay_at(const ema *e, long updates) { return e->decay * (1 - exp(-(double)updates / e->tau)); }

void ema_update(ema *e, const float *src)
{
    e->updates++;
    float d = (float)ema_decay_at(e, e->updates), w = 1.0f - d;
    e->be->ema_update(e->n, d, w, src, e->v);
}
