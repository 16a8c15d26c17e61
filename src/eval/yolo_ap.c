/* yolo_ap.c -- YOLOv5's mAP protocol (see yolo_ap.h), re-implemented from its
 * published definition; numpy's interp/trapz/linspace semantics are reproduced
 * because they decide the exact values. */
#include "eval/yolo_ap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NT 10
#define NPX 1000

typedef struct {
    double conf;
    size_t idx; /* position after collect(): a deterministic tie-break */
    int cls;
    unsigned char tp[NT];
} pred;

static double lin(double a, double b, int n, int i) { return i == n - 1 ? b : (double)i * ((b - a) / (n - 1)) + a; }

/* np.interp(x, xp, fp, left, right=fp[-1]) for non-decreasing xp. */
static double interp(double x, const double *xp, const double *fp, int n, double left)
{
    if (n == 0) return left;
    if (x < xp[0]) return left;
    if (x > xp[n - 1]) return fp[n - 1];
    int lo = 0, hi = n - 1; /* largest j with xp[j] <= x */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (xp[mid] <= x) lo = mid;
        else hi = mid - 1;
    }
    if (lo == n - 1 || x == xp[lo]) return fp[lo];
    double slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
    return slope * (x - xp[lo]) + fp[lo];
}

/* compute_ap: envelope of [1, prec, 0] over [0, rec, 1], 101-point trapezoid; the
 * interpolated curve goes to curve[101] when given. */
static double compute_ap(const double *rec, const double *prec, int n, double *mrec, double *mpre, double *curve)
{
    mrec[0] = 0, mpre[0] = 1;
    for (int i = 0; i < n; i++) mrec[i + 1] = rec[i], mpre[i + 1] = prec[i];
    mrec[n + 1] = 1, mpre[n + 1] = 0;
    for (int i = n; i >= 0; i--)
        if (mpre[i + 1] > mpre[i]) mpre[i] = mpre[i + 1];
    double ap = 0, px = 0, py = interp(0, mrec, mpre, n + 2, mpre[0]);
    if (curve) curve[0] = py;
    for (int i = 1; i <= 100; i++) {
        double x = lin(0, 1, 101, i), y = interp(x, mrec, mpre, n + 2, mpre[0]);
        ap += (x - px) * (y + py) / 2;
        px = x, py = y;
        if (curve) curve[i] = y;
    }
    return ap;
}

static double box_iou(const eval_gt *g, const eval_dt *d)
{
    double iw = fmin(g->x + g->w, d->x + d->w) - fmax(g->x, d->x);
    double ih = fmin(g->y + g->h, d->y + d->h) - fmax(g->y, d->y);
    double inter = (iw > 0 ? iw : 0) * (ih > 0 ? ih : 0);
    return inter / (g->w * g->h + d->w * d->h - inter + 1e-7);
}

static int cmp_conf_desc(const void *a, const void *b)
{
    const pred *x = a, *y = b;
    if (x->conf != y->conf) return (x->conf < y->conf) - (x->conf > y->conf);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* process_batch for one image: dets sorted by confidence, labels; sets tp flags.
 * Each detection keeps its best-IoU label; each label then keeps the detection with
 * the lowest index (highest confidence) among those, as YOLOv5's double np.unique. */
static void match_image(const eval_gt *const *lab, int nl, const eval_dt *const *det, int nd, pred *out,
                        int *best_l, double *best_iou, int *owner)
{
    for (int t = 0; t < NT; t++) {
        float thr = (float)lin(0.5, 0.95, NT, t);
        for (int d = 0; d < nd; d++) {
            best_l[d] = -1, best_iou[d] = -1;
            for (int l = 0; l < nl; l++) {
                if (lab[l]->category != det[d]->category) continue;
                double v = box_iou(lab[l], det[d]);
                if ((float)v >= thr && v > best_iou[d]) best_iou[d] = v, best_l[d] = l;
            }
        }
        for (int l = 0; l < nl; l++) owner[l] = -1;
        for (int d = 0; d < nd; d++)
            if (best_l[d] >= 0 && owner[best_l[d]] < 0) owner[best_l[d]] = d;
        for (int l = 0; l < nl; l++)
            if (owner[l] >= 0) out[owner[l]].tp[t] = 1;
    }
}

static int cmp_dt_ptr(const void *a, const void *b)
{
    const eval_dt *x = *(const eval_dt *const *)a, *y = *(const eval_dt *const *)b;
    if (x->image_id != y->image_id) return (x->image_id > y->image_id) - (x->image_id < y->image_id);
    if (x->score != y->score) return (x->score < y->score) - (x->score > y->score);
    return (x > y) - (x < y); /* stable: input order */
}

static int cmp_gt_ptr(const void *a, const void *b)
{
    const eval_gt *x = *(const eval_gt *const *)a, *y = *(const eval_gt *const *)b;
    if (x->image_id != y->image_id) return (x->image_id > y->image_id) - (x->image_id < y->image_id);
    return (x > y) - (x < y);
}

/* Builds the per-detection tp table over all images. */
static dy_status collect(const eval_set *s, pred *preds)
{
    const eval_dt **D = malloc((s->ndt + 1) * sizeof *D);
    const eval_gt **G = malloc((s->ngt + 1) * sizeof *G);
    int *bl = malloc((s->ndt + 1) * sizeof *bl), *own = malloc((s->ngt + 1) * sizeof *own);
    double *bi = malloc((s->ndt + 1) * sizeof *bi);
    dy_status st = (D && G && bl && own && bi) ? DY_OK : DY_ERR(DY_ENOMEM, "yolo ap: out of memory");
    size_t ng = 0;
    for (size_t i = 0; st == DY_OK && i < s->ndt; i++) D[i] = &s->dt[i];
    for (size_t i = 0; st == DY_OK && i < s->ngt; i++)
        if (!s->gt[i].iscrowd) G[ng++] = &s->gt[i];
    if (st == DY_OK) {
        qsort(D, s->ndt, sizeof *D, cmp_dt_ptr);
        qsort(G, ng, sizeof *G, cmp_gt_ptr);
    }
    size_t gi = 0;
    for (size_t di = 0; st == DY_OK && di < s->ndt;) {
        size_t dj = di;
        while (dj < s->ndt && D[dj]->image_id == D[di]->image_id) dj++;
        while (gi < ng && G[gi]->image_id < D[di]->image_id) gi++;
        size_t gj = gi;
        while (gj < ng && G[gj]->image_id == D[di]->image_id) gj++;
        for (size_t k = di; k < dj; k++) {
            memset(&preds[k], 0, sizeof preds[k]);
            preds[k].conf = D[k]->score, preds[k].cls = D[k]->category, preds[k].idx = k;
        }
        match_image(G + gi, (int)(gj - gi), D + di, (int)(dj - di), preds + di, bl, bi, own);
        di = dj;
    }
    free(D), free(G), free(bl), free(own), free(bi);
    return st;
}

/* Smoothing of YOLOv5's metrics.smooth: box filter of odd width, edge-padded. */
static void smooth(const double *y, int n, double f, double *out)
{
    int nf = (int)(round(n * f * 2) / 2) + 1, half = nf / 2;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int k = -half; k <= half; k++) {
            int j = i + k < 0 ? 0 : (i + k >= n ? n - 1 : i + k);
            s += y[j];
        }
        out[i] = s / nf;
    }
}

static dy_status per_class(const pred *P, size_t np, int c, int nl, yolo_ap_result *r, double *pc, double *rc,
                           double *work)
{
    size_t n = 0;
    for (size_t i = 0; i < np; i++) n += P[i].cls == c;
    if (n == 0 || nl == 0) return DY_OK;
    double *negconf = work, *rec = work + n, *prec = work + 2 * n, *mrec = work + 3 * n, *mpre = work + 4 * n + 2;
    double ap_sum = 0;
    for (int t = 0; t < NT; t++) {
        double tpc = 0, fpc = 0;
        size_t k = 0;
        for (size_t i = 0; i < np; i++) {
            if (P[i].cls != c) continue;
            tpc += P[i].tp[t], fpc += 1 - P[i].tp[t];
            negconf[k] = -P[i].conf;
            rec[k] = tpc / (nl + 1e-16);
            prec[k] = tpc / (tpc + fpc);
            k++;
        }
        if (t == 0)
            for (int x = 0; x < NPX; x++) {
                double px = -lin(0, 1, NPX, x);
                rc[x] = interp(px, negconf, rec, (int)n, 0);
                pc[x] = interp(px, negconf, prec, (int)n, 1);
            }
        double ap = compute_ap(rec, prec, (int)n, mrec, mpre, t == 0 ? r->pr_curve + (size_t)c * YOLO_AP_NPR : NULL);
        if (t == 0) r->ap50[c] = ap;
        ap_sum += ap;
    }
    r->ap[c] = ap_sum / NT;
    return DY_OK;
}

static void pick_best(yolo_ap_result *r, const double *P, const double *R, const int *has, int nc)
{
    double f1mean[NPX], sm[NPX];
    for (int x = 0; x < NPX; x++) {
        double s = 0;
        for (int c = 0; c < r->ncat; c++)
            if (has[c]) s += 2 * P[c * NPX + x] * R[c * NPX + x] / (P[c * NPX + x] + R[c * NPX + x] + 1e-16);
        f1mean[x] = nc ? s / nc : 0;
    }
    smooth(f1mean, NPX, 0.1, sm);
    int best = 0;
    for (int x = 1; x < NPX; x++)
        if (sm[x] > sm[best]) best = x;
    r->best_conf = lin(0, 1, NPX, best);
    double sp = 0, sr = 0, s50 = 0, s = 0;
    for (int c = 0; c < r->ncat; c++) {
        r->p[c] = P[c * NPX + best], r->r[c] = R[c * NPX + best];
        r->f1[c] = 2 * r->p[c] * r->r[c] / (r->p[c] + r->r[c] + 1e-16);
        if (has[c]) sp += r->p[c], sr += r->r[c], s50 += r->ap50[c], s += r->ap[c];
    }
    r->mp = nc ? sp / nc : 0, r->mr = nc ? sr / nc : 0, r->map50 = nc ? s50 / nc : 0, r->map = nc ? s / nc : 0;
}

dy_status yolo_ap_run(const eval_set *s, yolo_ap_result *r)
{
    memset(r, 0, sizeof *r);
    int K = r->ncat = s->ncat;
    size_t nd = s->ndt;
    r->ap50 = calloc(K + 1, sizeof(double)), r->ap = calloc(K + 1, sizeof(double));
    r->p = calloc(K + 1, sizeof(double)), r->r = calloc(K + 1, sizeof(double));
    r->f1 = calloc(K + 1, sizeof(double)), r->nlabels = calloc(K + 1, sizeof(int));
    r->pr_curve = calloc((size_t)K * YOLO_AP_NPR + 1, sizeof(double));
    pred *P = malloc((nd + 1) * sizeof *P);
    double *PC = calloc((size_t)K * NPX + 1, sizeof *PC), *RC = calloc((size_t)K * NPX + 1, sizeof *RC);
    double *work = malloc((5 * nd + 8) * sizeof *work);
    int *has = calloc(K + 1, sizeof *has);
    dy_status st = (r->ap50 && r->ap && r->p && r->r && r->f1 && r->nlabels && r->pr_curve && P && PC && RC &&
                    work && has)
                       ? DY_OK : DY_ERR(DY_ENOMEM, "yolo ap: out of memory");
    if (st == DY_OK) st = collect(s, P);
    if (st == DY_OK) {
        qsort(P, nd, sizeof *P, cmp_conf_desc);
        for (size_t i = 0; i < s->ngt; i++) r->nlabels[s->gt[i].category] += !s->gt[i].iscrowd;
        int nc = 0;
        for (int c = 0; c < K; c++) {
            has[c] = r->nlabels[c] > 0;
            nc += has[c];
            per_class(P, nd, c, r->nlabels[c], r, PC + (size_t)c * NPX, RC + (size_t)c * NPX, work);
        }
        pick_best(r, PC, RC, has, nc);
    }
    free(P), free(PC), free(RC), free(work), free(has);
    if (st != DY_OK) yolo_ap_free(r);
    return st;
}

void yolo_ap_free(yolo_ap_result *r)
{
    free(r->ap50), free(r->ap), free(r->p), free(r->r), free(r->f1), free(r->nlabels), free(r->pr_curve);
    memset(r, 0, sizeof *r);
}
