/* image.c -- JPEG (libturbojpeg) and PNG (libpng) decoding, JPEG encoding, bilinear
 * and area resize, and letterbox.  Decoder handles are created per call so that any number of
 * loader threads can decode at once without locks. */
#include "data/image.h"

#include <float.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <jpeglib.h>

dy_status img_alloc(img_rgb *im, int w, int h)
{
    if (w <= 0 || h <= 0 || (int64_t)w * h > (int64_t)1 << 28)
        return DY_ERR(DY_ERANGE, "image size %dx%d out of range", w, h);
    im->px = malloc((size_t)w * h * 3);
    if (!im->px) return DY_ERR(DY_ENOMEM, "out of memory for a %dx%d image", w, h);
    im->w = w;
    im->h = h;
    return DY_OK;
}

void img_free(img_rgb *im)
{
    free(im->px);
    im->px = NULL;
    im->w = im->h = 0;
}

/* img_alloc for a decoder: its size error names the file (detect reported only
 * "image size 70000x70000 out of range"). */
static dy_status alloc_for(img_rgb *im, int w, int h, const char *what)
{
    dy_status s = img_alloc(im, w, h);
    if (s == DY_OK) return DY_OK;
    char m[512];
    snprintf(m, sizeof m, "%s", err_msg());
    return err_set(s, "%s: %s", what, m);
}

static int is_png(const uint8_t *buf, size_t len)
{
    return len >= 8 && !png_sig_cmp(buf, 0, 8);
}

/* PNG from memory through the simplified libpng API (handles palette, grey, 16-bit). */
static dy_status png_decode(const uint8_t *buf, size_t len, img_rgb *out, int header_only,
                            const char *what)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, buf, len))
        return DY_ERR(DY_EFORMAT, "%s: corrupt PNG: %s", what, pi.message);
    pi.format = PNG_FORMAT_RGB;
    if (header_only) {
        out->w = (int)pi.width;
        out->h = (int)pi.height;
        png_image_free(&pi);
        return DY_OK;
    }
    dy_status s = alloc_for(out, (int)pi.width, (int)pi.height, what);
    if (s != DY_OK) {
        png_image_free(&pi);
        return s;
    }
    if (!png_image_finish_read(&pi, NULL, out->px, 0, NULL)) {
        img_free(out);
        return DY_ERR(DY_EFORMAT, "%s: corrupt PNG: %s", what, pi.message);
    }
    return DY_OK;
}

dy_status img_decode_header(const uint8_t *buf, size_t len, int *w, int *h)
{
    if (is_png(buf, len)) {
        img_rgb t = {0};
        DY_TRY(png_decode(buf, len, &t, 1, "image"));
        *w = t.w;
        *h = t.h;
        return DY_OK;
    }
    tjhandle tj = tjInitDecompress();
    if (!tj) return DY_ERR(DY_ENOMEM, "tjInitDecompress: %s", tjGetErrorStr2(NULL));
    int sub, cs;
    int rc = tjDecompressHeader3(tj, buf, (unsigned long)len, w, h, &sub, &cs);
    if (rc) {
        dy_status s = DY_ERR(DY_EFORMAT, "not a valid JPEG or PNG: %s", tjGetErrorStr2(tj));
        tjDestroy(tj);
        return s;
    }
    tjDestroy(tj);
    return DY_OK;
}

dy_status img_decode(const uint8_t *buf, size_t len, img_rgb *out, const char *what)
{
    out->px = NULL;
    if (is_png(buf, len)) return png_decode(buf, len, out, 0, what);
    tjhandle tj = tjInitDecompress();
    if (!tj) return DY_ERR(DY_ENOMEM, "tjInitDecompress: %s", tjGetErrorStr2(NULL));
    int w, h, sub, cs;
    dy_status s = DY_OK;
    if (tjDecompressHeader3(tj, buf, (unsigned long)len, &w, &h, &sub, &cs)) {
        s = DY_ERR(DY_EFORMAT, "%s: not a valid JPEG or PNG: %s", what, tjGetErrorStr2(tj));
    } else if ((s = alloc_for(out, w, h, what)) == DY_OK) {
        /* Warnings (e.g. premature end of data) count as corruption: a truncated
         * JPEG decodes to grey and would silently poison training. */
        /* libjpeg's defaults (accurate DCT, fancy upsampling), the decode OpenCV and
         * PIL give Ultralytics: the fast DCT and plain upsampling added about 3 %
         * more pixel-to-pixel noise and cost about 0.02 mAP50-95 on the quality
         * suite's grayscale set (0.424-0.428 vs 0.444, three seeds;
         * benchmarks/quality.md). */
        if (tjDecompress2(tj, buf, (unsigned long)len, out->px, w, 0, h, TJPF_RGB, TJFLAG_ACCURATEDCT)) {
            s = DY_ERR(DY_EFORMAT, "%s: corrupt JPEG: %s", what, tjGetErrorStr2(tj));
            img_free(out);
        }
    }
    tjDestroy(tj);
    return s;
}

/* ---- region decode through the libjpeg API (TurboJPEG 2.1 cannot crop). */
typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} region_err;

static void region_error_exit(j_common_ptr c)
{
    longjmp(((region_err *)c->err)->jb, 1);
}

static void region_emit(j_common_ptr c, int level)
{
    if (level < 0) longjmp(((region_err *)c->err)->jb, 1); /* warnings are corruption, as in img_decode */
}

/* Decode rows [y0, y1) and columns [x0, x1) (at least) into im, allocated w x h,
 * with img_decode's settings (accurate DCT, fancy upsampling), whose bytes it
 * reproduces there.  Fancy upsampling reads the neighbouring chroma samples, which a
 * cropped decode replicates at its edges instead, so the region is widened by
 * REGION_MARGIN pixels (an iMCU of 4:2:0) on every side and the edge effects fall
 * outside [x0, x1) x [y0, y1).  Nonzero on any libjpeg error; the caller then
 * decodes in full. */
#define REGION_MARGIN 16
static int region_decode(const uint8_t *buf, size_t len, int x0, int y0, int x1, int y1, img_rgb *im)
{
    x0 = x0 > REGION_MARGIN ? x0 - REGION_MARGIN : 0, y0 = y0 > REGION_MARGIN ? y0 - REGION_MARGIN : 0;
    x1 = x1 + REGION_MARGIN < im->w ? x1 + REGION_MARGIN : im->w;
    y1 = y1 + REGION_MARGIN < im->h ? y1 + REGION_MARGIN : im->h;
    struct jpeg_decompress_struct ci;
    region_err e;
    ci.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = region_error_exit, e.pub.emit_message = region_emit;
    jpeg_create_decompress(&ci);
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&ci);
        return 1;
    }
    jpeg_mem_src(&ci, buf, (unsigned long)len);
    jpeg_read_header(&ci, TRUE);
    if ((int)ci.image_width != im->w || (int)ci.image_height != im->h) longjmp(e.jb, 1);
    ci.out_color_space = JCS_EXT_RGB, ci.dct_method = JDCT_ISLOW, ci.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&ci);
    JDIMENSION xoff = (JDIMENSION)x0, cw = (JDIMENSION)(x1 - x0);
    jpeg_crop_scanline(&ci, &xoff, &cw); /* widened to iMCU columns */
    if (y0 > 0) jpeg_skip_scanlines(&ci, (JDIMENSION)y0);
    while ((int)ci.output_scanline < y1) {
        JSAMPROW row = im->px + ((size_t)ci.output_scanline * im->w + xoff) * 3;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_abort_decompress(&ci); /* the rows below are not needed */
    jpeg_destroy_decompress(&ci);
    return 0;
}

dy_status img_decode_region(const uint8_t *buf, size_t len, int w, int h, const int rect[4], img_rgb *out,
                            const char *what)
{
    out->px = NULL;
    if (is_png(buf, len) || w <= 0 || h <= 0) return img_decode(buf, len, out, what);
    int x0 = rect[0] < 0 ? 0 : rect[0], y0 = rect[1] < 0 ? 0 : rect[1];
    int x1 = rect[2] > w ? w : rect[2], y1 = rect[3] > h ? h : rect[3];
    DY_TRY(alloc_for(out, w, h, what));
    memset(out->px, 0, (size_t)w * h * 3); /* outside the region: defined, never read */
    if (x1 <= x0 || y1 <= y0) return DY_OK;
    if (region_decode(buf, len, x0, y0, x1, y1, out)) {
        img_free(out);
        return img_decode(buf, len, out, what);
    }
    return DY_OK;
}

dy_status img_encode_jpeg(const img_rgb *im, int quality, uint8_t **out, size_t *len)
{
    tjhandle tj = tjInitCompress();
    if (!tj) return DY_ERR(DY_ENOMEM, "tjInitCompress: %s", tjGetErrorStr2(NULL));
    unsigned char *jb = NULL;
    unsigned long jl = 0;
    dy_status s = DY_OK;
    if (tjCompress2(tj, im->px, im->w, 0, im->h, TJPF_RGB, &jb, &jl, TJSAMP_420, quality,
                    TJFLAG_ACCURATEDCT)) {
        s = DY_ERR(DY_EFORMAT, "JPEG encode failed: %s", tjGetErrorStr2(tj));
    } else {
        *out = malloc(jl);
        if (!*out) s = DY_ERR(DY_ENOMEM, "out of memory for a JPEG");
        else {
            memcpy(*out, jb, jl);
            *len = jl;
        }
    }
    tjFree(jb);
    tjDestroy(tj);
    return s;
}

/* Source coordinate table for one axis: index and 8-bit fractional weight. */
static void axis_table(int sn, int dn, int *i0, int *wt)
{
    double r = (double)sn / dn;
    for (int d = 0; d < dn; d++) {
        double x = (d + 0.5) * r - 0.5;
        if (x < 0) x = 0;
        int i = (int)x;
        if (i >= sn - 1) {
            i = sn - 1;
            x = i;
        }
        i0[d] = i;
        wt[d] = (int)lrint((x - i) * 256.0);
    }
}

dy_status img_resize(const img_rgb *src, int w, int h, img_rgb *dst)
{
    DY_TRY(img_alloc(dst, w, h));
    int *xi = malloc(sizeof(int) * (size_t)w * 2), *yi = malloc(sizeof(int) * (size_t)h * 2);
    if (!xi || !yi) {
        free(xi);
        free(yi);
        img_free(dst);
        return DY_ERR(DY_ENOMEM, "out of memory resizing");
    }
    int *xw = xi + w, *yw = yi + h;
    axis_table(src->w, w, xi, xw);
    axis_table(src->h, h, yi, yw);
    size_t ss = (size_t)src->w * 3;
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = src->px + (size_t)yi[y] * ss;
        const uint8_t *r1 = yi[y] + 1 < src->h ? r0 + ss : r0;
        int fy = yw[y];
        uint8_t *o = dst->px + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            int x0 = xi[x] * 3, x1 = xi[x] + 1 < src->w ? x0 + 3 : x0, fx = xw[x];
            for (int c = 0; c < 3; c++) {
                int top = r0[x0 + c] * (256 - fx) + r0[x1 + c] * fx;
                int bot = r1[x0 + c] * (256 - fx) + r1[x1 + c] * fx;
                o[x * 3 + c] = (uint8_t)((top * (256 - fy) + bot * fy + 32768) >> 16);
            }
        }
    }
    free(xi);
    free(yi);
    return DY_OK;
}

/* ---- area resize (cv2.INTER_AREA when shrinking; YOLOv5's validation loads). */

/* One axis of cv2's area table (computeResizeAreaTab): destination cell d covers
 * source [d*scale, (d+1)*scale); each source pixel it touches gets the covered
 * fraction of the cell.  Entries come out ordered by destination, then source. */
typedef struct {
    int d, s;
    float a;
} area_tap;

static int area_table(int sn, int dn, double scale, area_tap *t)
{
    int k = 0;
    for (int d = 0; d < dn; d++) {
        double f1 = d * scale, f2 = f1 + scale, cell = fmin(scale, sn - f1);
        int s1 = (int)ceil(f1), s2 = (int)floor(f2);
        if (s2 > sn - 1) s2 = sn - 1;
        if (s1 > s2) s1 = s2;
        if (s1 - f1 > 1e-3) t[k++] = (area_tap){d, s1 - 1, (float)((s1 - f1) / cell)};
        for (int s = s1; s < s2; s++) t[k++] = (area_tap){d, s, (float)(1.0 / cell)};
        if (f2 - s2 > 1e-3) t[k++] = (area_tap){d, s2, (float)(fmin(fmin(f2 - s2, 1.0), cell) / cell)};
    }
    return k;
}

static uint8_t area_round(float v)
{
    long r = lrintf(v); /* cvRound: nearest, ties to even */
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

/* Integer factors: the mean of each fx x fy block; 2x2 as OpenCV's (sum + 2) >> 2. */
static void area_blocks(const img_rgb *src, int fx, int fy, img_rgb *dst)
{
    float inv = 1.0f / (float)(fx * fy);
    for (int y = 0; y < dst->h; y++)
        for (int x = 0; x < dst->w; x++)
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int j = 0; j < fy; j++)
                    for (int i = 0; i < fx; i++) sum += src->px[((size_t)(y * fy + j) * src->w + x * fx + i) * 3 + c];
                dst->px[((size_t)y * dst->w + x) * 3 + c] =
                    fx == 2 && fy == 2 ? (uint8_t)((sum + 2) >> 2) : area_round((float)sum * inv);
            }
}

/* Any factors >= 1: rows weighted by the y table, each row by the x table, summed in
 * floats in cv2's order (so results match it to the rounding). */
static void area_general(const img_rgb *src, const area_tap *xt, int nx, const area_tap *yt, int ny, float *buf,
                         float *sum, img_rgb *dst)
{
    int W = dst->w * 3, prev = 0;
    memset(sum, 0, sizeof(float) * (size_t)W);
    for (int j = 0; j < ny; j++) {
        const uint8_t *row = src->px + (size_t)yt[j].s * src->w * 3;
        memset(buf, 0, sizeof(float) * (size_t)W);
        for (int k = 0; k < nx; k++)
            for (int c = 0; c < 3; c++) buf[xt[k].d * 3 + c] += (float)row[xt[k].s * 3 + c] * xt[k].a;
        float b = yt[j].a;
        if (yt[j].d != prev) {
            for (int i = 0; i < W; i++) {
                dst->px[(size_t)prev * W + i] = area_round(sum[i]);
                sum[i] = b * buf[i];
            }
            prev = yt[j].d;
        } else {
            for (int i = 0; i < W; i++) sum[i] += b * buf[i];
        }
    }
    for (int i = 0; i < W; i++) dst->px[(size_t)prev * W + i] = area_round(sum[i]);
}

dy_status img_resize_area(const img_rgb *src, int w, int h, img_rgb *dst)
{
    if (w > src->w || h > src->h) return img_resize(src, w, h, dst);
    DY_TRY(img_alloc(dst, w, h));
    /* cv2.resize: scale = 1 / (dst / src), integer when within DBL_EPSILON. */
    double sx = 1.0 / ((double)w / src->w), sy = 1.0 / ((double)h / src->h);
    int ix = (int)lrint(sx), iy = (int)lrint(sy);
    if (fabs(sx - ix) < DBL_EPSILON && fabs(sy - iy) < DBL_EPSILON) {
        area_blocks(src, ix, iy, dst);
        return DY_OK;
    }
    size_t ntap = 2 * ((size_t)src->w + src->h), W = (size_t)w * 3;
    area_tap *t = malloc(sizeof(area_tap) * ntap);
    float *buf = malloc(sizeof(float) * W * 2);
    if (!t || !buf) {
        free(t);
        free(buf);
        img_free(dst);
        return DY_ERR(DY_ENOMEM, "out of memory for an area resize to %dx%d", w, h);
    }
    int nx = area_table(src->w, w, sx, t), ny = area_table(src->h, h, sy, t + nx);
    area_general(src, t, nx, t + nx, ny, buf, buf + W, dst);
    free(t);
    free(buf);
    return DY_OK;
}

void img_letterbox_params(int sw, int sh, int dw, int dh, int scaleup, float *scale, float *pad_x,
                          float *pad_y, int *nw, int *nh)
{
    float r = fminf((float)dw / sw, (float)dh / sh);
    if (!scaleup && r > 1.0f) r = 1.0f;
    int w = (int)lrintf(sw * r), h = (int)lrintf(sh * r);
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    if (w > dw) w = dw;
    if (h > dh) h = dh;
    *scale = r;
    /* Integer padding as YOLOv5 (round(dw/2 - 0.1)) so boxes map back exactly. */
    *pad_x = (float)((dw - w) / 2);
    *pad_y = (float)((dh - h) / 2);
    *nw = w;
    *nh = h;
}

dy_status img_letterbox(const img_rgb *src, int dw, int dh, int scaleup, img_rgb *dst, float *scale,
                        float *pad_x, float *pad_y)
{
    int nw, nh;
    img_letterbox_params(src->w, src->h, dw, dh, scaleup, scale, pad_x, pad_y, &nw, &nh);
    img_rgb r = {0};
    const img_rgb *use = src;
    if (nw != src->w || nh != src->h) {
        DY_TRY(img_resize(src, nw, nh, &r));
        use = &r;
    }
    dy_status s = img_alloc(dst, dw, dh);
    if (s != DY_OK) {
        img_free(&r);
        return s;
    }
    memset(dst->px, DY_PAD_VALUE, (size_t)dw * dh * 3);
    int px = (int)*pad_x, py = (int)*pad_y;
    for (int y = 0; y < nh; y++)
        memcpy(dst->px + ((size_t)(y + py) * dw + px) * 3, use->px + (size_t)y * nw * 3, (size_t)nw * 3);
    img_free(&r);
    return DY_OK;
}
