/* scaler.c -- dynamic loss scaler (see scaler.h). */
#include "train/scaler.h"

#include <math.h>
#include <string.h>

void scaler_init(loss_scaler *s, float init_scale, int growth_interval, float floor, int max_consecutive)
{
    memset(s, 0, sizeof *s);
    s->scale = init_scale;
    s->growth_factor = 2.0f;
    s->backoff = 0.5f;
    s->growth_interval = growth_interval;
    s->floor = floor;
    s->max_consecutive = max_consecutive;
}

int scaler_unscale(const loss_scaler *s, const tn_backend *be, float *grads, size_t n)
{
    if (!be) be = tn_backend_cpu();
    return be->unscale(n, 1.0f / s->scale, grads) != 0;
}

int scaler_unscale_f16(const loss_scaler *s, const uint16_t *g16, float *g32, size_t n)
{
    float inv = 1.0f / s->scale;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        _Float16 h;
        memcpy(&h, &g16[i], sizeof h);
        float g = (float)h * inv;
        g32[i] = g;
        bad |= !isfinite(g);
    }
    return bad;
}

void scaler_f16_from_f32(const float *x, uint16_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        _Float16 v = (_Float16)x[i];
        memcpy(&h[i], &v, sizeof v);
    }
}

dy_status scaler_update(loss_scaler *s, comm *c, int local_overflow, int *skip)
{
    uint32_t flag = local_overflow ? 1u : 0u;
    /* the flag is host memory: comm_allreduce_host works on every transport */
    if (c) DY_TRY_CTX(comm_allreduce_host(c, &flag, 1, COMM_U32, COMM_MAX), "loss scaler overflow flag");
    s->steps++;
    *skip = flag != 0;
    if (!flag) {
        s->consecutive_overflows = 0;
        if (++s->growth_tracker >= s->growth_interval) {
            s->scale *= s->growth_factor;
            s->growth_tracker = 0;
        }
        return DY_OK;
    }
    s->skipped++;
    s->consecutive_overflows++;
    s->growth_tracker = 0;
    s->scale *= s->backoff;
    if (s->scale < s->floor)
        return DY_ERR(DY_ERANGE,
                      "loss scale fell to %g, below the floor %g (train.loss_scale_floor), after %d "
                      "overflowing step(s) in a row: the gradients are not finite even unscaled "
                      "(NaN/inf in the loss or the data?); stopping instead of training on NaNs",
                      (double)s->scale, (double)s->floor, s->consecutive_overflows);
    if (s->max_consecutive > 0 && s->consecutive_overflows >= s->max_consecutive)
        return DY_ERR(DY_ERANGE,
                      "%d consecutive steps overflowed (train.loss_scale_max_overflows); loss scale "
                      "now %g: the model produces non-finite gradients; stopping",
                      s->consecutive_overflows, (double)s->scale);
    return DY_OK;
}
