/* augment.c -- YOLOv5 augmentation on interleaved RGB images (see augment.h). */
#include "data/augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define DY_AUG_X86 1 /* AVX2 kernels, chosen at run time */
#include <immintrin.h>
#else
#define DY_AUG_X86 0
#endif

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

/* Source image at its stored resolution (decoded JPEG, or the raw letterbox content).
 * With a mosaic view, a JPEG stored at the network size (no resize follows) is
 * decoded only where quadrant `quad` of the mosaic will read it. */
static dy_status load_pixels(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m,
                             const aug_mosaic_view *v, int quad, int imgsz, img_rgb *im, const char *what)
{
    int w = m->orig_w, h = m->orig_h, rect[4]; /* the shard's record of the image size */
    if (!raw && v && (w > h ? w : h) == imgsz) {
        aug_mosaic_need(v, quad, w, h, rect);
        return img_decode_region(payload, len, w, h, rect, im, what);
    }
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
    return aug_load_part(payload, len, raw, raw_size, m, imgsz, NULL, 0, out, what);
}

/* Loaded image to long side imgsz as YOLOv5's load_image: ceil(w0 * r) x ceil(h0 * r)
 * in doubles (so its float quirks too: 615 px at r = 320/615 gives 321), bilinear,
 * or area when a validation image shrinks (`area`). */
static dy_status load_sized(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m,
                            int imgsz, const aug_mosaic_view *v, int quad, int area, aug_img *out, const char *what)
{
    memset(out, 0, sizeof *out);
    img_rgb im = {0};
    DY_TRY(load_pixels(payload, len, raw, raw_size, m, v, quad, imgsz, &im, what));
    double r = (double)imgsz / (double)(im.w > im.h ? im.w : im.h);
    if (r != 1.0) {
        int w = (int)ceil(im.w * r), h = (int)ceil(im.h * r);
        dy_status s = area && r < 1.0 ? img_resize_area(&im, w, h, &out->im) : img_resize(&im, w, h, &out->im);
        img_free(&im);
        if (s != DY_OK) return s;
    } else {
        out->im = im;
    }
    out->scale = (float)out->im.w / (float)m->orig_w, out->scale_y = (float)out->im.h / (float)m->orig_h;
    for (int k = 0; k < m->nbox; k++) {
        const float *b = &m->box[4 * k];
        float W = (float)out->im.w, H = (float)out->im.h;
        aug_box x = {(b[0] - b[2] / 2) * W, (b[1] - b[3] / 2) * H, (b[0] + b[2] / 2) * W, (b[1] + b[3] / 2) * H,
                     m->cls[k], m->flags[k]};
        DY_TRY(add_box(out, x));
    }
    return DY_OK;
}

dy_status aug_load_part(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m, int imgsz,
                        const aug_mosaic_view *v, int quad, aug_img *out, const char *what)
{
    return load_sized(payload, len, raw, raw_size, m, imgsz, v, quad, 0, out, what);
}

dy_status aug_load_val(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m, int imgsz,
                       aug_img *out, const char *what)
{
    return load_sized(payload, len, raw, raw_size, m, imgsz, NULL, 0, 1, out, what);
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
 * Each row has a branch-free interior span and checked edges.  `src` may be a window
 * of a larger image whose pixel (0, 0) sits at (ox, oy) of the image M refers to:
 * the fixed-point coordinates are computed for the whole image and then shifted, so
 * the result is the same bytes as warping the whole image (when the window holds
 * every tap that falls inside it). */
static dy_status warp_affine_at(const img_rgb *src, int ox, int oy, const double M[6], int w, int h, img_rgb *dst)
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
        const int64_t fx0 = llrint((ib * y + ic) * 1024.0) - ((int64_t)ox << 10);
        const int64_t fy0 = llrint((ie * y + iff) * 1024.0) - ((int64_t)oy << 10);
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

dy_status aug_warp_affine(const img_rgb *src, const double M[6], int w, int h, img_rgb *dst)
{
    return warp_affine_at(src, 0, 0, M, w, h, dst);
}

/* Horizontal bilinear pass of source row `r` over output columns [lo, hi). */
static void hpass_ref(const img_rgb *src, int r, const int *xo, const uint8_t *ax, int lo, int hi, uint16_t *out)
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

#if DY_AUG_X86
/* hpass_ref, 4 columns a step: one 8-byte gather per column holds both taps, which
 * a byte shuffle pairs up for an unsigned x signed multiply-add with (32 - a, a).
 * Each step stores 4 bytes past its 12 values (overwritten by the next step), so
 * `out` needs 3 * hi + 2 values.  The gather reads 2 bytes past the right tap: on
 * the image's last row, columns that would leave the buffer take the scalar path. */
__attribute__((target("avx2"))) static void hpass_avx2(const img_rgb *src, int r, const int *xo, const uint8_t *ax,
                                                       int lo, int hi, uint16_t *out)
{
    const uint8_t *row = src->px + (size_t)r * src->w * 3;
    const int last = r == src->h - 1, lim = src->w * 3 - 8;
    const __m256i pair = _mm256_setr_epi8(0, 3, 1, 4, 2, 5, 8, 11, 9, 12, 10, 13, -1, -1, -1, -1, 0, 3, 1, 4, 2, 5, 8,
                                          11, 9, 12, 10, 13, -1, -1, -1, -1);
    const __m256i wsel = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, -1, -1, -1, -1, 4, 5, 4, 5, 4, 5, 6, 7,
                                          6, 7, 6, 7, -1, -1, -1, -1);
    int x = lo;
    for (; x + 4 <= hi; x += 4) {
        if (last && (xo[x] > lim || xo[x + 3] > lim)) { /* xo is monotone: the ends bound the group */
            hpass_ref(src, r, xo, ax, x, x + 4, out);
            continue;
        }
        int32_t a4;
        memcpy(&a4, ax + x, 4);
        __m128i a = _mm_cvtsi32_si128(a4), b = _mm_sub_epi8(_mm_set1_epi8(32), a);
        __m256i wt = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_unpacklo_epi8(b, a)), wsel);
        __m256i px = _mm256_i32gather_epi64((const long long *)row, _mm_loadu_si128((const __m128i *)(xo + x)), 1);
        __m256i v = _mm256_maddubs_epi16(_mm256_shuffle_epi8(px, pair), wt);
        _mm_storeu_si128((__m128i *)(out + 3 * x), _mm256_castsi256_si128(v));
        _mm_storeu_si128((__m128i *)(out + 3 * x + 6), _mm256_extracti128_si256(v, 1));
    }
    hpass_ref(src, r, xo, ax, x, hi, out);
}
#endif

static void hpass(const img_rgb *src, int r, const int *xo, const uint8_t *ax, int lo, int hi, uint16_t *out)
{
#if DY_AUG_X86
    if (__builtin_cpu_supports("avx2")) {
        hpass_avx2(src, r, xo, ax, lo, hi, out);
        return;
    }
#endif
    hpass_ref(src, r, xo, ax, lo, hi, out);
}

/* Vertical bilinear pass: o[i] = (h0[i] * (32 - ay) + h1[i] * ay + 512) >> 10. */
static void vpass_ref(const uint16_t *h0, const uint16_t *h1, int ay, int n, uint8_t *o)
{
    int by = 32 - ay;
    for (int i = 0; i < n; i++) o[i] = (uint8_t)((h0[i] * by + h1[i] * ay + 512) >> 10);
}

#if DY_AUG_X86
/* vpass_ref, 16 values a step: the (h0, h1) pairs through one multiply-add. */
__attribute__((target("avx2"))) static void vpass_avx2(const uint16_t *h0, const uint16_t *h1, int ay, int n,
                                                       uint8_t *o)
{
    const __m256i wt = _mm256_set1_epi32((int)((uint32_t)ay << 16 | (uint32_t)(32 - ay))), rnd = _mm256_set1_epi32(512);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(h0 + i)), b = _mm256_loadu_si256((const __m256i *)(h1 + i));
        __m256i lo = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wt), rnd), 10);
        __m256i hi = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wt), rnd), 10);
        __m256i r16 = _mm256_packs_epi32(lo, hi); /* in order within each 128-bit lane */
        __m128i r8 = _mm_packus_epi16(_mm256_castsi256_si128(r16), _mm256_extracti128_si256(r16, 1));
        _mm_storeu_si128((__m128i *)(o + i), r8);
    }
    vpass_ref(h0 + i, h1 + i, ay, n - i, o + i);
}
#endif

static void vpass(const uint16_t *h0, const uint16_t *h1, int ay, int n, uint8_t *o)
{
#if DY_AUG_X86
    if (__builtin_cpu_supports("avx2")) {
        vpass_avx2(h0, h1, ay, n, o);
        return;
    }
#endif
    vpass_ref(h0, h1, ay, n, o);
}

/* Scale + translate only (M[1] == M[3] == 0, YOLOv5's default hyp): separable
 * bilinear with the same 5-bit weights as aug_warp_affine; each source row's
 * horizontal pass is computed once and reused by the output rows that need it. */
static dy_status warp_scale_at(const img_rgb *src, int ox, int oy, const double M[6], int w, int h, img_rgb *dst)
{
    if (M[0] == 0 || M[4] == 0) return DY_ERR(DY_EINVAL, "singular scale transform");
    DY_TRY(img_alloc(dst, w, h));
    int *xo = malloc(sizeof(int) * (size_t)w);
    uint8_t *ax = malloc((size_t)w);
    int64_t *fxs = malloc(sizeof(int64_t) * (size_t)w);
    uint16_t *hb[2] = {malloc(sizeof(uint16_t) * (3 * (size_t)w + 8)), malloc(sizeof(uint16_t) * (3 * (size_t)w + 8))};
    if (!xo || !ax || !fxs || !hb[0] || !hb[1]) {
        free(xo), free(ax), free(fxs), free(hb[0]), free(hb[1]);
        img_free(dst);
        return DY_ERR(DY_ENOMEM, "out of memory warping");
    }
    int lo = w, hi = 0; /* interior columns: both taps inside the source */
    for (int x = 0; x < w; x++) {
        fxs[x] = llrint((x - M[2]) / M[0] * 1024.0) - ((int64_t)ox << 10);
        int64_t sx = fxs[x] >> 10;
        int in = sx >= 0 && sx < src->w - 1;
        xo[x] = in ? (int)sx * 3 : 0;
        ax[x] = (uint8_t)((fxs[x] >> 5) & 31);
        if (in && x < lo) lo = x;
        if (in) hi = x + 1;
    }
    int cached[2] = {-1, -1};
    for (int y = 0; y < h; y++) {
        int64_t fy = llrint((y - M[5]) / M[4] * 1024.0) - ((int64_t)oy << 10), sy = fy >> 10;
        uint8_t *o = dst->px + (size_t)y * w * 3;
        int yin = sy >= 0 && sy < src->h - 1;
        if (sy < -1 || sy >= src->h) { /* both taps outside: all pad, as warp_edge_pixel gives */
            memset(o, DY_PAD_VALUE, (size_t)w * 3);
            continue;
        }
        /* edges (and whole rows near the border): checked path; the mapping is
         * monotone, so the columns in [lo, hi) are all interior */
        int elo = yin && hi > lo ? lo : w, ehi = yin && hi > lo ? hi : w;
        for (int x = 0; x < elo; x++) warp_edge_pixel(src, fxs[x], fy, o + 3 * x);
        for (int x = ehi; x < w; x++) warp_edge_pixel(src, fxs[x], fy, o + 3 * x);
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
        vpass(hb[0] + 3 * lo, hb[1] + 3 * lo, (int)((fy >> 5) & 31), 3 * (hi - lo), o + 3 * lo);
    }
    free(xo), free(ax), free(fxs), free(hb[0]), free(hb[1]);
    return DY_OK;
}

dy_status aug_warp_scale(const img_rgb *src, const double M[6], int w, int h, img_rgb *dst)
{
    return warp_scale_at(src, 0, 0, M, w, h, dst);
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

#if DY_AUG_X86
/* aug_to_chw, 8 pixels a step with the byte shuffle of aug_hsv.c's hsv_8px.  The
 * second load reads 4 bytes past a step's 24, so the loop stops 2 pixels early (i + 10
 * <= n) and the scalar tail does the rest: reads and writes stay inside n pixels (tested at odd sizes). */
__attribute__((target("avx2"))) static size_t chw_avx2(const uint8_t *p, size_t n, uint8_t *dst)
{
    const __m128i split = _mm_setr_epi8(0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, -1, -1, -1, -1);
    size_t i = 0;
    for (; i + 10 <= n; i += 8) {
        __m128i lo = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 3 * i)), split);
        __m128i hi = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 3 * i + 12)), split);
        __m128i rg = _mm_unpacklo_epi32(lo, hi), bb = _mm_unpackhi_epi32(lo, hi);
        _mm_storel_epi64((__m128i *)(dst + i), rg);
        _mm_storel_epi64((__m128i *)(dst + n + i), _mm_srli_si128(rg, 8));
        _mm_storel_epi64((__m128i *)(dst + 2 * n + i), bb);
    }
    return i;
}
#endif

void aug_to_chw(const img_rgb *im, uint8_t *dst)
{
    const uint8_t *p = im->px;
    size_t n = (size_t)im->w * im->h, i = 0;
#if DY_AUG_X86
    if (__builtin_cpu_supports("avx2")) i = chw_avx2(p, n, dst);
#endif
    for (; i < n; i++) dst[i] = p[3 * i], dst[n + i] = p[3 * i + 1], dst[2 * n + i] = p[3 * i + 2];
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
/* The output is W x H: a mosaic's 2s canvas less YOLOv5's border of s/2 each side,
 * which is s exactly only for even s, so the caller passes the size it wants. */
static void perspective_matrix(int iw, int ih, rng_stream *r, const aug_params *p, int W, int H, double M[9],
                               double *s)
{
    double C[9] = {1, 0, -iw / 2.0, 0, 1, -ih / 2.0, 0, 0, 1}, P[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    P[6] = rng_uniform_range(r, -p->perspective, p->perspective);
    P[7] = rng_uniform_range(r, -p->perspective, p->perspective);
    double a = rng_uniform_range(r, -p->degrees, p->degrees) * DEG;
    *s = rng_uniform_range(r, 1 - p->scale, 1 + p->scale);
    double R[9] = {*s * cos(a), *s * sin(a), 0, -*s * sin(a), *s * cos(a), 0, 0, 0, 1};
    double S[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, T[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    S[1] = tan(rng_uniform_range(r, -p->shear, p->shear) * DEG);
    S[3] = tan(rng_uniform_range(r, -p->shear, p->shear) * DEG);
    T[2] = rng_uniform_range(r, 0.5f - p->translate, 0.5f + p->translate) * W;
    T[5] = rng_uniform_range(r, 0.5f - p->translate, 0.5f + p->translate) * H;
    double t1[9], t2[9], t3[9];
    mat3(P, C, t1), mat3(R, t1, t2), mat3(S, t2, t3), mat3(T, t3, M);
}

/* The warp matrix with the flips folded in (exact: a flip is one more affine map). */
static void flip_matrix(const double M[9], int W, int H, int flr, int fud, double MF[9])
{
    double F[9] = {flr ? -1 : 1, 0, flr ? W - 1 : 0, 0, fud ? -1 : 1, fud ? H - 1 : 0, 0, 0, 1};
    mat3(F, M, MF);
}

/* Part 2: warp the pixels `im` (a window of the input whose (0, 0) is the input's
 * (ox, oy); the whole input for a perspective warp) and transform, clip and filter
 * the boxes of `in`. */
static dy_status apply_perspective(const aug_img *in, const img_rgb *im, int ox, int oy, const double M[9], double s,
                                   int W, int H, int flr, int fud, aug_img *out)
{
    double MF[9];
    flip_matrix(M, W, H, flr, fud, MF);
    memset(out, 0, sizeof *out);
    dy_status st;
    if (M[6] != 0 || M[7] != 0) st = warp_perspective(im, MF, W, H, &out->im);
    else if (MF[1] == 0 && MF[3] == 0) st = warp_scale_at(im, ox, oy, MF, W, H, &out->im);
    else st = warp_affine_at(im, ox, oy, MF, W, H, &out->im);
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

/* One quadrant of YOLOv5's load_mosaic: its boxes go into m; its pixels, where they
 * fall inside the canvas window `win` (x0, y0, x1, y1 on the 2s x 2s canvas), into
 * `canvas`, which holds that window. */
static void tile_geometry(int i, int xc, int yc, int s, int w, int h, int g[6]);

static dy_status place(aug_img *m, img_rgb *canvas, const int win[4], const aug_img *src, int i, int xc, int yc,
                       int s)
{
    int w = src->im.w, g[6];
    tile_geometry(i, xc, yc, s, w, src->im.h, g);
    int x1a = g[0], y1a = g[1], x2a = g[2], y2a = g[3], x1b = g[4], y1b = g[5];
    int cx0 = x1a > win[0] ? x1a : win[0], cx1 = x2a < win[2] ? x2a : win[2]; /* canvas columns copied */
    int cy0 = y1a > win[1] ? y1a : win[1], cy1 = y2a < win[3] ? y2a : win[3];
    for (int y = cy0; y < cy1 && cx1 > cx0; y++)
        memcpy(canvas->px + ((size_t)(y - win[1]) * canvas->w + (size_t)(cx0 - win[0])) * 3,
               src->im.px + ((size_t)(y - y1a + y1b) * w + (size_t)(cx0 - x1a + x1b)) * 3, (size_t)(cx1 - cx0) * 3);
    float padw = (float)(x1a - x1b), padh = (float)(y1a - y1b), lim = 2.0f * s;
    for (int k = 0; k < src->nbox; k++) {
        aug_box b = src->box[k];
        b.x0 = fminf(fmaxf(b.x0 + padw, 0), lim), b.x1 = fminf(fmaxf(b.x1 + padw, 0), lim);
        b.y0 = fminf(fmaxf(b.y0 + padh, 0), lim), b.y1 = fminf(fmaxf(b.y1 + padh, 0), lim);
        DY_TRY(add_box(m, b));
    }
    return DY_OK;
}

/* Where quadrant i (a w x h image) lands on the 2s x 2s canvas: g = {x1a, y1a, x2a,
 * y2a, x1b, y1b}, canvas rectangle [x1a, x2a) x [y1a, y2a) from image pixel (x1b, y1b). */
static void tile_geometry(int i, int xc, int yc, int s, int w, int h, int g[6])
{
    int x1a, y1a, x2a, y2a, x1b, y1b, x2b, y2b;
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
    x2a = x1a + (x2b - x1b), y2a = y1a + (y2b - y1b); /* (the same extent, as YOLOv5's slices) */
    g[0] = x1a, g[1] = y1a, g[2] = x2a, g[3] = y2a, g[4] = x1b, g[5] = y1b;
}

/* The window of the cw x ch input that an affine warp (flips folded in) to w x h
 * can read: the output corners mapped back, widened by 4 px for the bilinear taps
 * and the fixed-point stepping, clipped.  A perspective warp may read anything. */
static void warp_window(const double MF[9], int w, int h, int cw, int ch, int win[4])
{
    win[0] = win[1] = 0, win[2] = cw, win[3] = ch;
    double det = MF[0] * MF[4] - MF[1] * MF[3];
    if (MF[6] != 0 || MF[7] != 0 || fabs(det) < 1e-12) return;
    double ia = MF[4] / det, ib = -MF[1] / det, id = -MF[3] / det, ie = MF[0] / det;
    double ic = -(ia * MF[2] + ib * MF[5]), iff = -(id * MF[2] + ie * MF[5]);
    double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
    for (int k = 0; k < 4; k++) {
        double X = (k & 1) ? w - 1 : 0, Y = (k & 2) ? h - 1 : 0, sx = ia * X + ib * Y + ic, sy = id * X + ie * Y + iff;
        x0 = fmin(x0, sx), x1 = fmax(x1, sx), y0 = fmin(y0, sy), y1 = fmax(y1, sy);
    }
    const double lim[4] = {floor(x0) - 4, floor(y0) - 4, ceil(x1) + 5, ceil(y1) + 5}, hi[4] = {cw, ch, cw, ch};
    for (int k = 0; k < 4; k++) win[k] = (int)fmin(fmax(lim[k], 0), hi[k]);
    if (win[2] <= win[0]) win[0] = 0, win[2] = 1; /* nothing reachable: any 1 px window */
    if (win[3] <= win[1]) win[1] = 0, win[3] = 1;
}

/* YOLOv5's load_mosaic (after the centre is drawn): all boxes into m, and only the
 * canvas window `win` into `canvas` (grey 114 where no image lies). */
static dy_status mosaic(const aug_img *src, int xc, int yc, int s, const int win[4], aug_img *m, img_rgb *canvas)
{
    DY_TRY(img_alloc(canvas, win[2] - win[0], win[3] - win[1]));
    memset(canvas->px, DY_PAD_VALUE, (size_t)canvas->w * canvas->h * 3);
    for (int i = 0; i < 4; i++) DY_TRY(place(m, canvas, win, &src[i], i, xc, yc, s));
    return DY_OK;
}

dy_status aug_val(const aug_img *src, int w, int h, aug_img *out)
{
    memset(out, 0, sizeof *out);
    float sc, px, py;
    DY_TRY(img_letterbox(&src->im, w, h, 0, &out->im, &sc, &px, &py));
    out->scale = src->scale * sc, out->scale_y = src->scale_y * sc, out->pad_x = px, out->pad_y = py;
    for (int k = 0; k < src->nbox; k++) {
        aug_box b = src->box[k];
        b.x0 = b.x0 * sc + px, b.x1 = b.x1 * sc + px, b.y0 = b.y0 * sc + py, b.y1 = b.y1 * sc + py;
        DY_TRY(add_box(out, b));
    }
    return DY_OK;
}

/* Everything aug_train draws.  Draw order: mosaic centre, affine, HSV gains, flipud,
 * fliplr (YOLOv5's).  The transform is drawn before the mosaic is built so that only
 * the part of the 2s x 2s canvas that the output can see (win) is assembled, and so
 * that the loader can decode only that part of each image (aug_mosaic_view). */
typedef struct {
    double M[9], MF[9], sc;
    int W, H, fud, flr, xc, yc, win[4];
    float gh, gs, gv;
} train_draws;

static void draw_train(rng_stream *r, const aug_params *p, int mosaic4, int s, int iw, int ih, train_draws *d)
{
    if (mosaic4) {
        d->xc = (int)rng_uniform_range(r, s / 2.0f, 1.5f * s), d->yc = (int)rng_uniform_range(r, s / 2.0f, 1.5f * s);
        iw = ih = 2 * s;
    }
    d->W = mosaic4 ? s : iw, d->H = mosaic4 ? s : ih;
    perspective_matrix(iw, ih, r, p, d->W, d->H, d->M, &d->sc);
    d->gh = rng_uniform_range(r, -1, 1) * p->hsv_h + 1, d->gs = rng_uniform_range(r, -1, 1) * p->hsv_s + 1;
    d->gv = rng_uniform_range(r, -1, 1) * p->hsv_v + 1;
    d->fud = rng_uniform(r) < p->flipud;
    d->flr = rng_uniform(r) < p->fliplr;
    flip_matrix(d->M, d->W, d->H, d->flr, d->fud, d->MF);
    warp_window(d->MF, d->W, d->H, iw, ih, d->win);
}

void aug_mosaic_view_of(rng_stream r, const aug_params *p, int s, aug_mosaic_view *v)
{
    train_draws d;
    draw_train(&r, p, 1, s, 0, 0, &d);
    v->xc = d.xc, v->yc = d.yc, v->s = s;
    memcpy(v->win, d.win, sizeof v->win);
}

void aug_mosaic_need(const aug_mosaic_view *v, int i, int w, int h, int rect[4])
{
    int g[6];
    tile_geometry(i, v->xc, v->yc, v->s, w, h, g);
    int cx0 = g[0] > v->win[0] ? g[0] : v->win[0], cx1 = g[2] < v->win[2] ? g[2] : v->win[2];
    int cy0 = g[1] > v->win[1] ? g[1] : v->win[1], cy1 = g[3] < v->win[3] ? g[3] : v->win[3];
    if (cx1 <= cx0 || cy1 <= cy0) {
        rect[0] = rect[1] = rect[2] = rect[3] = 0;
        return;
    }
    rect[0] = cx0 - g[0] + g[4], rect[2] = cx1 - g[0] + g[4];
    rect[1] = cy0 - g[1] + g[5], rect[3] = cy1 - g[1] + g[5];
}

dy_status aug_train(aug_img *src, int nsrc, rng_stream *r, const aug_params *p, int s, aug_img *out)
{
    aug_img base;
    img_rgb canvas = {0};
    memset(&base, 0, sizeof base);
    dy_status st = DY_OK;
    if (nsrc != 4) st = aug_val(&src[0], s, s, &base);
    train_draws d;
    if (st == DY_OK) {
        draw_train(r, p, nsrc == 4, s, base.im.w, base.im.h, &d);
        if (nsrc == 4) st = mosaic(src, d.xc, d.yc, s, d.win, &base, &canvas);
    }
    if (st == DY_OK)
        st = nsrc == 4 ? apply_perspective(&base, &canvas, d.win[0], d.win[1], d.M, d.sc, d.W, d.H, d.flr, d.fud, out)
                       : apply_perspective(&base, &base.im, 0, 0, d.M, d.sc, d.W, d.H, d.flr, d.fud, out);
    out->scale = base.scale, out->scale_y = base.scale_y, out->pad_x = base.pad_x, out->pad_y = base.pad_y;
    aug_img_free(&base);
    img_free(&canvas);
    if (st != DY_OK) return st;
    if (p->hsv_h || p->hsv_s || p->hsv_v) aug_hsv(&out->im, d.gh, d.gs, d.gv);
    return DY_OK;
}
