/* coco_eval.c -- pycocotools COCOeval (bbox) re-implemented in C; see coco_eval.h.
 * Names follow COCOeval's own (evaluateImg, accumulate, summarize) so the two can be
 * read side by side; the loop structure and tie-breaking (stable sorts) are kept
 * because they decide the exact numbers. */
#include "eval/coco_eval.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NT 10       /* IoU thresholds */
#define NR 101      /* recall thresholds */
#define NA 4        /* area ranges */
#define NM 3        /* maxDets 1, 10, 100 */
#define MAXDET 100
#define SPACING1 2.220446049250313e-16 /* np.spacing(1) */

static const double area_lo[NA] = {0.0, 0.0, 32.0 * 32.0, 96.0 * 96.0};
static const double area_hi[NA] = {1e10, 32.0 * 32.0, 96.0 * 96.0, 1e10};
static const int max_dets[NM] = {1, 10, 100};

/* np.linspace semantics: start + i*step, last element exactly stop. */
static double linspace(double start, double stop, int num, int i)
{
    if (i == num - 1) return stop;
    return (double)i * ((stop - start) / (double)(num - 1)) + start;
}

typedef struct {
    int nd, ng;
    double *scores;  /* [nd], sorted descending (stable) */
    double *darea;   /* [nd] */
    uint8_t *dtm;    /* [NT*nd] matched */
    uint8_t *dtig;   /* [NT*nd] ignored */
    uint8_t *gtig;   /* [ng] (sorted order) */
} img_eval;

typedef struct {
    const eval_set *s;
    int64_t *imgs; /* sorted unique image ids */
    size_t nimg;
    size_t *gt_start, *gt_idx; /* CSR by key = img*ncat + cat, original order */
    size_t *dt_start, *dt_idx;
    img_eval **ev; /* [ncat][NA][nimg] (NULL where COCOeval returns None) */
} coco_ctx;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static long img_index(const coco_ctx *c, int64_t id)
{
    const int64_t *p = bsearch(&id, c->imgs, c->nimg, sizeof *p, cmp_i64);
    return p ? (long)(p - c->imgs) : -1;
}

static dy_status build_images(coco_ctx *c)
{
    const eval_set *s = c->s;
    c->imgs = malloc((s->nimages + 1) * sizeof *c->imgs);
    if (!c->imgs) return DY_ERR(DY_ENOMEM, "coco eval: out of memory");
    memcpy(c->imgs, s->images, s->nimages * sizeof *c->imgs);
    qsort(c->imgs, s->nimages, sizeof *c->imgs, cmp_i64);
    size_t n = 0;
    for (size_t i = 0; i < s->nimages; i++)
        if (n == 0 || c->imgs[n - 1] != c->imgs[i]) c->imgs[n++] = c->imgs[i];
    c->nimg = n;
    return DY_OK;
}

/* Counting sort of box indices by (image, category), keeping input order (stable). */
static dy_status bucket(coco_ctx *c, size_t n, int is_gt, size_t **start_out, size_t **idx_out)
{
    size_t nkeys = c->nimg * (size_t)c->s->ncat;
    size_t *start = calloc(nkeys + 1, sizeof *start), *idx = malloc((n + 1) * sizeof *idx);
    size_t *key = malloc((n + 1) * sizeof *key);
    if (!start || !idx || !key) {
        free(start), free(idx), free(key);
        return DY_ERR(DY_ENOMEM, "coco eval: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        int64_t img = is_gt ? c->s->gt[i].image_id : c->s->dt[i].image_id;
        int cat = is_gt ? c->s->gt[i].category : c->s->dt[i].category;
        long ii = img_index(c, img);
        if (ii < 0) {
            free(start), free(idx), free(key);
            return DY_ERR(DY_EINVAL, "coco eval: %s refers to image %lld, which is not in the evaluated set",
                          is_gt ? "ground truth" : "a detection", (long long)img);
        }
        key[i] = (size_t)ii * (size_t)c->s->ncat + (size_t)cat;
        start[key[i] + 1]++;
    }
    for (size_t k = 0; k < nkeys; k++) start[k + 1] += start[k];
    size_t *fill = malloc((nkeys + 1) * sizeof *fill);
    if (!fill) {
        free(start), free(idx), free(key);
        return DY_ERR(DY_ENOMEM, "coco eval: out of memory");
    }
    memcpy(fill, start, (nkeys + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) idx[fill[key[i]]++] = i;
    free(fill);
    free(key);
    *start_out = start;
    *idx_out = idx;
    return DY_OK;
}

/* maskApi's bbIou: crowd ground truth uses the detection's area as the union. */
static double bb_iou(const eval_dt *d, const eval_gt *g)
{
    double w = (d->x + d->w < g->x + g->w ? d->x + d->w : g->x + g->w) - (d->x > g->x ? d->x : g->x);
    if (w <= 0) return 0;
    double h = (d->y + d->h < g->y + g->h ? d->y + d->h : g->y + g->h) - (d->y > g->y ? d->y : g->y);
    if (h <= 0) return 0;
    double i = w * h, da = d->w * d->h;
    double u = g->iscrowd ? da : da + g->w * g->h - i;
    return i / u;
}

typedef struct {
    double score;
    size_t pos;
} scored;

/* Descending score, ties by position: what np.argsort(-x, kind='mergesort') gives. */
static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static img_eval *img_eval_new(int nd, int ng)
{
    img_eval *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->nd = nd;
    e->ng = ng;
    e->scores = malloc(((size_t)nd + 1) * sizeof *e->scores);
    e->darea = malloc(((size_t)nd + 1) * sizeof *e->darea);
    e->dtm = calloc((size_t)NT * nd + 1, 1);
    e->dtig = calloc((size_t)NT * nd + 1, 1);
    e->gtig = calloc((size_t)ng + 1, 1);
    if (!e->scores || !e->darea || !e->dtm || !e->dtig || !e->gtig) {
        free(e->scores), free(e->darea), free(e->dtm), free(e->dtig), free(e->gtig), free(e);
        return NULL;
    }
    return e;
}

static void img_eval_free(img_eval *e)
{
    if (!e) return;
    free(e->scores), free(e->darea), free(e->dtm), free(e->dtig), free(e->gtig), free(e);
}

/* evaluateImg for one area range, given dets sorted by score and the IoU matrix
 * ious[d * ng + g] over ground truth in its original order. */
static void match_area(const coco_ctx *c, const size_t *g_idx, int ng, const double *ious, int a,
                       img_eval *e, int *gtind, uint8_t *gtm)
{
    const eval_gt *gt = c->s->gt;
    int n = 0;
    for (int pass = 0; pass < 2; pass++) /* stable sort by ignore flag */
        for (int g = 0; g < ng; g++) {
            const eval_gt *G = &gt[g_idx[g]];
            int ig = G->iscrowd || G->area < area_lo[a] || G->area > area_hi[a];
            if (ig == pass) gtind[n++] = g;
        }
    for (int g = 0; g < ng; g++) {
        const eval_gt *G = &gt[g_idx[gtind[g]]];
        e->gtig[g] = G->iscrowd || G->area < area_lo[a] || G->area > area_hi[a];
    }
    for (int t = 0; t < NT; t++) {
        double thr = linspace(0.5, 0.95, NT, t);
        memset(gtm, 0, (size_t)ng + 1);
        for (int d = 0; d < e->nd; d++) {
            double iou = thr < 1 - 1e-10 ? thr : 1 - 1e-10;
            int m = -1;
            for (int g = 0; g < ng; g++) {
                int crowd = gt[g_idx[gtind[g]]].iscrowd;
                if (gtm[g] && !crowd) continue;
                if (m > -1 && !e->gtig[m] && e->gtig[g]) break;
                double v = ious[(size_t)d * ng + gtind[g]];
                if (v < iou) continue;
                iou = v;
                m = g;
            }
            if (m == -1) continue;
            e->dtig[t * e->nd + d] = e->gtig[m];
            e->dtm[t * e->nd + d] = 1;
            gtm[m] = 1;
        }
        for (int d = 0; d < e->nd; d++)
            if (!e->dtm[t * e->nd + d] && (e->darea[d] < area_lo[a] || e->darea[d] > area_hi[a]))
                e->dtig[t * e->nd + d] = 1;
    }
}

static dy_status evaluate_pair(coco_ctx *c, size_t img, int cat)
{
    size_t key = img * (size_t)c->s->ncat + (size_t)cat;
    const size_t *g_idx = c->gt_idx + c->gt_start[key], *d_idx = c->dt_idx + c->dt_start[key];
    int ng = (int)(c->gt_start[key + 1] - c->gt_start[key]);
    int nd_all = (int)(c->dt_start[key + 1] - c->dt_start[key]);
    if (ng == 0 && nd_all == 0) return DY_OK;
    int nd = nd_all < MAXDET ? nd_all : MAXDET;
    scored *order = malloc(((size_t)nd_all + 1) * sizeof *order);
    double *ious = malloc(((size_t)nd * ng + 1) * sizeof *ious);
    int *gtind = malloc(((size_t)ng + 1) * sizeof *gtind);
    uint8_t *gtm = malloc((size_t)ng + 1);
    dy_status st = (order && ious && gtind && gtm) ? DY_OK : DY_ERR(DY_ENOMEM, "coco eval: out of memory");
    for (int d = 0; st == DY_OK && d < nd_all; d++) order[d] = (scored){c->s->dt[d_idx[d]].score, (size_t)d};
    if (st == DY_OK) qsort(order, (size_t)nd_all, sizeof *order, cmp_scored);
    for (int d = 0; st == DY_OK && d < nd; d++)
        for (int g = 0; g < ng; g++)
            ious[(size_t)d * ng + g] = bb_iou(&c->s->dt[d_idx[order[d].pos]], &c->s->gt[g_idx[g]]);
    for (int a = 0; st == DY_OK && a < NA; a++) {
        img_eval *e = img_eval_new(nd, ng);
        if (!e) {
            st = DY_ERR(DY_ENOMEM, "coco eval: out of memory");
            break;
        }
        for (int d = 0; d < nd; d++) {
            const eval_dt *D = &c->s->dt[d_idx[order[d].pos]];
            e->scores[d] = D->score;
            e->darea[d] = D->w * D->h;
        }
        match_area(c, g_idx, ng, ious, a, e, gtind, gtm);
        c->ev[((size_t)cat * NA + a) * c->nimg + img] = e;
    }
    free(order), free(ious), free(gtind), free(gtm);
    return st;
}

/* accumulate() for one (category, area, maxDet): fills precision[t][r] and recall[t]. */
static dy_status accumulate_one(const coco_ctx *c, int k, int a, int maxdet, double *prec, double *rec)
{
    img_eval **E = c->ev + ((size_t)k * NA + a) * c->nimg;
    size_t nd = 0, npig = 0;
    int any = 0;
    for (size_t i = 0; i < c->nimg; i++) {
        if (!E[i]) continue;
        any = 1;
        nd += (size_t)(E[i]->nd < maxdet ? E[i]->nd : maxdet);
        for (int g = 0; g < E[i]->ng; g++) npig += !E[i]->gtig[g];
    }
    if (!any || npig == 0) return DY_OK;
    scored *all = malloc((nd + 1) * sizeof *all);
    uint8_t *m = malloc(nd * NT + 1), *ig = malloc(nd * NT + 1);
    double *pr = malloc((nd + 1) * sizeof *pr), *rc = malloc((nd + 1) * sizeof *rc);
    if (!all || !m || !ig || !pr || !rc) {
        free(all), free(m), free(ig), free(pr), free(rc);
        return DY_ERR(DY_ENOMEM, "coco eval: out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < c->nimg; i++) {
        if (!E[i]) continue;
        int take = E[i]->nd < maxdet ? E[i]->nd : maxdet;
        for (int d = 0; d < take; d++, n++) {
            all[n] = (scored){E[i]->scores[d], n};
            for (int t = 0; t < NT; t++) {
                m[t * nd + n] = E[i]->dtm[t * E[i]->nd + d];
                ig[t * nd + n] = E[i]->dtig[t * E[i]->nd + d];
            }
        }
    }
    qsort(all, nd, sizeof *all, cmp_scored);
    for (int t = 0; t < NT; t++) {
        double tp = 0, fp = 0;
        for (size_t j = 0; j < nd; j++) {
            size_t p = all[j].pos;
            int ign = ig[t * nd + p], hit = m[t * nd + p];
            tp += hit && !ign;
            fp += !hit && !ign;
            rc[j] = tp / (double)npig;
            pr[j] = tp / (fp + tp + SPACING1);
        }
        rec[t] = nd ? rc[nd - 1] : 0;
        for (size_t j = nd; j-- > 1;)
            if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
        size_t j = 0;
        for (int r = 0; r < NR; r++) {
            double thr = linspace(0.0, 1.0, NR, r);
            while (j < nd && rc[j] < thr) j++; /* np.searchsorted(rc, thr, 'left') */
            prec[t * NR + r] = j < nd ? pr[j] : 0;
            if (j >= nd) {
                for (int rr = r; rr < NR; rr++) prec[t * NR + rr] = 0;
                break;
            }
        }
    }
    free(all), free(m), free(ig), free(pr), free(rc);
    return DY_OK;
}

/* summarize(): mean over the entries > -1 of the selected slice. */
static double mean_valid(const double *v, size_t n)
{
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > -1) s += v[i], k++;
    return k ? s / (double)k : -1;
}

static dy_status summarize(const coco_ctx *c, coco_eval_result *r)
{
    int K = c->s->ncat;
    /* prec[k][a][m][t][r], rec[k][a][m][t], initialised to -1 as in COCOeval. */
    size_t np = (size_t)K * NA * NM * NT * NR, nr = (size_t)K * NA * NM * NT;
    double *prec = malloc(np * sizeof *prec), *rec = malloc(nr * sizeof *rec);
    double *sel = malloc((np > 1 ? np : 1) * sizeof *sel);
    if (!prec || !rec || !sel) {
        free(prec), free(rec), free(sel);
        return DY_ERR(DY_ENOMEM, "coco eval: out of memory");
    }
    for (size_t i = 0; i < np; i++) prec[i] = -1;
    for (size_t i = 0; i < nr; i++) rec[i] = -1;
    dy_status st = DY_OK;
    for (int k = 0; k < K && st == DY_OK; k++)
        for (int a = 0; a < NA && st == DY_OK; a++)
            for (int mi = 0; mi < NM && st == DY_OK; mi++) {
                size_t base = ((size_t)k * NA + a) * NM + mi;
                st = accumulate_one(c, k, a, max_dets[mi], prec + base * NT * NR, rec + base * NT);
            }
    /* (iou index or -1 for all, area, maxDet index, is_ap) per summarize() line. */
    static const int spec[COCO_NSTATS][4] = {{-1, 0, 2, 1}, {0, 0, 2, 1}, {5, 0, 2, 1}, {-1, 1, 2, 1},
                                             {-1, 2, 2, 1}, {-1, 3, 2, 1}, {-1, 0, 0, 0}, {-1, 0, 1, 0},
                                             {-1, 0, 2, 0}, {-1, 1, 2, 0}, {-1, 2, 2, 0}, {-1, 3, 2, 0}};
    for (int s = 0; s < COCO_NSTATS && st == DY_OK; s++) {
        size_t n = 0;
        for (int k = 0; k < K; k++) {
            size_t base = ((size_t)k * NA + spec[s][1]) * NM + spec[s][2];
            for (int t = 0; t < NT; t++) {
                if (spec[s][0] >= 0 && t != spec[s][0]) continue;
                if (spec[s][3])
                    for (int q = 0; q < NR; q++) sel[n++] = prec[(base * NT + t) * NR + q];
                else
                    sel[n++] = rec[base * NT + t];
            }
        }
        r->stats[s] = mean_valid(sel, n);
    }
    for (int k = 0; k < K && st == DY_OK; k++) {
        size_t base = ((size_t)k * NA + 0) * NM + 2;
        r->class_ap[k] = mean_valid(prec + base * NT * NR, (size_t)NT * NR);
        r->class_ap50[k] = mean_valid(prec + base * NT * NR, NR);
    }
    free(prec), free(rec), free(sel);
    return st;
}

static void ctx_free(coco_ctx *c)
{
    if (c->ev)
        for (size_t i = 0; i < (size_t)c->s->ncat * NA * c->nimg; i++) img_eval_free(c->ev[i]);
    free(c->ev), free(c->imgs), free(c->gt_start), free(c->gt_idx), free(c->dt_start), free(c->dt_idx);
}

dy_status coco_eval_run(const eval_set *s, coco_eval_result *r)
{
    memset(r, 0, sizeof *r);
    coco_ctx c = {.s = s};
    r->ncat = s->ncat;
    r->class_ap = calloc((size_t)s->ncat + 1, sizeof *r->class_ap);
    r->class_ap50 = calloc((size_t)s->ncat + 1, sizeof *r->class_ap50);
    r->class_ngt = calloc((size_t)s->ncat + 1, sizeof *r->class_ngt);
    dy_status st = (r->class_ap && r->class_ap50 && r->class_ngt) ? DY_OK : DY_ERR(DY_ENOMEM, "coco eval: out of memory");
    if (st == DY_OK) st = build_images(&c);
    if (st == DY_OK) st = bucket(&c, s->ngt, 1, &c.gt_start, &c.gt_idx);
    if (st == DY_OK) st = bucket(&c, s->ndt, 0, &c.dt_start, &c.dt_idx);
    if (st == DY_OK && !(c.ev = calloc((size_t)s->ncat * NA * c.nimg + 1, sizeof *c.ev)))
        st = DY_ERR(DY_ENOMEM, "coco eval: out of memory");
    for (int k = 0; k < s->ncat && st == DY_OK; k++)
        for (size_t i = 0; i < c.nimg && st == DY_OK; i++) st = evaluate_pair(&c, i, k);
    if (st == DY_OK) st = summarize(&c, r);
    for (size_t i = 0; st == DY_OK && i < s->ngt; i++) r->class_ngt[s->gt[i].category] += !s->gt[i].iscrowd;
    ctx_free(&c);
    if (st != DY_OK) coco_eval_free(r);
    return st;
}

void coco_eval_free(coco_eval_result *r)
{
    free(r->class_ap), free(r->class_ap50), free(r->class_ngt);
    r->class_ap = r->class_ap50 = NULL;
    r->class_ngt = NULL;
}
