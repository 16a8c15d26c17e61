/* plot.c -- implementation of plot.h: an RGB canvas, Bresenham lines, text from
 * draw.h, written out with libpng. */
#include "eval/plot.h"
#include "eval/draw.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 800
#define H 600
#define X0 70
#define Y0 40
#define PW 480
#define PH 480

typedef struct {
    unsigned char px[H][W][3];
} canvas;

static const unsigned char palette[][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                           {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                           {188, 189, 34},  {23, 190, 207}};

static void put(canvas *c, int x, int y, const unsigned char rgb[3])
{
    if (x >= 0 && x < W && y >= 0 && y < H) memcpy(c->px[y][x], rgb, 3);
}

static void line(canvas *c, int x0, int y0, int x1, int y1, const unsigned char rgb[3], int thick)
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

static int sx(double v) { return X0 + (int)(v * PW + 0.5); }
static int sy(double v) { return Y0 + PH - (int)(v * PH + 0.5); }

static void axes(canvas *c, const char *title, const char *xl, const char *yl)
{
    static const unsigned char black[3] = {0, 0, 0}, grid[3] = {225, 225, 225};
    for (int i = 0; i <= 10; i++) {
        line(c, sx(i / 10.0), sy(0), sx(i / 10.0), sy(1), grid, 1);
        line(c, sx(0), sy(i / 10.0), sx(1), sy(i / 10.0), grid, 1);
    }
    line(c, sx(0), sy(0), sx(1), sy(0), black, 1);
    line(c, sx(0), sy(0), sx(0), sy(1), black, 1);
    for (int i = 0; i <= 4; i++) {
        char lab[8];
        snprintf(lab, sizeof lab, "%.2f", i / 4.0);
        draw_text(c->px[0][0], W, H, sx(i / 4.0) - 12, sy(0) + 6, lab, black, 0);
        draw_text(c->px[0][0], W, H, sx(0) - 34, sy(i / 4.0) - 3, lab, black, 0);
    }
    draw_text(c->px[0][0], W, H, X0, 15, title, black, 0);
    draw_text(c->px[0][0], W, H, sx(0.5) - (int)strlen(xl) * 3, sy(0) + 22, xl, black, 0);
    draw_text(c->px[0][0], W, H, 12, sy(0.5) + (int)strlen(yl) * 3, yl, black, 1);
}

static dy_status write_png(const char *path, canvas *c)
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
    png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < H; y++) png_write_row(png, &c->px[y][0][0]);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0) return DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(errno));
    return DY_OK;
}

dy_status plot_lines_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                         const plot_series *s, int ns)
{
    canvas *c = malloc(sizeof *c);
    if (!c) return DY_ERR(DY_ENOMEM, "plot: out of memory");
    memset(c, 255, sizeof *c);
    axes(c, title, xlabel, ylabel);
    for (int i = 0; i < ns; i++) {
        const unsigned char *col = s[i].thick ? (const unsigned char[3]){0, 0, 160}
                                              : palette[i % (int)(sizeof palette / sizeof palette[0])];
        for (int k = 1; k < s[i].n; k++)
            line(c, sx(s[i].x[k - 1]), sy(s[i].y[k - 1]), sx(s[i].x[k]), sy(s[i].y[k]), col, s[i].thick ? 3 : 1);
        int ly = Y0 + 10 + i * 14;
        if (ly < H - 20) {
            line(c, X0 + PW + 20, ly + 3, X0 + PW + 40, ly + 3, col, s[i].thick ? 3 : 1);
            draw_text(c->px[0][0], W, H, X0 + PW + 46, ly, s[i].label, (const unsigned char[3]){0, 0, 0}, 0);
        }
    }
    dy_status st = write_png(path, c);
    free(c);
    return st;
}
