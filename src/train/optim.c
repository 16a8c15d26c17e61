/* optim.c -- SGD-Nesterov and AdamW over merged flat spans; gradient clipping
 * (see optim.h). */
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
        if (r[i].group < 0 || r[i].group >= OPT_NGROUPS)
            s = DY_ERR(DY_EINVAL, "optimizer: range at offset %zu has group %d (0..2)", r[i].offset, r[i].group);
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

dy_status optim_create(optim *o, optim_kind kind, size_t n, const optim_range *ranges, int nranges,
                       float weight_decay)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->n = n;
    o->weight_decay = weight_decay;
    o->momentum = 0.937f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    dy_status s = nranges > 0 ? build_spans(o, ranges, nranges)
                              : DY_ERR(DY_EINVAL, "optimizer: no parameter ranges");
    if (s == DY_OK) {
        o->m = calloc(n, sizeof(float));
        o->v = kind == OPTIM_ADAMW ? calloc(n, sizeof(float)) : NULL;
        if (!o->m || (kind == OPTIM_ADAMW && !o->v))
            s = DY_ERR(DY_ENOMEM, "optimizer: out of memory for %zu parameters of state", n);
    }
    if (s != DY_OK) optim_destroy(o);
    return s;
}

void optim_destroy(optim *o)
{
    free(o->spans);
    free(o->m);
    free(o->v);
    o->spans = NULL;
    o->m = o->v = NULL;
}

static void sgd_span(float *restrict p, const float *restrict g, float *restrict buf, size_t n, float lr,
                     float mom, float wd)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        float b = mom * buf[i] + gi;
        buf[i] = b;
        p[i] -= lr * (gi + mom * b);
    }
}

static void adamw_span(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                       size_t n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2)
{
    float decay = 1.0f - lr * wd, sbc2 = sqrtf(bc2);
    for (size_t i = 0; i < n; i++) {
        float mi = b1 * m[i] + (1 - b1) * g[i];
        float vi = b2 * v[i] + (1 - b2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - lr * (mi / bc1) / (sqrtf(vi) / sbc2 + eps);
    }
}

void optim_step(optim *o, float *params, const float *grads)
{
    o->step++;
    float bc1 = 1.0f - (float)pow(o->momentum, (double)o->step);
    float bc2 = 1.0f - (float)pow(o->beta2, (double)o->step);
    for (int k = 0; k < o->nspans; k++) {
        const optim_span *s = &o->spans[k];
        float wd = s->group == OPT_GROUP_DECAY ? o->weight_decay : 0.0f;
        size_t a = s->offset;
        if (o->kind == OPTIM_SGD)
            sgd_span(params + a, grads + a, o->m + a, s->count, o->lr[s->group], o->momentum, wd);
        else
            adamw_span(params + a, grads + a, o->m + a, o->v + a, s->count, o->lr[s->group], o->momentum,
                       o->beta2, o->eps, wd, bc1, bc2);
    }
}

float optim_clip_grad_norm(float *grads, size_t n, float max_norm)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)grads[i] * grads[i];
    float norm = (float)sqrt(ss);
    float coef = max_norm / (norm + 1e-6f);
    if (coef < 1.0f)
        for (size_t i = 0; i < n; i++) grads[i] *= coef;
    return norm;
}
