/* loss.c -- the YOLOv5 loss and its gradient (see loss.h).  The math is done in
 * double per matched target (there are few) and the objectness term streams once
 * over every anchor cell.
 *
 * defines: yolo_loss_hyp_default, yolo_loss_compute, yolo_loss_ws_free, yolo_ciou */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/loss.h"

void yolo_loss_hyp_default(yolo_loss_hyp *h, int nc, int imgsz, int nl)
{
    /* hyp.scratch-low gains, rescaled as YOLOv5's train.py does */
    double lv = 3.0 / nl;
    h->box = (float)(0.05 * lv);
    h->cls = (float)(0.5 * nc / 80.0 * lv);
    h->obj = (float)(1.0 * ((double)imgsz / 640.0) * ((double)imgsz / 640.0) * lv);
    h->anchor_t = 4.0f;
    h->label_smoothing = 0.0f;
    static const float bal3[3] = {4.0f, 1.0f, 0.4f}, bal4[4] = {4.0f, 1.0f, 0.25f, 0.06f};
    for (int i = 0; i < YOLO_MAX_LEVELS; i++)
        h->balance[i] = nl == 3 ? (i < 3 ? bal3[i] : 1.f) : (nl == 4 ? bal4[i] : 1.f);
}

double yolo_ciou(const double p[4], const double t[4], double alpha, double *alpha_out, double dp[4])
{
    const double eps = 1e-7, k = 4.0 / (M_PI * M_PI);
    double x1 = p[0], y1 = p[1], w1 = p[2], h1 = p[3], w2 = t[2], h2 = t[3];
    double l1 = x1 - w1 / 2, r1 = x1 + w1 / 2, t1 = y1 - h1 / 2, b1 = y1 + h1 / 2;
    double l2 = t[0] - w2 / 2, r2 = t[0] + w2 / 2, t2 = t[1] - h2 / 2, b2 = t[1] + h2 / 2;
    double iw = fmin(r1, r2) - fmax(l1, l2), ih = fmin(b1, b2) - fmax(t1, t2);
    double iwc = iw > 0 ? iw : 0, ihc = ih > 0 ? ih : 0, inter = iwc * ihc;
    double uni = w1 * h1 + w2 * h2 - inter + eps, iou = inter / uni;
    double cw = fmax(r1, r2) - fmin(l1, l2), ch = fmax(b1, b2) - fmin(t1, t2);
    double c2 = cw * cw + ch * ch + eps;
    double dx = l2 + r2 - l1 - r1, dy = t2 + b2 - t1 - b1, rho2 = (dx * dx + dy * dy) / 4;
    double da = atan(w2 / h2) - atan(w1 / h1), v = k * da * da;
    if (alpha < 0) alpha = v / (v - iou + (1 + eps));
    if (alpha_out) *alpha_out = alpha;
    double ciou = iou - (rho2 / c2 + v * alpha);
    if (!dp) return ciou;
    double di = (uni + inter) / (uni * uni), da1 = -inter / (uni * uni);
    double dir = (iw > 0 && r1 < r2) ? ihc : 0, dil = (iw > 0 && l1 > l2) ? -ihc : 0;
    double dib = (ih > 0 && b1 < b2) ? iwc : 0, dit = (ih > 0 && t1 > t2) ? -iwc : 0;
    double dcr = r1 > r2 ? 2 * cw : 0, dcl = l1 < l2 ? -2 * cw : 0;
    double dcb = b1 > b2 ? 2 * ch : 0, dct = t1 < t2 ? -2 * ch : 0;
    double q = rho2 / (c2 * c2);
    double gr = di * dir - (-dx / 2 / c2 - q * dcr), gl = di * dil - (-dx / 2 / c2 - q * dcl);
    double gb = di * dib - (-dy / 2 / c2 - q * dcb), gt = di * dit - (-dy / 2 / c2 - q * dct);
    double s2 = w1 * w1 + h1 * h1;
    double dvw = 2 * k * da * (-h1 / s2), dvh = 2 * k * da * (w1 / s2);
    dp[0] = gl + gr;
    dp[1] = gt + gb;
    dp[2] = (gr - gl) / 2 + da1 * h1 - alpha * dvw;
    dp[3] = (gb - gt) / 2 + da1 * w1 - alpha * dvh;
    return ciou;
}

static inline double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

/* BCE with logits, numerically stable. */
static inline double bce(double x, double t)
{
    return (x > 0 ? x : 0) - x * t + log1p(exp(-fabs(x)));
}

typedef struct {
    int b, a, gj, gi, cls;
    double tbox[4];
} yolo_match;

/* Appends the matches of level `lv` to *m (grown as needed); returns the count or -1. */
static int build_matches(const yolo_head *hd, const yolo_loss_hyp *hp, int lv, const float *tg,
                         int nt, yolo_match **m, size_t *mcap)
{
    const double off[5][2] = {{0, 0}, {0.5, 0}, {0, 0.5}, {-0.5, 0}, {0, -0.5}};
    const int nx = hd->nx[lv], ny = hd->ny[lv];
    size_t need = (size_t)5 * hd->na * nt + 1;
    if (need > *mcap) {
        yolo_match *p = realloc(*m, sizeof *p * need);
        if (!p) return -1;
        *m = p;
        *mcap = need;
    }
    int cnt = 0;
    for (int o = 0; o < 5; o++)
        for (int a = 0; a < hd->na; a++)
            for (int t = 0; t < nt; t++) {
                const float *r = tg + 6 * (size_t)t;
                double gx = r[2] * nx, gy = r[3] * ny, gw = r[4] * nx, gh = r[5] * ny;
                double aw = hd->anchors[lv][a][0] / hd->stride[lv], ah = hd->anchors[lv][a][1] / hd->stride[lv];
                double rw = gw / aw, rh = gh / ah;
                if (!(fmax(rw, 1 / rw) < hp->anchor_t && fmax(rh, 1 / rh) < hp->anchor_t)) continue;
                double gxi = nx - gx, gyi = ny - gy;
                int keep = o == 0 || (o == 1 && fmod(gx, 1) < 0.5 && gx > 1) ||
                           (o == 2 && fmod(gy, 1) < 0.5 && gy > 1) ||
                           (o == 3 && fmod(gxi, 1) < 0.5 && gxi > 1) ||
                           (o == 4 && fmod(gyi, 1) < 0.5 && gyi > 1);
                if (!keep) continue;
                int gi = (int)(gx - off[o][0]), gj = (int)(gy - off[o][1]);
                yolo_match *mm = &(*m)[cnt++];
                mm->b = (int)r[0];
                mm->cls = (int)r[1];
                mm->a = a;
                mm->tbox[0] = gx - gi;
                mm->tbox[1] = gy - gj;
                mm->tbox[2] = gw;
                mm->tbox[3] = gh;
                mm->gi = gi < 0 ? 0 : (gi > nx - 1 ? nx - 1 : gi);
                mm->gj = gj < 0 ? 0 : (gj > ny - 1 ? ny - 1 : gj);
            }
    return cnt;
}

static dy_status check_targets(const yolo_head *hd, const float *tg, int nt)
{
    for (int t = 0; t < nt; t++) {
        const float *r = tg + 6 * (size_t)t;
        if (!(r[0] >= 0 && (int)r[0] < hd->batch) || !(r[1] >= 0 && (int)r[1] < hd->nc) ||
            !(r[4] > 0 && r[5] > 0) || !isfinite(r[2]) || !isfinite(r[3]))
            return DY_ERR(DY_EINVAL,
                          "loss: target %d = (image %g, class %g, %g %g %g %g) is invalid for batch "
                          "%d and %d classes",
                          t, r[0], r[1], r[2], r[3], r[4], r[5], hd->batch, hd->nc);
    }
    return DY_OK;
}

static dy_status ws_reserve(yolo_loss_ws *ws, size_t n, size_t tobj)
{
    if (n > ws->cap) {
        double *a = realloc(ws->alpha, sizeof(double) * n), *t = a ? realloc(ws->tiou, sizeof(double) * n) : NULL;
        if (a) ws->alpha = a;
        if (t) ws->tiou = t;
        if (!a || !t) return DY_ERR(DY_ENOMEM, "loss: out of memory for %zu matches", n);
        ws->cap = n;
    }
    if (tobj > ws->tobj_cap) {
        float *p = realloc(ws->tobj, sizeof(float) * tobj);
        if (!p) return DY_ERR(DY_ENOMEM, "loss: out of memory");
        ws->tobj = p;
        ws->tobj_cap = tobj;
    }
    return DY_OK;
}

/* Box and class terms of the matches of one level; fills tobj; returns lbox, *lcls. */
static double level_matches(const yolo_head *hd, const yolo_loss_hyp *hp, int lv, const float *out,
                            float *grad, const yolo_match *m, int n, double norm, yolo_loss_ws *ws,
                            double gbox, double gcls, double *lcls)
{
    const int no = 5 + hd->nc;
    const size_t plane = (size_t)hd->batch * hd->ny[lv] * hd->nx[lv];
    const double cp = 1.0 - 0.5 * hp->label_smoothing, cn = 0.5 * hp->label_smoothing;
    double lbox = 0;
    *lcls = 0;
    for (int i = 0; i < n; i++) {
        const yolo_match *mm = &m[i];
        size_t cell = ((size_t)mm->b * hd->ny[lv] + mm->gj) * hd->nx[lv] + mm->gi;
        size_t base = (size_t)mm->a * no * plane + cell;
        double aw = hd->anchors[lv][mm->a][0] / hd->stride[lv], ah = hd->anchors[lv][mm->a][1] / hd->stride[lv];
        double s[4], pb[4], dp[4], alpha;
        for (int k = 0; k < 4; k++) s[k] = sigm(out[base + k * plane]);
        pb[0] = 2 * s[0] - 0.5;
        pb[1] = 2 * s[1] - 0.5;
        pb[2] = 4 * s[2] * s[2] * aw;
        pb[3] = 4 * s[3] * s[3] * ah;
        size_t slot = ws->used + (size_t)i;
        double ciou = yolo_ciou(pb, mm->tbox, ws->freeze ? ws->alpha[slot] : -1, &alpha, dp);
        if (!ws->freeze) {
            ws->alpha[slot] = alpha;
            ws->tiou[slot] = ciou > 0 ? ciou : 0;
        }
        ws->tobj[(size_t)mm->a * plane + cell] = (float)ws->tiou[slot];
        lbox += (1 - ciou) / norm;
        double f = -gbox / norm;
        grad[base] += (float)(f * dp[0] * 2 * s[0] * (1 - s[0]));
        grad[base + plane] += (float)(f * dp[1] * 2 * s[1] * (1 - s[1]));
        grad[base + 2 * plane] += (float)(f * dp[2] * 8 * s[2] * s[2] * (1 - s[2]) * aw);
        grad[base + 3 * plane] += (float)(f * dp[3] * 8 * s[3] * s[3] * (1 - s[3]) * ah);
        if (hd->nc > 1) {
            double inv = 1.0 / (norm * hd->nc);
            for (int c = 0; c < hd->nc; c++) {
                double x = out[base + (5 + c) * plane], t = c == mm->cls ? cp : cn;
                *lcls += bce(x, t) * inv;
                grad[base + (5 + c) * plane] += (float)(gcls * (sigm(x) - t) * inv);
            }
        }
    }
    return lbox;
}

/* Objectness BCE over every anchor cell of one level against ws->tobj. */
static double level_obj(const yolo_head *hd, int lv, const float *out, float *grad,
                        const yolo_loss_ws *ws, double gobj)
{
    const int no = 5 + hd->nc;
    const size_t plane = (size_t)hd->batch * hd->ny[lv] * hd->nx[lv];
    const double inv = 1.0 / ((double)plane * hd->na);
    double l = 0;
    for (int a = 0; a < hd->na; a++) {
        const float *x = out + ((size_t)a * no + 4) * plane;
        float *g = grad + ((size_t)a * no + 4) * plane;
        const float *t = ws->tobj + (size_t)a * plane;
        for (size_t i = 0; i < plane; i++) {
            l += bce(x[i], t[i]);
            g[i] += (float)(gobj * (sigm(x[i]) - t[i]) * inv);
        }
    }
    return l * inv;
}

dy_status yolo_loss_compute(const yolo_head *hd, const yolo_loss_hyp *hp, const float *const *out,
                            float *const *grad, const float *targets, int nt, yolo_loss_ws *ws,
                            yolo_loss_parts *res)
{
    DY_TRY(check_targets(hd, targets, nt));
    const double bs = hd->batch;
    double lbox = 0, lobj = 0, lcls = 0;
    yolo_match *m = ws->matches;
    size_t mcap = ws->mcap;
    if (!ws->freeze) ws->used = 0;
    size_t used = 0;
    res->matches = 0;
    double norm[YOLO_MAX_LEVELS];
    for (int lv = 0; ws->count_reduce && lv < hd->nl; lv++) {
        int n = build_matches(hd, hp, lv, targets, nt, &m, &mcap);
        ws->matches = m;
        ws->mcap = mcap;
        if (n < 0) return DY_ERR(DY_ENOMEM, "loss: out of memory for matches");
        norm[lv] = n;
    }
    if (ws->count_reduce) ws->count_reduce(norm, hd->nl, ws->count_reduce_user);
    for (int lv = 0; lv < hd->nl; lv++) {
        const size_t cells = (size_t)hd->na * hd->batch * hd->ny[lv] * hd->nx[lv];
        const size_t all = cells / hd->na * (5 + hd->nc) * hd->na;
        int n = build_matches(hd, hp, lv, targets, nt, &m, &mcap);
        ws->matches = m;
        ws->mcap = mcap;
        dy_status st = n < 0 ? DY_ERR(DY_ENOMEM, "loss: out of memory for matches")
                             : ws_reserve(ws, used + (size_t)n + 1, cells);
        if (st != DY_OK) return st;
        memset(grad[lv], 0, sizeof(float) * all);
        memset(ws->tobj, 0, sizeof(float) * cells);
        ws->used = used;
        double lc = 0;
        double nrm = ws->count_reduce ? norm[lv] : n;
        if (n && nrm > 0)
            lbox += level_matches(hd, hp, lv, out[lv], grad[lv], m, n, nrm, ws, hp->box * bs, hp->cls * bs, &lc);
        lcls += lc;
        lobj += hp->balance[lv] * level_obj(hd, lv, out[lv], grad[lv], ws, hp->obj * bs * hp->balance[lv]);
        used += (size_t)n;
        res->matches += n;
    }
    ws->used = used;
    res->box = (float)(lbox * hp->box);
    res->obj = (float)(lobj * hp->obj);
    res->cls = (float)(lcls * hp->cls);
    res->total64 = (lbox * hp->box + lobj * hp->obj + lcls * hp->cls) * bs;
    res->total = (float)res->total64;
    return DY_OK;
}

void yolo_loss_ws_free(yolo_loss_ws *ws)
{
    free(ws->alpha);
    free(ws->tiou);
    free(ws->tobj);
    free(ws->matches);
    memset(ws, 0, sizeof *ws);
}
