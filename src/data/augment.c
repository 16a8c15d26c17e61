/* augment.c -- YOLOv5 augmentation on interleaved RGB images (see augment.h). */
#include "data/augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG (3.14159265358979323846 / 180.0)

void aug_params_default(aug_params *p)
{
    *p = (aug_params){0.015f, 0.7f, 0.4f, 0.0f, 0.1f, 0.5f, 0.0f, 0.0f, 0.0f, 0.5f, 1.0f};
}

void aug_img_free(aug_img *a)
{
    img_free(&a->im);
    free(a->box);
    memset(a, 0, sizeof *a);
}

static dy_status add_box(aug_img *a, aug_box b)
{
    if (a->nbox == a->cap) {
        int nc = a->cap ? a->cap * 2 : 16;
        aug_box *nb = realloc(a->box, sizeof(aug_box) * (size_t)nc);
        if (!nb) return DY_ERR(DY_ENOMEM, "out of memory for boxes");
        a->box = nb, a->cap = nc;
    }
    a->box[a->nbox++] = b;
    return DY_OK;
}

static dy_status crop(const img_rgb *src, int x, int y, int w, int h, img_rgb *dst)
{
    DY_TRY(img_alloc(dst, w, h));
    for (int r = 0; r < h; r++)
        memcpy(dst->px + (size_t)r * w * 3, src->px + ((size_t)(y + r) * src->w + x) * 3, (size_t)w * 3);
    return DY_OK;
}

/* Source image at its stored resolution (decoded JPEG, or the raw letterbox content). */
static dy_status load_pixels(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m,
                             img_rgb *im, const char *what)
{
    if (!raw) return img_decode(payload, len, im, what);
    if (len != (size_t)raw_size * raw_size * 3)
        return DY_ERR(DY_ECORRUPT, "%s: raw payload is %zu bytes, want %d^2*3", what, len, raw_size);
    float sc, px, py;
    int nw, nh;
    img_letterbox_params(m->orig_w, m->orig_h, raw_size, raw_size, 1, &sc, &px, &py, &nw, &nh);
    img_rgb whole = {raw_size, raw_size, (uint8_t *)payload};
    return crop(&whole, (int)px, (int)py, nw, nh, im);
}

dy_status aug_load(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m, int imgsz,
                   aug_img *out, const char *what)
{
    memset(out, 0, sizeof *out);
    img_rgb im = {0};
    DY_TRY(load_pixels(payload, len, raw, raw_size, m, &im, what));
    float r = (float)imgsz / (float)(im.w > im.h ? im.w : im.h);
    if (r != 1.0f) {
        int w = (int)lrintf(im.w * r), h = (int)lrintf(im.h * r);
        dy_status s = img_resize(&im, w < 1 ? 1 : w, h < 1 ? 1 : h, &out->im);
        img_free(&im);
        if (s != DY_OK) return s;
    } else {
        out->im = im;
    }
    out->scale = (float)out->im.w / (float)m->orig_w;
    for (int k = 0; k < m->nbox; k++) {
        const float *b = &m->box[4 * k];
        float W = (float)out->im.w, H = (float)out->im.h;
        aug_box x = {(b[0] - b[2] / 2) * W, (b[1] - b[3] / 2) * H, (b[0] + b[2] / 2) * W, (b[1] + b[3] / 2) * H,
                     m->cls[k], m->flags[k]};
        DY_TRY(add_box(out, x));
    }
    return DY_OK;
}

int aug_plan(rng_stream *r, uint64_t seed, int64_t epoch, int64_t index, int64_t n, const aug_params *p,
             int64_t partners[3])
{
    rng_stream_init(r, seed, AUG_PURPOSE, (uint64_t)epoch, (uint64_t)index);
    if (!(rng_uniform(r) < p->mosaic)) return 1;
    for (int k = 0; k < 3; k++) partners[k] = rng_below(r, (uint32_t)n);
    return 4;
}

/* Slow path for one pixel near or outside the source border: taps outside the
 * image read DY_PAD_VALUE, like cv2.BORDER_CONSTANT. */
static void warp_edge_pixel(const img_rgb *src, int64_t fx, int64_t fy, uint8_t *o)
{
    int64_t sx = fx >> 10, sy = fy >> 10;
    if (sx < -1 || sy < -1 || sx >= src->w || sy >= src->h) {
        o[0] = o[1] = o[2] = DY_PAD_VALUE;
        return;
    }
    int ax = (int)((fx >> 5) & 31), ay = (int)((fy >> 5) & 31);
    for (int c = 0; c < 3; c++) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            int64_t xx = sx + (k & 1), yy = sy + (k >> 1);
            v[k] = xx >= 0 && yy >= 0 && xx < src->w && yy < src->h ? src->px[((size_t)yy * src->w + (size_t)xx) * 3 + c]
                                                                   : DY_PAD_VALUE;
        }
        int t = v[0] * (32 - ax) + v[1] * ax, b = v[2] * (32 - ax) + v[3] * ax;
        o[c] = (uint8_t)((t * (32 - ay) + b * ay + 512) >> 10);
    }
}

/* Output x range [*lo, *hi) of a row whose samples are all strictly inside the
 * source (both bilinear taps valid): solved in doubles, then shrunk by 2 px so
 * rounding can never step outside. */
static void warp_interior(int64_t fx, int64_t fy, int64_t dx, int64_t dy, int sw, int sh, int w, int *lo, int *hi)
{
    double a = 0, b = w;
    const int64_t f0[2] = {fx, fy}, d[2] = {dx, dy}, lim[2] = {(int64_t)(sw - 1) << 10, (int64_t)(sh - 1) << 10};
    for (int k = 0; k < 2; k++) { /* need 0 <= f0 + x*d < lim */
        if (d[k] == 0) {
            if (f0[k] < 0 || f0[k] >= lim[k]) a = b;
            continue;
        }
        double x1 = (double)(0 - f0[k]) / (double)d[k], x2 = (double)(lim[k] - f0[k]) / (double)d[k];
        if (x1 > x2) {
            double t = x1;
            x1 = x2, x2 = t;
        }
        a = a > x1 ? a : x1, b = b < x2 ? b : x2;
    }
    int l = (int)ceil(a) + 2, h = (int)floor(b) - 2;
    if (l < 0) l = 0;
    if (h > w) h = w;
    if (h < l) l = h = 0;
    *lo = l, *hi = h;
}

/* Bilinear inverse warp with 5-bit weights (as OpenCV's INTER_LINEAR) in 1/1024
 * fixed point along each row; pixels that map outside the source get DY_PAD_VALUE.
 * Each row has a branch-free interior span and checked edges. */
dy_status aug_warp_affine(const img_rgb *src, const double M[6], int w, int h, img_rgb *dst)
{
    double det = M[0] * M[4] - M[1] * M[3];
    if (fabs(det) < 1e-12) return DY_ERR(DY_EINVAL, "singular affine transform");
    double ia = M[4] / det, ib = -M[1] / det, id = -M[3] / det, ie = M[0] / det;
    double ic = -(ia * M[2] + ib * M[5]), iff = -(id * M[2] + ie * M[5]);
    DY_TRY(img_alloc(dst, w, h));
    const int SW = src->w;
    const uint8_t *S = src->px;
    const int64_t dx = llrint(ia * 1024.0), dy = llrint(id * 1024.0);
    for (int y = 0; y < h; y++) {
        const int64_t fx0 = llrint((ib * y + ic) * 1024.0), fy0 = llrint((ie * y + iff) * 1024.0);
        uint8_t *o = dst->px + (size_t)y * w * 3;
        int lo, hi;
        warp_interior(fx0, fy0, dx, dy, src->w, src->h, w, &lo, &hi);
        for (int x = 0; x < lo; x++) warp_edge_pixel(src, fx0 + x * dx, fy0 + x * dy, o + 3 * x);
        int64_t fx = fx0 + lo * dx, fy = fy0 + lo * dy;
        for (int x = lo; x < hi; x++, fx += dx, fy += dy) {
            int sx = (int)(fx >> 10), sy = (int)(fy >> 10);
            int ax = (int)((fx >> 5) & 31), ay = (int)((fy >> 5) & 31);
            const uint8_t *p0 = S + ((size_t)sy * SW + (size_t)sx) * 3, *p1 = p0 + (size_t)SW * 3;
            int w00 = (32 - ax) * (32 - ay), w01 = ax * (32 - ay), w10 = (32 - ax) * ay, w11 = ax * ay;
            uint8_t *q = o + 3 * x;
            q[0] = (uint8_t)((p0[0] * w00 + p0[3] * w01 + p1[0] * w10 + p1[3] * w11 + 512) >> 10);
            q[1] = (uint8_t)((p0[1] * w00 + p0[4] * w01 + p1[1] * w10 + p1[4] * w11 + 512) >> 10);
            q[2] = (uint8_t)((p0[2] * w00 + p0[5] * w01 + p1[2] * w10 + p1[5] * w11 + 512) >> 10);
        }
        for (int x = hi > lo ? hi : lo; x < w; x++) warp_edge_pixel(src, fx0 + x * dx, fy0 + x * dy, o + 3 * x);
    }
    return DY_OK;
}

/* Horizontal bilinear pass of source row `r` over output columns [lo, hi). */
static void hpass(const img_rgb *src, int r, const int *xo, const uint8_t *ax, int lo, int hi, uint16_t *out)
{
    const uint8_t *row = src->px + (size_t)r * src->w * 3;
    for (int x = lo; x < hi; x++) {
        const uint8_t *p = row + xo[x];
        int a = ax[x], b = 32 - a;
        out[3 * x] = (uint16_t)(p[0] * b + p[3] * a);
        out[3 * x + 1] = (uint16_t)(p[1] * b + p[4] * a);
        out[3 * x + 2] = (uint16_t)(p[2] * b + p[5] * a);
    }
}

/* Scale + translate only (M[1] == M[3] == 0, YOLOv5's default hyp): separable
 * bilinear with the same 5-bit weights as aug_warp_affine; each source row's
 * horizontal pass is computed once and reused by the output rows that need it. */
dy_status aug_warp_scale(const img_rgb *src, const double M[6], int w, int h, img_rgb *dst)
{
    if (M[0] == 0 || M[4] == 0) return DY_ERR(DY_EINVAL, "singular scale transform");
    DY_TRY(img_alloc(dst, w, h));
    int *xo = malloc(sizeof(int) * (size_t)w);
    uint8_t *ax = malloc((size_t)w);
    int64_t *fxs = malloc(sizeof(int64_t) * (size_t)w);
    uint16_t *hb[2] = {malloc(sizeof(uint16_t) * 3 * (size_t)w), malloc(sizeof(uint16_t) * 3 * (size_t)w)};
    if (!xo || !ax || !fxs || !hb[0] || !hb[1]) {
        free(xo), free(ax), free(fxs), free(hb[0]), free(hb[1]);
        img_free(dst);
        return DY_ERR(DY_ENOMEM, "out of memory warping");
    }
    int lo = w, hi = 0; /* interior columns: both taps inside the source */
    for (int x = 0; x < w; x++) {
        fxs[x] = llrint((x - M[2]) / M[0] * 1024.0);
        int64_t sx = fxs[x] >> 10;
        int in = sx >= 0 && sx < src->w - 1;
        xo[x] = in ? (int)sx * 3 : 0;
        ax[x] = (uint8_t)((fxs[x] >> 5) & 31);
        if (in && x < lo) lo = x;
        if (in) hi = x + 1;
    }
    int cached[2] = {-1, -1};
    for (int y = 0; y < h; y++) {
        int64_t fy = llrint((y - M[5]) / M[4] * 1024.0), sy = fy >> 10;
        uint8_t *o = dst->px + (size_t)y * w * 3;
        int yin = sy >= 0 && sy < src->h - 1;
        for (int x = 0; x < w; x++) /* edges (and whole rows near the border): checked path */
            if (!yin || x < lo || x >= hi || fxs[x] >> 10 < 0 || fxs[x] >> 10 >= src->w - 1) {
                warp_edge_pixel(src, fxs[x], fy, o + 3 * x);
                if (yin && x == lo - 1 && hi > lo) x = hi - 1; /* skip the interior */
            }
        if (!yin || hi <= lo) continue;
        int r0 = (int)sy;
        if (cached[0] != r0) {
            if (cached[1] == r0) { /* slide the window down one row */
                uint16_t *t = hb[0];
                hb[0] = hb[1], hb[1] = t, cached[0] = r0, cached[1] = -1;
            } else {
                hpass(src, r0, xo, ax, lo, hi, hb[0]);
                cached[0] = r0;
            }
        }
        if (cached[1] != r0 + 1) {
            hpass(src, r0 + 1, xo, ax, lo, hi, hb[1]);
            cached[1] = r0 + 1;
        }
        int ay = (int)((fy >> 5) & 31), by = 32 - ay;
        const uint16_t *h0 = hb[0], *h1 = hb[1];
        for (int i = 3 * lo; i < 3 * hi; i++) o[i] = (uint8_t)((h0[i] * by + h1[i] * ay + 512) >> 10);
    }
    free(xo), free(ax), free(fxs), free(hb[0]), free(hb[1]);
    return DY_OK;
}

/* Perspective warp (only when hyp perspective > 0): per-pixel division. */
static dy_status warp_perspective(const img_rgb *src, const double M[9], int w, int h, img_rgb *dst)
{
    double a = M[0], b = M[1], c = M[2], d = M[3], e = M[4], f = M[5], g = M[6], hh = M[7], i = M[8];
    double inv[9] = {e * i - f * hh, c * hh - b * i, b * f - c * e, f * g - d * i, a * i - c * g,
                     c * d - a * f, d * hh - e * g, b * g - a * hh, a * e - b * d};
    DY_TRY(img_alloc(dst, w, h));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double zw = inv[6] * x + inv[7] * y + inv[8];
            double sx = (inv[0] * x + inv[1] * y + inv[2]) / zw, sy = (inv[3] * x + inv[4] * y + inv[5]) / zw;
            int ix = (int)floor(sx), iy = (int)floor(sy);
            uint8_t *o = dst->px + ((size_t)y * w + x) * 3;
            if (ix < 0 || iy < 0 || ix >= src->w - 1 || iy >= src->h - 1) {
                o[0] = o[1] = o[2] = DY_PAD_VALUE;
                continue;
            }
            double ax = sx - ix, ay = sy - iy;
            const uint8_t *p0 = src->px + ((size_t)iy * src->w + ix) * 3, *p1 = p0 + (size_t)src->w * 3;
            for (int k = 0; k < 3; k++)
                o[k] = (uint8_t)lrint((p0[k] * (1 - ax) + p0[k + 3] * ax) * (1 - ay) + (p1[k] * (1 - ax) + p1[k + 3] * ax) * ay);
        }
    return DY_OK;
}

/* RGB <-> OpenCV 8-bit HSV (H in 0..179) with LUT gains on H, S, V, all in integer
 * arithmetic: forward with OpenCV's reciprocal tables (12-bit fixed point), back
 * through the hue sector.  This runs once per training image at full resolution, so
 * it is written for speed (about 4x the float version). */
static int hsv_tables_ready;
static int32_t sdiv_tab[256], hdiv_tab[256];

static void hsv_tables(void)
{
    if (__atomic_load_n(&hsv_tables_ready, __ATOMIC_ACQUIRE)) return;
    for (int i = 1; i < 256; i++) {
        sdiv_tab[i] = (int32_t)((255.0 * 4096.0) / i + 0.5);
        hdiv_tab[i] = (int32_t)((180.0 * 4096.0) / (6.0 * i) + 0.5);
    }
    __atomic_store_n(&hsv_tables_ready, 1, __ATOMIC_RELEASE);
}

static inline void hsv_pixel(uint8_t *p, const uint8_t *lh, const uint8_t *ls, const uint8_t *lv)
{
    int r = p[0], g = p[1], b = p[2];
    int v = r > g ? r : g;
    v = v > b ? v : b;
    int mn = r < g ? r : g;
    mn = mn < b ? mn : b;
    int diff = v - mn;
    if (diff == 0) { /* grey: hue and saturation have no effect */
        p[0] = p[1] = p[2] = lv[v];
        return;
    }
    int s = (diff * sdiv_tab[v] + 2048) >> 12;
    int hr = g - b, hg = b - r + 2 * diff, hb = r - g + 4 * diff;
    int hn = v == r ? hr : (v == g ? hg : hb);
    int h = (hn * hdiv_tab[diff] + 2048) >> 12;
    if (h < 0) h += 180;
    if (h >= 180) h -= 180;
    h = lh[h], s = ls[s], v = lv[v];
    /* back to RGB without a branch: each sector picks (v, q, t, p) per channel */
    static const uint8_t pick[6][3] = {{0, 2, 3}, {1, 0, 3}, {3, 0, 2}, {3, 1, 0}, {2, 3, 0}, {0, 3, 1}};
    int sec = (h * 2185) >> 16, f = h - sec * 30; /* h / 30 for h < 180 */
    int val[4];
    val[0] = v;
    val[1] = (v * (7650 - s * f) + 3825) / 7650;
    val[2] = (v * (7650 - s * (30 - f)) + 3825) / 7650;
    val[3] = (v * (255 - s) + 127) / 255;
    p[0] = (uint8_t)val[pick[sec][0]], p[1] = (uint8_t)val[pick[sec][1]], p[2] = (uint8_t)val[pick[sec][2]];
}

void aug_hsv(img_rgb *im, float rh, float rs, float rv)
{
    uint8_t lh[256], ls[256], lv[256];
    hsv_tables();
    for (int x = 0; x < 256; x++) {
        lh[x] = (uint8_t)(((int)(x * rh) % 180 + 180) % 180);
        float s = x * rs, v = x * rv;
        ls[x] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
        lv[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    size_t n = (size_t)im->w * im->h;
    for (size_t i = 0; i < n; i++) hsv_pixel(im->px + 3 * i, lh, ls, lv);
}

void aug_flip_lr(aug_img *a)
{
    int w = a->im.w;
    for (int y = 0; y < a->im.h; y++) {
        uint8_t *row = a->im.px + (size_t)y * w * 3;
        for (int x = 0; x < w / 2; x++)
            for (int c = 0; c < 3; c++) {
                uint8_t t = row[x * 3 + c];
                row[x * 3 + c] = row[(w - 1 - x) * 3 + c];
                row[(w - 1 - x) * 3 + c] = t;
            }
    }
    for (int k = 0; k < a->nbox; k++) {
        float x0 = a->box[k].x0;
        a->box[k].x0 = w - a->box[k].x1, a->box[k].x1 = w - x0;
    }
}

void aug_flip_ud(aug_img *a)
{
    int h = a->im.h;
    size_t rs = (size_t)a->im.w * 3;
    uint8_t *tmp = malloc(rs);
    if (!tmp) return;
    for (int y = 0; y < h / 2; y++) {
        memcpy(tmp, a->im.px + y * rs, rs);
        memcpy(a->im.px + y * rs, a->im.px + (size_t)(h - 1 - y) * rs, rs);
        memcpy(a->im.px + (size_t)(h - 1 - y) * rs, tmp, rs);
    }
    free(tmp);
    for (int k = 0; k < a->nbox; k++) {
        float y0 = a->box[k].y0;
        a->box[k].y0 = h - a->box[k].y1, a->box[k].y1 = h - y0;
    }
}

/* 3x3 row-major product a*b. */
static void mat3(const double *a, const double *b, double *o)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) o[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

/* YOLOv5 random_perspective, part 1: draw the transform.  The output is
 * (in.w + 2*border) x (in.h + 2*border); *s is the random scale. */
static void perspective_matrix(const aug_img *in, rng_stream *r, const aug_params *p, int border, double M[9],
                               double *s, int *W, int *H)
{
    *W = in->im.w + 2 * border, *H = in->im.h + 2 * border;
    double C[9] = {1, 0, -in->im.w / 2.0, 0, 1, -in->im.h / 2.0, 0, 0, 1}, P[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    P[6] = rng_uniform_range(r, -p->perspective, p->perspective);
    P[7] = rng_uniform_range(r, -p->perspective, p->perspective);
    double a = rng_uniform_range(r, -p->degrees, p->degrees) * DEG;
    *s = rng_uniform_range(r, 1 - p->scale, 1 + p->scale);
    double R[9] = {*s * cos(a), *s * sin(a), 0, -*s * sin(a), *s * cos(a), 0, 0, 0, 1};
    double S[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, T[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    S[1] = tan(rng_uniform_range(r, -p->shear, p->shear) * DEG);
    S[3] = tan(rng_uniform_range(r, -p->shear, p->shear) * DEG);
    T[2] = rng_uniform_range(r, 0.5f - p->translate, 0.5f + p->translate) * *W;
    T[5] = rng_uniform_range(r, 0.5f - p->translate, 0.5f + p->translate) * *H;
    double t1[9], t2[9], t3[9];
    mat3(P, C, t1), mat3(R, t1, t2), mat3(S, t2, t3), mat3(T, t3, M);
}

/* Part 2: warp the pixels (with the flips folded into the matrix, which is exact:
 * a flip is one more affine map) and transform, clip and filter the boxes. */
static dy_status apply_perspective(aug_img *in, const double M[9], double s, int W, int H, int flr, int fud,
                                   aug_img *out)
{
    double F[9] = {flr ? -1 : 1, 0, flr ? W - 1 : 0, 0, fud ? -1 : 1, fud ? H - 1 : 0, 0, 0, 1}, MF[9];
    mat3(F, M, MF);
    memset(out, 0, sizeof *out);
    dy_status st;
    if (M[6] != 0 || M[7] != 0) st = warp_perspective(&in->im, MF, W, H, &out->im);
    else if (MF[1] == 0 && MF[3] == 0) st = aug_warp_scale(&in->im, MF, W, H, &out->im);
    else st = aug_warp_affine(&in->im, MF, W, H, &out->im);
    if (st != DY_OK) return st;
    for (int k = 0; k < in->nbox; k++) {
        const aug_box *b = &in->box[k];
        double xs[4] = {b->x0, b->x1, b->x1, b->x0}, ys[4] = {b->y0, b->y0, b->y1, b->y1};
        double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
        for (int c = 0; c < 4; c++) {
            double z = M[6] * xs[c] + M[7] * ys[c] + M[8];
            double x = (M[0] * xs[c] + M[1] * ys[c] + M[2]) / z, y = (M[3] * xs[c] + M[4] * ys[c] + M[5]) / z;
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
        x0 = fmin(fmax(x0, 0), W), x1 = fmin(fmax(x1, 0), W), y0 = fmin(fmax(y0, 0), H), y1 = fmin(fmax(y1, 0), H);
        /* box_candidates: > 2 px, kept area > 10 % of the scaled original, aspect < 100 */
        double w1 = (b->x1 - b->x0) * s, h1 = (b->y1 - b->y0) * s, w2 = x1 - x0, h2 = y1 - y0;
        double ar = fmax(w2 / (h2 + 1e-16), h2 / (w2 + 1e-16));
        if (!(w2 > 2 && h2 > 2 && w2 * h2 / (w1 * h1 + 1e-16) > 0.1 && ar < 100)) continue;
        if (flr) {
            double t = x0;
            x0 = W - x1, x1 = W - t;
        }
        if (fud) {
            double t = y0;
            y0 = H - y1, y1 = H - t;
        }
        DY_TRY(add_box(out, (aug_box){(float)x0, (float)y0, (float)x1, (float)y1, b->cls, b->flags}));
    }
    return DY_OK;
}

/* One quadrant of YOLOv5's load_mosaic. */
static dy_status place(aug_img *m, const aug_img *src, int i, int xc, int yc, int s)
{
    int w = src->im.w, h = src->im.h, x1a, y1a, x2a, y2a, x1b, y1b, x2b, y2b;
    if (i == 0) {
        x1a = xc - w > 0 ? xc - w : 0, y1a = yc - h > 0 ? yc - h : 0, x2a = xc, y2a = yc;
        x1b = w - (x2a - x1a), y1b = h - (y2a - y1a), x2b = w, y2b = h;
    } else if (i == 1) {
        x1a = xc, y1a = yc - h > 0 ? yc - h : 0, x2a = xc + w < 2 * s ? xc + w : 2 * s, y2a = yc;
        x1b = 0, y1b = h - (y2a - y1a), x2b = w < x2a - x1a ? w : x2a - x1a, y2b = h;
    } else if (i == 2) {
        x1a = xc - w > 0 ? xc - w : 0, y1a = yc, x2a = xc, y2a = yc + h < 2 * s ? yc + h : 2 * s;
        x1b = w - (x2a - x1a), y1b = 0, x2b = w, y2b = h < y2a - y1a ? h : y2a - y1a;
    } else {
        x1a = xc, y1a = yc, x2a = xc + w < 2 * s ? xc + w : 2 * s, y2a = yc + h < 2 * s ? yc + h : 2 * s;
        x1b = 0, y1b = 0, x2b = w < x2a - x1a ? w : x2a - x1a, y2b = h < y2a - y1a ? h : y2a - y1a;
    }
    int cw = x2b - x1b, ch = y2b - y1b;
    for (int y = 0; y < ch && cw > 0; y++)
        memcpy(m->im.px + ((size_t)(y1a + y) * m->im.w + x1a) * 3, src->im.px + ((size_t)(y1b + y) * w + x1b) * 3,
               (size_t)cw * 3);
    float padw = (float)(x1a - x1b), padh = (float)(y1a - y1b), lim = 2.0f * s;
    for (int k = 0; k < src->nbox; k++) {
        aug_box b = src->box[k];
        b.x0 = fminf(fmaxf(b.x0 + padw, 0), lim), b.x1 = fminf(fmaxf(b.x1 + padw, 0), lim);
        b.y0 = fminf(fmaxf(b.y0 + padh, 0), lim), b.y1 = fminf(fmaxf(b.y1 + padh, 0), lim);
        DY_TRY(add_box(m, b));
    }
    return DY_OK;
}

static dy_status mosaic(aug_img *src, rng_stream *r, int s, aug_img *m)
{
    memset(m, 0, sizeof *m);
    int xc = (int)rng_uniform_range(r, s / 2.0f, 1.5f * s), yc = (int)rng_uniform_range(r, s / 2.0f, 1.5f * s);
    DY_TRY(img_alloc(&m->im, 2 * s, 2 * s));
    memset(m->im.px, DY_PAD_VALUE, (size_t)4 * s * s * 3);
    for (int i = 0; i < 4; i++) DY_TRY(place(m, &src[i], i, xc, yc, s));
    return DY_OK;
}

dy_status aug_val(const aug_img *src, int w, int h, aug_img *out)
{
    memset(out, 0, sizeof *out);
    float sc, px, py;
    DY_TRY(img_letterbox(&src->im, w, h, 0, &out->im, &sc, &px, &py));
    out->scale = src->scale * sc, out->pad_x = px, out->pad_y = py;
    for (int k = 0; k < src->nbox; k++) {
        aug_box b = src->box[k];
        b.x0 = b.x0 * sc + px, b.x1 = b.x1 * sc + px, b.y0 = b.y0 * sc + py, b.y1 = b.y1 * sc + py;
        DY_TRY(add_box(out, b));
    }
    return DY_OK;
}

dy_status aug_train(aug_img *src, int nsrc, rng_stream *r, const aug_params *p, int s, aug_img *out)
{
    aug_img base;
    dy_status st;
    int border;
    if (nsrc == 4) {
        st = mosaic(src, r, s, &base);
        border = -s / 2;
    } else {
        st = aug_val(&src[0], s, s, &base);
        border = 0;
    }
    /* Draw order: affine, HSV gains, flipud, fliplr (YOLOv5's); the flips are then
     * folded into the warp and HSV, a per-pixel map, is applied last. */
    double M[9], sc = 1;
    int W = 0, H = 0, fud = 0, flr = 0;
    float gh = 1, gs = 1, gv = 1;
    if (st == DY_OK) {
        perspective_matrix(&base, r, p, border, M, &sc, &W, &H);
        gh = rng_uniform_range(r, -1, 1) * p->hsv_h + 1, gs = rng_uniform_range(r, -1, 1) * p->hsv_s + 1;
        gv = rng_uniform_range(r, -1, 1) * p->hsv_v + 1;
        fud = rng_uniform(r) < p->flipud;
        flr = rng_uniform(r) < p->fliplr;
        st = apply_perspective(&base, M, sc, W, H, flr, fud, out);
    }
    out->scale = base.scale, out->pad_x = base.pad_x, out->pad_y = base.pad_y;
    aug_img_free(&base);
    if (st != DY_OK) return st;
    if (p->hsv_h || p->hsv_s || p->hsv_v) aug_hsv(&out->im, gh, gs, gv);
    return DY_OK;
}
