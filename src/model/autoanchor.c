/* autoanchor.c -- YOLOv5's AutoAnchor math (see autoanchor.h): the fit metric, the
 * scipy-style k-means, the mutation search and the anchor order/precision fixes. */
#include "model/autoanchor.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "tensor/backend.h"

/* min(r, 1/r) of the worse of the two ratios box/anchor: 1 is a perfect fit. */
static inline double ratio_metric(const float *b, const float *a)
{
    double rw = (double)b[0] / a[0], rh = (double)b[1] / a[1];
    return fmin(fmin(rw, 1 / rw), fmin(rh, 1 / rh));
}

anchor_fit anchor_metric(const float *wh, size_t n, const float *k, int nk, double thr)
{
    anchor_fit f = {0, 0};
    if (!n) return f;
    size_t fit = 0, above = 0;
    for (size_t i = 0; i < n; i++) {
        double best = 0;
        for (int a = 0; a < nk; a++) {
            double x = ratio_metric(&wh[2 * i], &k[2 * a]);
            above += x > 1 / thr;
            best = fmax(best, x);
        }
        fit += best > 1 / thr;
    }
    f.bpr = (double)fit / (double)n;
    f.aat = (double)above / (double)n;
    return f;
}

double anchor_fitness(const float *wh, size_t n, const float *k, int nk, double thr)
{
    if (!n) return 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double best = 0;
        for (int a = 0; a < nk; a++) best = fmax(best, ratio_metric(&wh[2 * i], &k[2 * a]));
        if (best > 1 / thr) sum += best;
    }
    return sum / (double)n;
}

/* ------------------------------------------------------------------ k-means */

/* One Lloyd run from the codes in book (nk on entry); returns the mean distance of
 * the last assignment and sets *nk to the clusters that kept members. */
static double lloyd(const double *obs, size_t n, double *book, int *nk, int *code, double *sum, size_t *cnt)
{
    double prev = INFINITY, cur = INFINITY, diff = INFINITY;
    while (diff > 1e-5) {
        double tot = 0;
        for (size_t i = 0; i < n; i++) {
            double bd = INFINITY;
            for (int c = 0; c < *nk; c++) {
                double dx = obs[2 * i] - book[2 * c], dy = obs[2 * i + 1] - book[2 * c + 1], d = dx * dx + dy * dy;
                if (d < bd) bd = d, code[i] = c;
            }
            tot += sqrt(bd);
        }
        prev = cur, cur = tot / (double)n;
        memset(sum, 0, sizeof *sum * 2 * (size_t)*nk);
        memset(cnt, 0, sizeof *cnt * (size_t)*nk);
        for (size_t i = 0; i < n; i++) {
            sum[2 * code[i]] += obs[2 * i], sum[2 * code[i] + 1] += obs[2 * i + 1];
            cnt[code[i]]++;
        }
        int kept = 0; /* scipy drops the codes that lost every member */
        for (int c = 0; c < *nk; c++)
            if (cnt[c]) {
                book[2 * kept] = sum[2 * c] / (double)cnt[c];
                book[2 * kept + 1] = sum[2 * c + 1] / (double)cnt[c];
                kept++;
            }
        *nk = kept;
        diff = fabs(prev - cur);
    }
    return cur;
}

/* nk distinct indices below n (a partial Fisher-Yates shuffle). */
static void pick_distinct(rng_stream *r, size_t n, int nk, size_t *idx, size_t *perm)
{
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (int j = 0; j < nk; j++) {
        size_t t = (size_t)j + (size_t)rng_below(r, (uint32_t)(n - (size_t)j));
        size_t v = perm[t];
        perm[t] = perm[j], perm[j] = v;
        idx[j] = v;
    }
}

static void whiten(const float *wh, size_t n, double *obs, double sigma[2])
{
    for (int d = 0; d < 2; d++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < n; i++) m += wh[2 * i + d];
        m /= (double)n;
        for (size_t i = 0; i < n; i++) v += (wh[2 * i + d] - m) * (wh[2 * i + d] - m);
        sigma[d] = sqrt(v / (double)n); /* numpy's std: ddof 0 */
    }
    for (size_t i = 0; i < n; i++)
        obs[2 * i] = wh[2 * i] / sigma[0], obs[2 * i + 1] = wh[2 * i + 1] / sigma[1];
}

int anchor_kmeans(const float *wh, size_t n, int nk, uint64_t seed, float *k)
{
    if (nk < 1 || n < (size_t)nk || n > UINT32_MAX) return 0;
    double *obs = malloc(sizeof *obs * 2 * n), *book = malloc(sizeof *book * 2 * (size_t)nk),
           *best = malloc(sizeof *best * 2 * (size_t)nk), *sum = malloc(sizeof *sum * 2 * (size_t)nk), sigma[2];
    int *code = malloc(sizeof *code * n);
    size_t *cnt = malloc(sizeof *cnt * (size_t)nk), *perm = malloc(sizeof *perm * n),
           *idx = malloc(sizeof *idx * (size_t)nk);
    int ok = obs && book && best && sum && code && cnt && perm && idx;
    if (ok) whiten(wh, n, obs, sigma);
    ok = ok && sigma[0] > 0 && sigma[1] > 0; /* scipy rejects the non-finite whitened sizes */
    double best_d = INFINITY;
    int best_k = 0;
    rng_stream r;
    rng_stream_init(&r, seed, ANCHOR_PURPOSE, 1, 0);
    for (int it = 0; ok && it < 30; it++) {
        pick_distinct(&r, n, nk, idx, perm);
        for (int c = 0; c < nk; c++) book[2 * c] = obs[2 * idx[c]], book[2 * c + 1] = obs[2 * idx[c] + 1];
        int kk = nk;
        double d = lloyd(obs, n, book, &kk, code, sum, cnt);
        if (d < best_d) best_d = d, best_k = kk, memcpy(best, book, sizeof *best * 2 * (size_t)kk);
    }
    ok = ok && best_k == nk;
    for (int c = 0; ok && c < nk; c++)
        k[2 * c] = (float)(best[2 * c] * sigma[0]), k[2 * c + 1] = (float)(best[2 * c + 1] * sigma[1]);
    free(obs), free(book), free(best), free(sum), free(code), free(cnt), free(perm), free(idx);
    return ok;
}

/* ---------------------------------------------------------------- evolution */

double anchor_evolve(const float *wh, size_t n, float *k, int nk, double thr, int gen, uint64_t seed)
{
    float kg[2 * 16];
    if (nk > 16) return anchor_fitness(wh, n, k, nk, thr);
    double f = anchor_fitness(wh, n, k, nk, thr);
    rng_stream r;
    rng_stream_init(&r, seed, ANCHOR_PURPOSE, 2, 0);
    for (int g = 0; g < gen; g++) {
        int changed = 0;
        while (!changed) { /* mutate until a change occurs */
            double u = rng_uniform(&r);
            for (int j = 0; j < 2 * nk; j++) {
                double mut = rng_uniform(&r) < 0.9, z = rng_normal(&r);
                double v = fmin(fmax(mut * u * z * 0.1 + 1, 0.3), 3.0);
                changed |= v != 1;
                kg[j] = (float)fmax(k[j] * v, 2.0);
            }
        }
        double fg = anchor_fitness(wh, n, kg, nk, thr);
        if (fg > f) f = fg, memcpy(k, kg, sizeof *k * 2 * (size_t)nk);
    }
    return f;
}

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int by_area(const void *a, const void *b)
{
    const float *x = a, *y = b;
    double ax = (double)x[0] * x[1], ay = (double)y[0] * y[1];
    return (ax > ay) - (ax < ay);
}

dy_status anchor_compute(const float *wh0, size_t n, int nk, int imgsz, double thr, int gen, uint64_t seed,
                         float *k)
{
    if (nk < 1 || nk > 16) return DY_ERR(DY_EINVAL, "AutoAnchor: %d anchors (1..16 supported)", nk);
    float *wh = malloc(sizeof *wh * 2 * (n ? n : 1));
    if (!wh) return DY_ERR(DY_ENOMEM, "AutoAnchor: out of memory for %zu box sizes", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) /* YOLOv5 drops boxes under 2 px in both w and h */
        if (wh0[2 * i] >= 2.0f || wh0[2 * i + 1] >= 2.0f) wh[2 * m] = wh0[2 * i], wh[2 * m + 1] = wh0[2 * i + 1], m++;
    if (!m) {
        free(wh);
        return DY_ERR(DY_EINVAL, "AutoAnchor: no training box is 2 pixels or more at this image size");
    }
    if (!anchor_kmeans(wh, m, nk, seed, k)) { /* YOLOv5's fallback: sorted uniform values */
        rng_stream r;
        rng_stream_init(&r, seed, ANCHOR_PURPOSE, 3, 0);
        for (int j = 0; j < 2 * nk; j++) k[j] = rng_uniform(&r);
        qsort(k, 2 * (size_t)nk, sizeof *k, by_value);
        for (int j = 0; j < 2 * nk; j++) k[j] *= (float)imgsz;
    }
    qsort(k, (size_t)nk, 2 * sizeof *k, by_area);
    anchor_evolve(wh, m, k, nk, thr, gen, seed);
    qsort(k, (size_t)nk, 2 * sizeof *k, by_area);
    free(wh);
    return DY_OK;
}

int anchor_order(float *k, int nl, int na, const float *stride)
{
    if (nl < 2) return 0;
    double a0 = 0, a1 = 0;
    for (int a = 0; a < na; a++) {
        a0 += (double)k[2 * a] * k[2 * a + 1];
        a1 += (double)k[2 * ((nl - 1) * na + a)] * k[2 * ((nl - 1) * na + a) + 1];
    }
    double da = (a1 - a0) / na, ds = (double)stride[nl - 1] - stride[0];
    if (da == 0 || (da > 0) == (ds > 0)) return 0;
    for (int l = 0; l < nl / 2; l++)
        for (int j = 0; j < 2 * na; j++) {
            float t = k[2 * na * l + j];
            k[2 * na * l + j] = k[2 * na * (nl - 1 - l) + j], k[2 * na * (nl - 1 - l) + j] = t;
        }
    return 1;
}

void anchor_round_f16(float *k, int nl, int na, const float *stride)
{
    for (int l = 0; l < nl; l++)
        for (int j = 0; j < 2 * na; j++)
            k[2 * na * l + j] = tn_float_from_half(tn_half_from_float(k[2 * na * l + j] / stride[l])) * stride[l];
}
