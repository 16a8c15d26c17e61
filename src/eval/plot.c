/* plot.c -- implementation of plot.h: an RGB canvas, Bresenham lines, text from
 * draw.h, chart panels, written out with libpng or libjpeg-turbo (data/image.h). */
#include "eval/plot.h"
#include "eval/draw.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"

/* The PR-curve chart: an 800 x 600 canvas with a 480 x 480 unit square. */
#define W 800
#define H 600
#define X0 70
#define Y0 40
#define PW 480
#define PH 480

static const uint8_t black[3] = {0, 0, 0}, grid_grey[3] = {225, 225, 225};

static const unsigned char palette[][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                           {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                           {188, 189, 34},  {23, 190, 207}};

dy_status plot_canvas_init(plot_canvas *c, int w, int h)
{
    c->w = w, c->h = h;
    c->px = malloc((size_t)w * (size_t)h * 3 + 1);
    if (!c->px) return DY_ERR(DY_ENOMEM, "plot: out of memory (%d x %d canvas)", w, h);
    memset(c->px, 255, (size_t)w * (size_t)h * 3);
    return DY_OK;
}

void plot_canvas_free(plot_canvas *c)
{
    free(c->px);
    c->px = NULL;
}

static void put(plot_canvas *c, int x, int y, const uint8_t rgb[3])
{
    if (x >= 0 && x < c->w && y >= 0 && y < c->h) memcpy(c->px + ((size_t)y * c->w + x) * 3, rgb, 3);
}

void plot_line(plot_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3], int thick)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        for (int t = -(thick / 2); t <= thick / 2; t++) put(c, x0, y0 + t, rgb), put(c, x0 + t, y0, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) err += dy, x0 += sx;
        if (e2 <= dx) err += dx, y0 += sy;
    }
}

void plot_fill(plot_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < c->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < c->w; x++) memcpy(c->px + ((size_t)y * c->w + x) * 3, rgb, 3);
}

void plot_blues(double v, uint8_t rgb[3])
{
    /* matplotlib Blues at 0, 0.5, 1: #f7fbff, #6baed6, #08306b */
    static const double k[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    int i = v < 0.5 ? 0 : 1;
    double f = v < 0.5 ? v * 2 : (v - 0.5) * 2;
    for (int j = 0; j < 3; j++) rgb[j] = (uint8_t)(k[i][j] + f * (k[i + 1][j] - k[i][j]) + 0.5);
}

const uint8_t *plot_class_color(int cls)
{
    /* YOLOv5 utils/plots.py Colors: FF3838 FF9D97 FF701F FFB21D CFD231 48F90A 92CC17 3DDB86 1A9334 00D4BB
     * 2C99A8 00C2FF 344593 6473FF 0018EC 8438FF 520085 CB38FF FF95C8 FF37C7 */
    static const uint8_t c[20][3] = {{255, 56, 56},  {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49},
                                     {72, 249, 10},  {146, 204, 23},  {61, 219, 134}, {26, 147, 52},  {0, 212, 187},
                                     {44, 153, 168}, {0, 194, 255},   {52, 69, 147},  {100, 115, 255}, {0, 24, 236},
                                     {132, 56, 255}, {82, 0, 133},    {203, 56, 255}, {255, 149, 200}, {255, 55, 199}};
    return c[(cls < 0 ? -cls : cls) % 20];
}

static int sx(double v) { return X0 + (int)(v * PW + 0.5); }
static int sy(double v) { return Y0 + PH - (int)(v * PH + 0.5); }

static void axes(plot_canvas *c, const char *title, const char *xl, const char *yl)
{
    for (int i = 0; i <= 10; i++) {
        plot_line(c, sx(i / 10.0), sy(0), sx(i / 10.0), sy(1), grid_grey, 1);
        plot_line(c, sx(0), sy(i / 10.0), sx(1), sy(i / 10.0), grid_grey, 1);
    }
    plot_line(c, sx(0), sy(0), sx(1), sy(0), black, 1);
    plot_line(c, sx(0), sy(0), sx(0), sy(1), black, 1);
    for (int i = 0; i <= 4; i++) {
        char lab[8];
        snprintf(lab, sizeof lab, "%.2f", i / 4.0);
        draw_text(c->px, W, H, sx(i / 4.0) - 12, sy(0) + 6, lab, black, 0);
        draw_text(c->px, W, H, sx(0) - 34, sy(i / 4.0) - 3, lab, black, 0);
    }
    draw_text(c->px, W, H, X0, 15, title, black, 0);
    draw_text(c->px, W, H, sx(0.5) - (int)strlen(xl) * 3, sy(0) + 22, xl, black, 0);
    draw_text(c->px, W, H, 12, sy(0.5) + (int)strlen(yl) * 3, yl, black, 1);
}

/* A short tick label: 4 significant digits, no exponent for ordinary ranges. */
static void tick_label(double v, char *buf, size_t len)
{
    if (v != 0 && (fabs(v) < 1e-3 || fabs(v) >= 1e5))
        snprintf(buf, len, "%.2e", v);
    else
        snprintf(buf, len, "%.4g", v);
}

void plot_panel(plot_canvas *c, int x, int y, int w, int h, const char *title, const double *xs, const double *ys,
                int n)
{
    static const uint8_t line_col[3] = {31, 119, 180};
    int l = x + 52, r = x + w - 10, t = y + 22, b = y + h - 22;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (!isfinite(ys[i]) || !isfinite(xs[i])) continue;
        xmin = fmin(xmin, xs[i]), xmax = fmax(xmax, xs[i]);
        ymin = fmin(ymin, ys[i]), ymax = fmax(ymax, ys[i]);
    }
    draw_text(c->px, c->w, c->h, x + (w - (int)strlen(title) * 6) / 2, y + 6, title, black, 0);
    plot_line(c, l, b, r, b, black, 1);
    plot_line(c, l, b, l, t, black, 1);
    if (!(xmin <= xmax)) {
        draw_text(c->px, c->w, c->h, l + 10, (t + b) / 2, "not computed", black, 0);
        return;
    }
    /* a flat series still gets a visible range; a single point sits in the middle */
    if (ymax - ymin < 1e-12 * fmax(1, fabs(ymax))) ymin -= 0.5 * fmax(fabs(ymin), 1e-3), ymax += 0.5 * fmax(fabs(ymax), 1e-3);
    if (xmax == xmin) xmin -= 1, xmax += 1;
    double pad = 0.05 * (ymax - ymin);
    ymin -= pad, ymax += pad;
    for (int i = 0; i <= 4; i++) {
        int gy = b - (int)((b - t) * i / 4.0 + 0.5);
        char lab[16];
        plot_line(c, l + 1, gy, r, gy, grid_grey, 1);
        tick_label(ymin + (ymax - ymin) * i / 4.0, lab, sizeof lab);
        draw_text(c->px, c->w, c->h, l - 4 - (int)strlen(lab) * 6, gy - 3, lab, black, 0);
    }
    char lab[16];
    tick_label(xmin, lab, sizeof lab);
    draw_text(c->px, c->w, c->h, l, b + 6, lab, black, 0);
    tick_label(xmax, lab, sizeof lab);
    draw_text(c->px, c->w, c->h, r - (int)strlen(lab) * 6, b + 6, lab, black, 0);
    int px = -1, py = -1;
    for (int i = 0; i < n; i++) {
        if (!isfinite(ys[i]) || !isfinite(xs[i])) {
            px = -1;
            continue;
        }
        int qx = l + (int)((r - l) * (xs[i] - xmin) / (xmax - xmin) + 0.5);
        int qy = b - (int)((b - t) * (ys[i] - ymin) / (ymax - ymin) + 0.5);
        if (px >= 0) plot_line(c, px, py, qx, qy, line_col, 2);
        plot_fill(c, qx - 2, qy - 2, qx + 3, qy + 3, line_col); /* a marker: one epoch is visible too */
        px = qx, py = qy;
    }
}

dy_status plot_write_png(const char *path, const plot_canvas *c)
{
    FILE *f = fopen(path, "wb");
    if (!f) return DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(errno));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return DY_ERR(DY_EIO, "libpng failed writing \"%s\"", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < c->h; y++) png_write_row(png, c->px + (size_t)y * c->w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) return DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(errno));
    return DY_OK;
}

dy_status plot_write_jpeg(const char *path, const plot_canvas *c, int quality)
{
    img_rgb im = {c->w, c->h, c->px};
    uint8_t *buf = NULL;
    size_t len = 0;
    DY_TRY_CTX(img_encode_jpeg(&im, quality, &buf, &len), "writing \"%s\"", path);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int bad = !f || fwrite(buf, 1, len, f) != len;
    int e = errno;
    if (f && fclose(f) != 0 && !bad) bad = 1, e = errno;
    free(buf);
    if (!bad && rename(tmp, path) != 0) bad = 1, e = errno;
    if (bad) {
        remove(tmp);
        return DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(e));
    }
    return DY_OK;
}

dy_status plot_lines_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                         const plot_series *s, int ns)
{
    plot_canvas cv;
    DY_TRY(plot_canvas_init(&cv, W, H));
    plot_canvas *c = &cv;
    axes(c, title, xlabel, ylabel);
    for (int i = 0; i < ns; i++) {
        const unsigned char *col = s[i].thick ? (const unsigned char[3]){0, 0, 160}
                                              : palette[i % (int)(sizeof palette / sizeof palette[0])];
        for (int k = 1; k < s[i].n; k++)
            plot_line(c, sx(s[i].x[k - 1]), sy(s[i].y[k - 1]), sx(s[i].x[k]), sy(s[i].y[k]), col,
                      s[i].thick ? 3 : 1);
        int ly = Y0 + 10 + i * 14;
        if (ly < H - 20) {
            plot_line(c, X0 + PW + 20, ly + 3, X0 + PW + 40, ly + 3, col, s[i].thick ? 3 : 1);
            draw_text(c->px, W, H, X0 + PW + 46, ly, s[i].label, black, 0);
        }
    }
    dy_status st = plot_write_png(path, c);
    plot_canvas_free(c);
    return st;
}
