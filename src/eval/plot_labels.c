/* plot_labels.c -- implementation of plot_labels.h: four 400 x 400 panels on one
 * canvas; histograms use a log colour scale so a few rare bins stay visible. */
#include "eval/plot_labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/draw.h"
#include "eval/plot.h"

#define P 400  /* panel size */
#define M 50   /* margin around a panel's plot area */
#define A (P - 2 * M)
#define BINS 50

static const uint8_t black[3] = {0, 0, 0};

static void frame(plot_canvas *c, int ox, int oy, const char *title, const char *xl, const char *yl)
{
    draw_rect(c->px, c->w, c->h, ox + M, oy + M, ox + M + A, oy + M + A, black, 1);
    draw_text(c->px, c->w, c->h, ox + M, oy + M - 16, title, black, 0);
    draw_text(c->px, c->w, c->h, ox + M + A / 2 - (int)strlen(xl) * 3, oy + M + A + 20, xl, black, 0);
    draw_text(c->px, c->w, c->h, ox + M - 30, oy + M + A / 2 + (int)strlen(yl) * 3, yl, black, 1);
}

static void class_bars(plot_canvas *c, int ox, int oy, const int32_t *cls, size_t n, const char *const *names, int nc)
{
    long *cnt = calloc((size_t)nc + 1, sizeof *cnt), top = 1;
    frame(c, ox, oy, "INSTANCES PER CLASS", "", "INSTANCES");
    if (!cnt) return;
    for (size_t i = 0; i < n; i++)
        if (cls[i] >= 0 && cls[i] < nc) cnt[cls[i]]++;
    for (int k = 0; k < nc; k++) top = cnt[k] > top ? cnt[k] : top;
    char lab[32];
    snprintf(lab, sizeof lab, "%ld", top);
    draw_text(c->px, c->w, c->h, ox + M - 4 - (int)strlen(lab) * 6, oy + M - 3, lab, black, 0);
    draw_text(c->px, c->w, c->h, ox + M - 10, oy + M + A - 3, "0", black, 0);
    double bw = A / (double)(nc > 0 ? nc : 1);
    for (int k = 0; k < nc; k++) {
        int x0 = ox + M + (int)(k * bw), x1 = ox + M + (int)((k + 1) * bw) - (bw > 3 ? 1 : 0);
        int hgt = (int)(A * cnt[k] / (double)top + 0.5);
        plot_fill(c, x0 + 1, oy + M + A - hgt, x1, oy + M + A, plot_class_color(k));
        if (nc <= 40 && names && names[k]) { /* vertical names under the bars */
            snprintf(lab, sizeof lab, "%.7s", names[k]);
            draw_text(c->px, c->w, c->h, (x0 + x1) / 2 - 3, oy + M + A + 4 + (int)strlen(lab) * 6, lab, black, 1);
        }
    }
    free(cnt);
}

static void box_shapes(plot_canvas *c, int ox, int oy, const float *box, size_t n)
{
    frame(c, ox, oy, "BOX SHAPES (CENTRED)", "", "");
    size_t step = n > 1000 ? n / 1000 : 1;
    for (size_t i = 0; i < n; i += step) {
        const float *b = box + 4 * i;
        int cx = ox + M + A / 2, cy = oy + M + A / 2, hw = (int)(b[2] * A / 2), hh = (int)(b[3] * A / 2);
        draw_rect(c->px, c->w, c->h, cx - hw, cy - hh, cx + hw, cy + hh, plot_class_color((int)(i % 20)), 1);
    }
}

/* A BINS x BINS histogram of (u, v) in [0, 1]^2 (v up). */
static void hist2d(plot_canvas *c, int ox, int oy, const float *box, size_t n, int iu, int iv, const char *title,
                   const char *xl, const char *yl)
{
    long h[BINS][BINS] = {{0}}, top = 0;
    for (size_t i = 0; i < n; i++) {
        double u = box[4 * i + iu], v = box[4 * i + iv];
        if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) continue;
        int a = (int)(u * BINS), b = (int)(v * BINS);
        a = a >= BINS ? BINS - 1 : a, b = b >= BINS ? BINS - 1 : b;
        if (++h[b][a] > top) top = h[b][a];
    }
    for (int b = 0; b < BINS; b++)
        for (int a = 0; a < BINS; a++) {
            if (!h[b][a]) continue;
            uint8_t rgb[3];
            plot_blues(0.15 + 0.85 * log1p((double)h[b][a]) / log1p((double)top), rgb);
            int x0 = ox + M + a * A / BINS, y1 = oy + M + A - b * A / BINS;
            plot_fill(c, x0, y1 - A / BINS, x0 + A / BINS, y1, rgb);
        }
    frame(c, ox, oy, title, xl, yl);
    draw_text(c->px, c->w, c->h, ox + M - 3, oy + M + A + 6, "0", black, 0);
    draw_text(c->px, c->w, c->h, ox + M + A - 3, oy + M + A + 6, "1", black, 0);
    draw_text(c->px, c->w, c->h, ox + M - 10, oy + M - 3, "1", black, 0);
}

dy_status plot_labels_jpeg(const char *path, const int32_t *cls, const float *box, size_t n, const char *const *names,
                           int nc)
{
    plot_canvas cv;
    DY_TRY(plot_canvas_init(&cv, 2 * P, 2 * P));
    class_bars(&cv, 0, 0, cls, n, names, nc);
    box_shapes(&cv, P, 0, box, n);
    hist2d(&cv, 0, P, box, n, 0, 1, "BOX CENTRES", "X", "Y");
    hist2d(&cv, P, P, box, n, 2, 3, "BOX SIZES", "WIDTH", "HEIGHT");
    char lab[64];
    snprintf(lab, sizeof lab, "%zu LABELS", n);
    draw_text(cv.px, cv.w, cv.h, P + M, P - 30, lab, black, 0);
    dy_status st = plot_write_jpeg(path, &cv, 90);
    plot_canvas_free(&cv);
    return st;
}
