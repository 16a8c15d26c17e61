/* optim.c -- SGD-Nesterov and AdamW over merged flat spans; gradient clipping
 * (see optim.h).  The arithmetic is the backend's (sgd_update, adamw_update, sumsq,
 * scale), so the same code steps host or device buffers. */
#include "train/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

dy_status optim_kind_parse(const char *s, optim_kind *out)
{
    if (!strcmp(s, "sgd")) *out = OPTIM_SGD;
    else if (!strcmp(s, "adamw")) *out = OPTIM_ADAMW;
    else return DY_ERR(DY_EINVAL, "unknown optimizer \"%s\" (sgd or adamw)", s);
    return DY_OK;
}

static int by_offset(const void *a, const void *b)
{
    const optim_range *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sort, check the tiling, merge neighbours of the same group. */
static dy_status build_spans(optim *o, const optim_range *ranges, int nr)
{
    optim_range *r = malloc(sizeof *r * (size_t)nr);
    o->spans = malloc(sizeof *o->spans * (size_t)nr);
    if (!r || !o->spans) {
        free(r);
        return DY_ERR(DY_ENOMEM, "optimizer: out of memory");
    }
    memcpy(r, ranges, sizeof *r * (size_t)nr);
    qsort(r, (size_t)nr, sizeof *r, by_offset);
    size_t end = 0;
    dy_status s = DY_OK;
    for (int i = 0; i < nr && s == DY_OK; i++) {
        if (r[i].group < 0 || r[i].group > OPT_GROUP_FROZEN)
            s = DY_ERR(DY_EINVAL, "optimizer: range at offset %zu has group %d (0..3)", r[i].offset, r[i].group);
        else if (r[i].offset != end)
            s = DY_ERR(DY_EINVAL, "optimizer: parameter ranges leave a gap or overlap at offset %zu "
                       "(expected %zu)", r[i].offset, end);
        else if (o->nspans && o->spans[o->nspans - 1].group == r[i].group)
            o->spans[o->nspans - 1].count += r[i].count;
        else
            o->spans[o->nspans++] = (optim_span){r[i].offset, r[i].count, r[i].group};
        end = r[i].offset + r[i].count;
    }
    if (s == DY_OK && end != o->n)
        s = DY_ERR(DY_EINVAL, "optimizer: parameter ranges cover %zu of %zu parameters", end, o->n);
    free(r);
    return s;
}

dy_status optim_create(optim *o, const tn_backend *be, optim_kind kind, size_t n, const optim_range *ranges,
                       int nranges, float weight_decay)
{
    memset(o, 0, sizeof *o);
    o->be = be ? be : tn_backend_cpu();
    o->kind = kind;
    o->n = n;
    o->weight_decay = weight_decay;
    o->momentum = 0.937f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    dy_status s = nranges > 0 ? build_spans(o, ranges, nranges)
                              : DY_ERR(DY_EINVAL, "optimizer: no parameter ranges");
    void *pm = NULL, *pv = NULL;
    if (s == DY_OK) s = o->be->alloc(sizeof(float) * (n ? n : 1), &pm);
    o->m = pm;
    if (s == DY_OK && kind == OPTIM_ADAMW) s = o->be->alloc(sizeof(float) * (n ? n : 1), &pv);
    o->v = pv;
    if (s != DY_OK && (!pm || (kind == OPTIM_ADAMW && !pv)))
        s = err_wrap(s, "optimizer state for %zu parameters", n);
    if (s != DY_OK) optim_destroy(o);
    return s;
}

void optim_destroy(optim *o)
{
    free(o->spans);
    if (o->be) {
        o->be->free(o->m);
        o->be->free(o->v);
    }
    o->spans = NULL;
    o->m = o->v = NULL;
}

void optim_step(optim *o, float *params, const float *grads)
{
    o->step++;
    float bc1 = 1.0f - (float)pow(o->momentum, (double)o->step);
    float bc2 = 1.0f - (float)pow(o->beta2, (double)o->step);
    for (int k = 0; k < o->nspans; k++) {
        const optim_span *s = &o->spans[k];
        if (s->group == OPT_GROUP_FROZEN) continue;
        float wd = s->group == OPT_GROUP_DECAY ? o->weight_decay : 0.0f;
        size_t a = s->offset;
        if (o->kind == OPTIM_SGD)
            o->be->sgd_update(s->count, params + a, grads + a, o->m + a, o->lr[s->group], o->momentum, wd, 1);
        else
            o->be->adamw_update(s->count, params + a, grads + a, o->m + a, o->v + a, o->lr[s->group],
                                o->momentum, o->beta2, o->eps, wd, bc1, bc2);
    }
}

float optim_clip_grad_norm(const tn_backend *be, float *grads, size_t n, float max_norm)
{
    if (!be) be = tn_backend_cpu();
    float norm = (float)sqrt(be->sumsq(n, grads));
    float coef = max_norm / (norm + 1e-6f);
    if (coef < 1.0f) be->scale(n, coef, grads, grads);
    return norm;
}
