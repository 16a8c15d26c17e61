/* model_harness.h -- what the whole-model tests share (test_model_backend.c,
 * test_model_half.c): yolov5n at 160 px, batch 4, 3 classes; a deterministic batch of
 * images and targets; one training step's loss; a host copy of a backend buffer; an
 * SGD optimizer over the model's parameter ranges.
 *
 * defines: MH_B, MH_S, MH_NC, MH_MAXT, mh_draw_batch, mh_step_loss, mh_host_copy,
 *          mh_set_optim */
#ifndef DY_TESTS_NN_MODEL_HARNESS_H
#define DY_TESTS_NN_MODEL_HARNESS_H

#include <stdlib.h>

#include "core/rng.h"
#include "model/model.h"
#include "tests/tap.h"
#include "train/optim.h"

enum { MH_B = 4, MH_S = 160, MH_NC = 3, MH_MAXT = 6 * MH_B };

/* Random images and 1-3 boxes per image from (seed, stream); returns the target count. */
static inline int mh_draw_batch(uint8_t *img, float *tg, uint64_t seed, uint64_t stream)
{
    rng_stream r;
    rng_stream_init(&r, seed, stream, 0, 0);
    for (size_t i = 0; i < (size_t)MH_B * 3 * MH_S * MH_S; i++) img[i] = (uint8_t)rng_below(&r, 256);
    int nt = 0;
    for (int b = 0; b < MH_B; b++)
        for (int k = 0; k < 1 + b % 3; k++, nt++) {
            float *t = tg + 6 * nt;
            t[0] = (float)b, t[1] = (float)rng_below(&r, MH_NC);
            t[4] = rng_uniform_range(&r, 0.1f, 0.5f), t[5] = rng_uniform_range(&r, 0.1f, 0.5f);
            t[2] = rng_uniform_range(&r, t[4] / 2, 1 - t[4] / 2), t[3] = rng_uniform_range(&r, t[5] / 2, 1 - t[5] / 2);
        }
    return nt;
}

/* One training step's loss (forward, loss, backward) on m. */
static inline dy_status mh_step_loss(yolo_model *m, const uint8_t *img, const float *tg, int nt,
                                     yolo_loss_parts *lp)
{
    DY_TRY(yolo_model_forward(m, img, 1));
    DY_TRY(yolo_model_loss(m, tg, nt, lp));
    return yolo_model_backward(m);
}

/* A host copy of one of m's parameter-sized backend buffers (params or grads). */
static inline float *mh_host_copy(yolo_model *m, const float *dev)
{
    size_t n = yolo_model_num_params(m);
    float *h = malloc(sizeof(float) * (n + 1));
    if (h && yolo_model_backend(m)->download(h, dev, sizeof(float) * n) != DY_OK) {
        free(h);
        return NULL;
    }
    return h;
}

/* SGD (lr 0.01, weight decay 5e-4) over m's parameter ranges. */
static inline void mh_set_optim(optim *o, yolo_model *m)
{
    int nr = yolo_model_num_param_ranges(m);
    optim_range *r = malloc(sizeof *r * (size_t)nr);
    for (int i = 0; r && i < nr; i++) {
        const nn_param_range *p = yolo_model_param_range(m, i);
        r[i] = (optim_range){p->offset, p->count, p->group};
    }
    if (!r || optim_create(o, yolo_model_backend(m), OPTIM_SGD, yolo_model_num_params(m), r, nr, 5e-4f) != DY_OK)
        tap_diag("optimizer: %s", err_msg());
    for (int g = 0; g < OPT_NGROUPS; g++) o->lr[g] = 0.01f;
    free(r);
}

#endif
