/* aug_hsv.c -- YOLOv5's HSV augmentation (augment_hsv) on interleaved RGB bytes, with
 * the bytes OpenCV 4.x gives it.  defines: aug_hsv, aug_hsv_ref (see augment.h).
 *
 * YOLOv5 converts BGR -> HSV (cv2.cvtColor, 8 bit, H in 0..179), maps H, S and V
 * through gain LUTs built in float64 (x * gain, truncated; H wraps at 180, S and V
 * saturate) and converts back.  The two conversions are OpenCV's:
 *   - forward: integer arithmetic with 12-bit reciprocal tables (exact here);
 *   - back: OpenCV 4.x's vector path, which converts every pixel of a row but the
 *     last few: s' = s * (1/255) and v' = v * (1/255) in float32, sector and
 *     fraction of h * (6/180), (1 - s' f) and (1 - s' (1 - f)) each with one fused
 *     multiply-add, and each channel * 255 *truncated*.  Rounding instead (the
 *     scalar formula, what this file did before) gave 1 grey level more on about
 *     70 % of colours, brighter and greyer training images than Ultralytics' (near-
 *     grey pixels 0.265 vs 0.257 of wbc-mixed's, 0.213 vs 0.199 of wbc's).
 * tests/data/hsv_opencv.txt holds OpenCV's own outputs (tests/data/make-hsv-fixture.py)
 * and test_data_unit checks both paths against them. */
#include "data/augment.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define DY_HSV_X86 1 /* AVX2 + FMA kernel, chosen at run time */
#include <immintrin.h>
#else
#define DY_HSV_X86 0
#endif

static int hsv_tables_ready, hsv_fdiv_ok;
static int32_t sdiv_tab[256], hdiv_tab[256];

static void hsv_tables(void)
{
    if (__atomic_load_n(&hsv_tables_ready, __ATOMIC_ACQUIRE)) return;
    int same = 1; /* may the vector path compute the tables with a float division? */
    for (int i = 1; i < 256; i++) {
        sdiv_tab[i] = (int32_t)((255.0 * 4096.0) / i + 0.5);
        hdiv_tab[i] = (int32_t)((180.0 * 4096.0) / (6.0 * i) + 0.5);
        same &= sdiv_tab[i] == (int32_t)(1044480.0f / (float)i + 0.5f) && hdiv_tab[i] == (int32_t)(122880.0f / (float)i + 0.5f);
    }
    hsv_fdiv_ok = same;
    __atomic_store_n(&hsv_tables_ready, 1, __ATOMIC_RELEASE);
}

#define HSV_HSCALE (6.0f / 180.0f) /* OpenCV's hscale for the 0..179 hue range */

/* OpenCV's 8-bit HSV -> RGB (vector path, see the top).  fmaf is one rounding, as
 * the fused instruction; C11 leaves the other products unfused (no FP_CONTRACT). */
static inline void hsv_back(int h, int s, int v, uint8_t *p)
{
    float sp = (float)s * (1.0f / 255.0f), vp = (float)v * (1.0f / 255.0f), hs = (float)h * HSV_HSCALE;
    int sec = (int)hs;
    float fr = hs - (float)sec;
    sec -= sec > 5 ? 6 : 0; /* h = 180 (a hue LUT value at the wrap) is sector 0 */
    float tab[4] = {vp, vp * (1.0f - sp), vp * fmaf(-sp, fr, 1.0f), vp * fmaf(-sp, 1.0f - fr, 1.0f)};
    /* tab indices of (R, G, B) per sector: OpenCV's sector table, in RGB order */
    static const uint8_t pick[6][3] = {{0, 3, 1}, {2, 0, 1}, {1, 0, 3}, {1, 2, 0}, {3, 1, 0}, {0, 1, 2}};
    for (int c = 0; c < 3; c++) p[c] = (uint8_t)(int)(tab[pick[sec][c]] * 255.0f);
}

static inline void hsv_pixel(uint8_t *p, const uint8_t *lh, const uint8_t *ls, const uint8_t *lv)
{
    int r = p[0], g = p[1], b = p[2];
    int v = r > g ? r : g;
    v = v > b ? v : b;
    int mn = r < g ? r : g;
    mn = mn < b ? mn : b;
    int diff = v - mn; /* 0 (grey): s = 0 and h = 0, and hdiv_tab[0] = 0 */
    int s = (diff * sdiv_tab[v] + 2048) >> 12;
    int hr = g - b, hg = b - r + 2 * diff, hb = r - g + 4 * diff;
    int hn = v == r ? hr : (v == g ? hg : hb);
    int h = (hn * hdiv_tab[diff] + 2048) >> 12;
    if (h < 0) h += 180;
    if (h >= 180) h -= 180;
    hsv_back(lh[h], ls[s], lv[v], p);
}

/* The gain LUTs of YOLOv5's augment_hsv, in float64 as numpy builds them (x * gain
 * is exact in a double, so truncating it matches for any float gain). */
static void hsv_luts(float rh, float rs, float rv, uint8_t *lh, uint8_t *ls, uint8_t *lv)
{
    hsv_tables();
    for (int x = 0; x < 256; x++) {
        double hh = fmod(x * (double)rh, 180.0), s = x * (double)rs, v = x * (double)rv;
        lh[x] = (uint8_t)(int)(hh < 0 ? hh + 180.0 : hh);
        ls[x] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
        lv[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

/* hsv_pixel on pixels [from, w*h) of im */
static void hsv_scalar(img_rgb *im, size_t from, const uint8_t *lh, const uint8_t *ls, const uint8_t *lv)
{
    size_t n = (size_t)im->w * im->h;
    for (size_t i = from; i < n; i++) hsv_pixel(im->px + 3 * i, lh, ls, lv);
}

void aug_hsv_ref(img_rgb *im, float rh, float rs, float rv)
{
    uint8_t lh[256], ls[256], lv[256];
    hsv_luts(rh, rs, rv, lh, ls, lv);
    hsv_scalar(im, 0, lh, ls, lv);
}

#if DY_HSV_X86
#define HSV_TARGET __attribute__((target("avx2,fma")))

/* sdiv_tab[i] or hdiv_tab[i] (c = 255 * 4096 or 30 * 4096): a division in float lanes
 * where hsv_tables found it gives the same values, else a gather.  Index 0 gives
 * junk, but only where the multiplier (diff or hue numerator) is 0. */
HSV_TARGET static inline __m256i hsv_recip(const int32_t *tab, float c, __m256i i)
{
    if (!hsv_fdiv_ok) return _mm256_i32gather_epi32(tab, i, 4);
    __m256 q = _mm256_div_ps(_mm256_set1_ps(c), _mm256_cvtepi32_ps(i));
    return _mm256_cvttps_epi32(_mm256_add_ps(q, _mm256_set1_ps(0.5f)));
}

/* trunc(x * 255) of a float lane, as OpenCV stores a channel */
HSV_TARGET static inline __m256i hsv_byte(__m256 x)
{
    return _mm256_cvttps_epi32(_mm256_mul_ps(x, _mm256_set1_ps(255.0f)));
}

/* hsv_pixel on 8 pixels in 32-bit lanes: the same integer forward conversion, LUT
 * gathers, and hsv_back's float operations lane by lane, so the same bytes. */
HSV_TARGET static void hsv_8px(uint8_t *p, const int32_t *lut)
{
    const __m128i split = _mm_setr_epi8(0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, -1, -1, -1, -1);
    __m128i lo = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), split); /* r0-3 g0-3 b0-3 */
    __m128i hi = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 12)), split);
    __m128i rg = _mm_unpacklo_epi32(lo, hi), bb = _mm_unpackhi_epi32(lo, hi);
    __m256i r = _mm256_cvtepu8_epi32(rg), g = _mm256_cvtepu8_epi32(_mm_srli_si128(rg, 8));
    __m256i b = _mm256_cvtepu8_epi32(bb);
    __m256i v = _mm256_max_epi32(_mm256_max_epi32(r, g), b), mn = _mm256_min_epi32(_mm256_min_epi32(r, g), b);
    __m256i diff = _mm256_sub_epi32(v, mn), k2048 = _mm256_set1_epi32(2048);
    __m256i s = hsv_recip(sdiv_tab, 1044480.0f, v);
    s = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(diff, s), k2048), 12);
    __m256i hn = _mm256_sub_epi32(r, g);                                  /* + 4 diff when v == b */
    hn = _mm256_add_epi32(hn, _mm256_slli_epi32(diff, 2));
    __m256i is_g = _mm256_cmpeq_epi32(v, g), is_r = _mm256_cmpeq_epi32(v, r);
    hn = _mm256_blendv_epi8(hn, _mm256_add_epi32(_mm256_sub_epi32(b, r), _mm256_slli_epi32(diff, 1)), is_g);
    hn = _mm256_blendv_epi8(hn, _mm256_sub_epi32(g, b), is_r);
    __m256i h = hsv_recip(hdiv_tab, 122880.0f, diff);
    h = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(hn, h), k2048), 12);
    const __m256i k180 = _mm256_set1_epi32(180);
    h = _mm256_add_epi32(h, _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), h), k180));
    h = _mm256_sub_epi32(h, _mm256_and_si256(_mm256_cmpgt_epi32(h, _mm256_set1_epi32(179)), k180));
    h = _mm256_i32gather_epi32(lut, h, 4);
    s = _mm256_i32gather_epi32(lut + 256, s, 4);
    v = _mm256_i32gather_epi32(lut + 512, v, 4);
    /* hsv_back */
    const __m256 one = _mm256_set1_ps(1.0f), inv255 = _mm256_set1_ps(1.0f / 255.0f);
    __m256 sp = _mm256_mul_ps(_mm256_cvtepi32_ps(s), inv255), vp = _mm256_mul_ps(_mm256_cvtepi32_ps(v), inv255);
    __m256 hs = _mm256_mul_ps(_mm256_cvtepi32_ps(h), _mm256_set1_ps(HSV_HSCALE));
    __m256i sec = _mm256_cvttps_epi32(hs);
    __m256 fr = _mm256_sub_ps(hs, _mm256_cvtepi32_ps(sec));
    sec = _mm256_sub_epi32(sec, _mm256_and_si256(_mm256_cmpgt_epi32(sec, _mm256_set1_epi32(5)), _mm256_set1_epi32(6)));
    __m256i vv = hsv_byte(vp), pp = hsv_byte(_mm256_mul_ps(vp, _mm256_sub_ps(one, sp)));
    __m256i q = hsv_byte(_mm256_mul_ps(vp, _mm256_fnmadd_ps(sp, fr, one)));
    __m256i t = hsv_byte(_mm256_mul_ps(vp, _mm256_fnmadd_ps(sp, _mm256_sub_ps(one, fr), one)));
    __m256i m[6];
    for (int j = 0; j < 6; j++) m[j] = _mm256_cmpeq_epi32(sec, _mm256_set1_epi32(j));
    /* sector -> (R, G, B) from (v, q, t, p), as hsv_back's pick table */
    __m256i R = _mm256_blendv_epi8(pp, vv, _mm256_or_si256(m[0], m[5]));
    R = _mm256_blendv_epi8(_mm256_blendv_epi8(R, q, m[1]), t, m[4]);
    __m256i G = _mm256_blendv_epi8(_mm256_blendv_epi8(pp, t, m[0]), vv, _mm256_or_si256(m[1], m[2]));
    G = _mm256_blendv_epi8(G, q, m[3]);
    __m256i B = _mm256_blendv_epi8(vv, pp, _mm256_or_si256(m[0], m[1]));
    B = _mm256_blendv_epi8(_mm256_blendv_epi8(B, t, m[2]), q, m[5]);
    /* pack to bytes (values are 0..255) and interleave back */
    __m256i rg16 = _mm256_packus_epi32(R, G), b16 = _mm256_packus_epi32(B, B); /* per 128-bit lane */
    __m256i rgb8 = _mm256_packus_epi16(rg16, b16); /* lane0: r0-3 g0-3 b0-3 b0-3, lane1: pixels 4-7 */
    const __m128i join = _mm_setr_epi8(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, -1, -1, -1, -1);
    __m128i o0 = _mm_shuffle_epi8(_mm256_castsi256_si128(rgb8), join);
    __m128i o1 = _mm_shuffle_epi8(_mm256_extracti128_si256(rgb8, 1), join);
    _mm_storel_epi64((__m128i *)p, o0);
    uint32_t w0 = (uint32_t)_mm_extract_epi32(o0, 2), w1 = (uint32_t)_mm_extract_epi32(o1, 2);
    memcpy(p + 8, &w0, 4);
    _mm_storel_epi64((__m128i *)(p + 12), o1);
    memcpy(p + 20, &w1, 4);
}

HSV_TARGET static void hsv_avx2(img_rgb *im, const uint8_t *lh, const uint8_t *ls, const uint8_t *lv)
{
    int32_t lut[768]; /* H, S, V LUTs widened for gathers */
    for (int x = 0; x < 256; x++) lut[x] = lh[x], lut[256 + x] = ls[x], lut[512 + x] = lv[x];
    size_t n = (size_t)im->w * im->h, i = 0;
    /* each step reads 28 bytes (4 past its 8 pixels), so stop 2 pixels early */
    for (; i + 10 <= n; i += 8) hsv_8px(im->px + 3 * i, lut);
    hsv_scalar(im, i, lh, ls, lv);
}
#endif

void aug_hsv(img_rgb *im, float rh, float rs, float rv)
{
    uint8_t lh[256], ls[256], lv[256];
    hsv_luts(rh, rs, rv, lh, ls, lv);
#if DY_HSV_X86
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        hsv_avx2(im, lh, ls, lv);
        return;
    }
#endif
    hsv_scalar(im, 0, lh, ls, lv);
}
