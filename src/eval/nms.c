/* nms.c -- implementation of nms.h. */
#include "eval/nms.h"

#include <stdlib.h>
#include <string.h>

void nms_ctx_free(nms_ctx *c)
{
    free(c->cand);
    free(c->dead);
    memset(c, 0, sizeof *c);
}

static dy_status ensure(nms_ctx *c, size_t n)
{
    if (n <= c->cap) return DY_OK;
    nms_box *nb = realloc(c->cand, n * sizeof *nb);
    if (!nb) return DY_ERR(DY_ENOMEM, "nms: out of memory for %zu candidates", n);
    c->cand = nb;
    c->cap = n;
    return DY_OK;
}

static dy_status add(nms_ctx *c, size_t *n, const float *row, int cls, float score)
{
    if (*n == c->cap) DY_TRY(ensure(c, c->cap ? c->cap * 2 : 1024));
    float cx = row[0], cy = row[1], w = row[2] / 2, h = row[3] / 2;
    c->cand[(*n)++] = (nms_box){cx - w, cy - h, cx + w, cy + h, score, cls};
    return DY_OK;
}

/* Class first, then score descending; ties broken by position so the result never
 * depends on qsort's (unstable) order. */
static int cmp_class_score(const void *a, const void *b)
{
    const nms_box *x = a, *y = b;
    if (x->cls != y->cls) return x->cls - y->cls;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->x1 > y->x1) - (x->x1 < y->x1);
}

static int cmp_score(const void *a, const void *b)
{
    const nms_box *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->cls - y->cls;
}

static float iou(const nms_box *a, const nms_box *b)
{
    float iw = (a->x2 < b->x2 ? a->x2 : b->x2) - (a->x1 > b->x1 ? a->x1 : b->x1);
    float ih = (a->y2 < b->y2 ? a->y2 : b->y2) - (a->y1 > b->y1 ? a->y1 : b->y1);
    if (iw <= 0 || ih <= 0) return 0;
    float inter = iw * ih;
    float ua = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
    return ua > 0 ? inter / ua : 0;
}

static dy_status gather(nms_ctx *c, const float *pred, int na, int nc, const nms_params *p, size_t *n)
{
    *n = 0;
    for (int a = 0; a < na; a++) {
        const float *row = pred + (size_t)a * (5 + nc);
        float obj = row[4];
        if (obj <= p->conf_thres) continue; /* conf = obj * cls <= obj */
        if (p->multi_label && nc > 1) {
            for (int k = 0; k < nc; k++)
                if (row[5 + k] * obj > p->conf_thres) DY_TRY(add(c, n, row, k, row[5 + k] * obj));
        } else {
            int best = 0;
            for (int k = 1; k < nc; k++)
                if (row[5 + k] > row[5 + best]) best = k;
            float conf = (nc > 0 ? row[5 + best] : 1.0f) * obj;
            if (conf > p->conf_thres) DY_TRY(add(c, n, row, best, conf));
        }
    }
    return DY_OK;
}

dy_status nms_image(nms_ctx *c, const float *pred, int na, int nc, const nms_params *p, nms_box *out, int *nout)
{
    size_t n;
    DY_TRY(gather(c, pred, na, nc, p, &n));
    if (p->max_candidates > 0 && n > (size_t)p->max_candidates) {
        qsort(c->cand, n, sizeof *c->cand, cmp_score);
        n = (size_t)p->max_candidates;
    }
    qsort(c->cand, n, sizeof *c->cand, cmp_class_score);
    if (n > c->cap_dead) {
        unsigned char *d = realloc(c->dead, n);
        if (!d) return DY_ERR(DY_ENOMEM, "nms: out of memory");
        c->dead = d;
        c->cap_dead = n;
    }
    if (n) memset(c->dead, 0, n);
    size_t kept = 0; /* kept boxes are compacted to the front of cand */
    for (size_t s = 0; s < n;) {
        size_t e = s;
        while (e < n && c->cand[e].cls == c->cand[s].cls) e++;
        int kept_cls = 0;
        for (size_t i = s; i < e && kept_cls < p->max_det; i++) {
            if (c->dead[i]) continue;
            nms_box b = c->cand[i];
            for (size_t j = i + 1; j < e; j++)
                if (!c->dead[j] && iou(&b, &c->cand[j]) > p->iou_thres) c->dead[j] = 1;
            c->cand[kept++] = b;
            kept_cls++;
        }
        s = e;
    }
    qsort(c->cand, kept, sizeof *c->cand, cmp_score);
    int m = kept < (size_t)p->max_det ? (int)kept : p->max_det;
    memcpy(out, c->cand, (size_t)m * sizeof *out);
    *nout = m;
    return DY_OK;
}

static float clampf(float v, float hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

void nms_unletterbox(nms_box *b, int n, float scale_x, float scale_y, float pad_x, float pad_y, int w, int h)
{
    for (int i = 0; i < n; i++) {
        b[i].x1 = clampf((b[i].x1 - pad_x) / scale_x, (float)w);
        b[i].x2 = clampf((b[i].x2 - pad_x) / scale_x, (float)w);
        b[i].y1 = clampf((b[i].y1 - pad_y) / scale_y, (float)h);
        b[i].y2 = clampf((b[i].y2 - pad_y) / scale_y, (float)h);
    }
}
