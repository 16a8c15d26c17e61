/* confusion.c -- implementation of confusion.h. */
#include "eval/confusion.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/draw.h"
#include "eval/plot.h"

dy_status confusion_init(confusion_matrix *c, int nc)
{
    c->nc = nc;
    c->m = calloc((size_t)(nc + 1) * (size_t)(nc + 1), sizeof *c->m);
    return c->m ? DY_OK : DY_ERR(DY_ENOMEM, "confusion matrix: out of memory");
}

void confusion_free(confusion_matrix *c)
{
    free(c->m);
    c->m = NULL;
}

static double iou(const eval_gt *g, const eval_dt *d)
{
    double ix = fmin(g->x + g->w, d->x + d->w) - fmax(g->x, d->x);
    double iy = fmin(g->y + g->h, d->y + d->h) - fmax(g->y, d->y);
    if (ix <= 0 || iy <= 0) return 0;
    double inter = ix * iy, uni = g->w * g->h + d->w * d->h - inter;
    return uni > 0 ? inter / uni : 0;
}

typedef struct {
    size_t g, d;
    double iou;
} pair;

/* Highest IoU first; ties in (ground truth, detection) order, so the result does not
 * depend on qsort's instability. */
static int by_iou(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->iou != y->iou) return x->iou > y->iou ? -1 : 1;
    if (x->g != y->g) return x->g < y->g ? -1 : 1;
    return x->d < y->d ? -1 : x->d > y->d;
}

#define CELL(c, p, t) ((c)->m[(size_t)(p) * (size_t)((c)->nc + 1) + (size_t)(t)])

static int valid_class(const confusion_matrix *c, int k) { return k >= 0 && k < c->nc; }

dy_status confusion_add_image(confusion_matrix *c, const eval_gt *gt, size_t ngt, const eval_dt *dt, size_t ndt,
                              double conf, double thr)
{
    size_t npair = 0, nd = 0;
    for (size_t j = 0; j < ndt; j++) nd += dt[j].score > conf && valid_class(c, dt[j].category);
    pair *p = malloc(sizeof *p * (ngt * nd + 1));
    long *gmatch = malloc(sizeof *gmatch * (ngt + 1)); /* detection index matched to each gt, -1 none */
    unsigned char *dused = calloc(ndt + 1, 1), *dtaken = calloc(ndt + 1, 1);
    if (!p || !gmatch || !dused || !dtaken) {
        free(p), free(gmatch), free(dused), free(dtaken);
        return DY_ERR(DY_ENOMEM, "confusion matrix: out of memory");
    }
    for (size_t i = 0; i < ngt; i++) {
        gmatch[i] = -1;
        if (gt[i].iscrowd || !valid_class(c, gt[i].category)) continue;
        for (size_t j = 0; j < ndt; j++) {
            if (!(dt[j].score > conf) || !valid_class(c, dt[j].category)) continue;
            double v = iou(&gt[i], &dt[j]);
            if (v > thr) p[npair++] = (pair){i, j, v};
        }
    }
    qsort(p, npair, sizeof *p, by_iou);
    /* v7.0: unique per detection (its best gt), then unique per gt (its best detection) */
    size_t keep = 0;
    for (size_t k = 0; k < npair; k++)
        if (!dtaken[p[k].d]) dtaken[p[k].d] = 1, p[keep++] = p[k];
    for (size_t k = 0; k < keep; k++)
        if (gmatch[p[k].g] < 0) gmatch[p[k].g] = (long)p[k].d, dused[p[k].d] = 1;
    int matched = keep > 0;
    for (size_t i = 0; i < ngt; i++) {
        if (gt[i].iscrowd || !valid_class(c, gt[i].category)) continue;
        if (gmatch[i] >= 0)
            CELL(c, dt[gmatch[i]].category, gt[i].category) += 1;
        else
            CELL(c, c->nc, gt[i].category) += 1;
    }
    for (size_t j = 0; matched && j < ndt; j++)
        if (dt[j].score > conf && valid_class(c, dt[j].category) && !dused[j]) CELL(c, dt[j].category, c->nc) += 1;
    free(p), free(gmatch), free(dused), free(dtaken);
    return DY_OK;
}

static int gt_by_image(const void *a, const void *b)
{
    const eval_gt *x = a, *y = b;
    return x->image_id < y->image_id ? -1 : x->image_id > y->image_id;
}

static int dt_by_image(const void *a, const void *b)
{
    const eval_dt *x = a, *y = b;
    return x->image_id < y->image_id ? -1 : x->image_id > y->image_id;
}

dy_status confusion_from_set(confusion_matrix *c, const eval_set *s, double conf, double thr)
{
    /* copies sorted by image (the gathered set already is; this does not rely on it);
     * only detections above conf are kept, a small part of the validation's 0.001 */
    size_t nd = 0;
    for (size_t j = 0; j < s->ndt; j++) nd += s->dt[j].score > conf;
    eval_gt *g = malloc(sizeof *g * (s->ngt + 1));
    eval_dt *d = malloc(sizeof *d * (nd + 1));
    if (!g || !d) {
        free(g), free(d);
        return DY_ERR(DY_ENOMEM, "confusion matrix: out of memory");
    }
    if (s->ngt) memcpy(g, s->gt, sizeof *g * s->ngt);
    nd = 0;
    for (size_t j = 0; j < s->ndt; j++)
        if (s->dt[j].score > conf) d[nd++] = s->dt[j];
    qsort(g, s->ngt, sizeof *g, gt_by_image);
    qsort(d, nd, sizeof *d, dt_by_image);
    dy_status st = DY_OK;
    size_t i = 0, j = 0;
    while (st == DY_OK && (i < s->ngt || j < nd)) {
        int64_t id = i < s->ngt && (j >= nd || g[i].image_id <= d[j].image_id) ? g[i].image_id : d[j].image_id;
        size_t i1 = i, j1 = j;
        while (i1 < s->ngt && g[i1].image_id == id) i1++;
        while (j1 < nd && d[j1].image_id == id) j1++;
        st = confusion_add_image(c, g + i, i1 - i, d + j, j1 - j, conf, thr);
        i = i1, j = j1;
    }
    free(g), free(d);
    return st;
}

static const char *cm_name(const char *const *names, int k, int nc, char *buf, size_t len)
{
    if (k == nc) return "background";
    if (names && names[k]) return names[k];
    snprintf(buf, len, "class%d", k);
    return buf;
}

dy_status confusion_write_png(const confusion_matrix *c, const char *const *names, const char *path)
{
    static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    int n = c->nc + 1;
    int cell = n <= 10 ? 48 : n <= 30 ? 28 : n <= 100 ? 10 : 6;
    int lm = 124, tm = 40, bm = 100;
    int w = lm + n * cell + 20, h = tm + n * cell + bm;
    if (w < 420) w = 420;
    plot_canvas cv;
    DY_TRY(plot_canvas_init(&cv, w, h));
    draw_text(cv.px, w, h, lm, 12, "CONFUSION MATRIX (NORMALISED PER TRUE CLASS)", black, 0);
    for (int t = 0; t < n; t++) {
        double sum = 0;
        for (int p = 0; p < n; p++) sum += CELL(c, p, t);
        for (int p = 0; p < n; p++) {
            double v = CELL(c, p, t) / (sum + 1e-9);
            uint8_t rgb[3];
            plot_blues(v < 0.005 ? 0 : v, rgb); /* YOLOv5 leaves cells under 0.005 blank */
            int x0 = lm + t * cell, y0 = tm + p * cell;
            plot_fill(&cv, x0, y0, x0 + cell, y0 + cell, rgb);
            if (cell >= 28 && v >= 0.005) {
                char lab[8];
                snprintf(lab, sizeof lab, "%.2f", v);
                draw_text(cv.px, w, h, x0 + (cell - 24) / 2, y0 + cell / 2 - 3, lab, v > 0.5 ? white : black, 0);
            }
        }
    }
    for (int k = 0; k <= n; k++) {
        plot_line(&cv, lm + k * cell, tm, lm + k * cell, tm + n * cell, (const uint8_t[3]){200, 200, 200}, 1);
        plot_line(&cv, lm, tm + k * cell, lm + n * cell, tm + k * cell, (const uint8_t[3]){200, 200, 200}, 1);
    }
    if (n <= 100) /* names would overlap beyond that */
        for (int k = 0; k < n; k++) {
            char buf[32], lab[17];
            snprintf(lab, sizeof lab, "%.16s", cm_name(names, k, c->nc, buf, sizeof buf));
            draw_text(cv.px, w, h, lm - 4 - (int)strlen(lab) * 6, tm + k * cell + cell / 2 - 3, lab, black, 0);
            draw_text(cv.px, w, h, lm + k * cell + cell / 2 - 3, tm + n * cell + 4 + (int)strlen(lab) * 6, lab,
                      black, 1);
        }
    draw_text(cv.px, w, h, lm + n * cell / 2 - 12, h - 12, "TRUE", black, 0);
    draw_text(cv.px, w, h, 4, tm + n * cell / 2 + 27, "PREDICTED", black, 1);
    dy_status st = plot_write_png(path, &cv);
    plot_canvas_free(&cv);
    return st;
}

dy_status confusion_write_csv(const confusion_matrix *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return DY_ERR(DY_EIO, "cannot write %s: %s", path, strerror(errno));
    for (int r = 0; r <= c->nc; r++)
        for (int k = 0; k <= c->nc; k++) fprintf(f, "%.0f%c", c->m[r * (c->nc + 1) + k], k == c->nc ? '\n' : ',');
    if (fclose(f) != 0) return DY_ERR(DY_EIO, "writing %s: %s", path, strerror(errno));
    return DY_OK;
}
