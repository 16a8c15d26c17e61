/* conv_shape.c -- device-neutral convolution geometry shared by every backend and
 * the graph planner.
 *
 * defines: tn_conv_shape_init */
#include "tensor/backend.h"

void tn_conv_shape_init(tn_conv_shape *s)
{
    if (s->groups < 1) s->groups = 1;
    s->oh = (s->h + 2 * s->pad - s->k) / s->stride + 1;
    s->ow = (s->w + 2 * s->pad - s->k) / s->stride + 1;
}
