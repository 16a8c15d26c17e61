/* eval_set.c -- growable arrays behind eval_set.h. */
#include "eval/eval_set.h"

#include <stdlib.h>
#include <string.h>

void eval_set_init(eval_set *s, int ncat)
{
    memset(s, 0, sizeof *s);
    s->ncat = ncat;
}

void eval_set_free(eval_set *s)
{
    free(s->gt);
    free(s->dt);
    free(s->images);
    memset(s, 0, sizeof *s);
}

/* Grow *arr (of elem-size items) so that one more fits. */
static dy_status grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return DY_OK;
    size_t nc = *cap ? *cap * 2 : 256;
    void *p = realloc(*arr, nc * elem);
    if (!p) return DY_ERR(DY_ENOMEM, "evaluation set: out of memory (%zu items)", nc);
    *arr = p;
    *cap = nc;
    return DY_OK;
}

dy_status eval_set_add_image(eval_set *s, int64_t image_id)
{
    DY_TRY(grow((void **)&s->images, &s->cap_images, s->nimages, sizeof *s->images));
    s->images[s->nimages++] = image_id;
    return DY_OK;
}

dy_status eval_set_add_gt(eval_set *s, const eval_gt *g)
{
    if (g->category < 0 || g->category >= s->ncat)
        return DY_ERR(DY_EINVAL, "ground truth of image %lld has class %d outside [0, %d)",
                      (long long)g->image_id, g->category, s->ncat);
    DY_TRY(grow((void **)&s->gt, &s->cap_gt, s->ngt, sizeof *s->gt));
    s->gt[s->ngt++] = *g;
    return DY_OK;
}

dy_status eval_set_add_dt(eval_set *s, const eval_dt *d)
{
    if (d->category < 0 || d->category >= s->ncat)
        return DY_ERR(DY_EINVAL, "detection in image %lld has class %d outside [0, %d)",
                      (long long)d->image_id, d->category, s->ncat);
    DY_TRY(grow((void **)&s->dt, &s->cap_dt, s->ndt, sizeof *s->dt));
    s->dt[s->ndt++] = *d;
    return DY_OK;
}
