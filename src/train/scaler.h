/* scaler.h -- dynamic loss scaling for mixed precision (torch GradScaler rules).
 *
 * The loss is multiplied by `scale` before backward so small f16 gradients do not
 * flush to zero.  After the all-reduce, scaler_unscale divides the gradients by the
 * scale and notes any non-finite value.  scaler_update then reduces that flag with
 * MAX over all ranks (so every rank skips the same steps) and:
 *   overflow: skip the step, scale *= backoff (0.5), reset the growth counter;
 *   finite:   after growth_interval (2000) consecutive finite steps, scale *= 2.
 * It fails with DY_ERANGE and a clear message when the scale falls below `floor` or
 * `max_consecutive` steps in a row overflow: training must stop rather than go on
 * skipping (or write NaNs).  All fields are plain data for checkpoints.
 *
 * defines: loss_scaler, scaler_init, scaler_unscale, scaler_unscale_f16,
 *          scaler_f16_from_f32, scaler_update
 */
#ifndef DY_TRAIN_SCALER_H
#define DY_TRAIN_SCALER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "dist/comm.h"
#include "tensor/backend.h"

typedef struct {
    float scale;
    float growth_factor, backoff;
    int growth_interval;
    int growth_tracker;      /* consecutive finite steps since the last change */
    int consecutive_overflows;
    int max_consecutive;     /* K: stop after this many overflowing steps in a row */
    float floor;             /* stop when the scale falls below this */
    long steps, skipped;
} loss_scaler;

void scaler_init(loss_scaler *s, float init_scale, int growth_interval, float floor, int max_consecutive);
/* grads *= 1/scale (a pass of backend be, NULL: CPU); returns 1 when any gradient
 * is inf or NaN (before or after). */
int scaler_unscale(const loss_scaler *s, const tn_backend *be, float *grads, size_t n);
/* f16 gradients (IEEE binary16 bits) -> unscaled f32; returns 1 on inf/NaN. */
int scaler_unscale_f16(const loss_scaler *s, const uint16_t *g16, float *g32, size_t n);
/* Round f32 to binary16 bits (overflow becomes inf, as on the GPU). */
void scaler_f16_from_f32(const float *x, uint16_t *h, size_t n);
/* Collective over c (NULL: this rank alone).  *skip tells the caller not to apply
 * the optimizer step. */
dy_status scaler_update(loss_scaler *s, comm *c, int local_overflow, int *skip);

#endif
