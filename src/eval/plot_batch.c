/* plot_batch.c -- implementation of plot_batch.h. */
#include "eval/plot_batch.h"

#include <math.h>
#include <stdio.h>

#include "eval/draw.h"
#include "eval/plot.h"

#define MAX_SIZE 1920

dy_status plot_batch_jpeg(const char *path, const uint8_t *images, int n, int h, int w, const plot_box *boxes,
                          int nbox, const char *const *names, int nc)
{
    if (n > PLOT_BATCH_MAX) n = PLOT_BATCH_MAX;
    if (n < 1 || h < 1 || w < 1) return DY_ERR(DY_EINVAL, "plot \"%s\": empty batch", path);
    int ns = (int)ceil(sqrt((double)n));
    double scale = MAX_SIZE / (double)(ns * (h > w ? h : w));
    if (scale > 1) scale = 1;
    int th = (int)(h * scale), tw = (int)(w * scale);
    if (th < 1) th = 1;
    if (tw < 1) tw = 1;
    plot_canvas cv;
    DY_TRY(plot_canvas_init(&cv, ns * tw, ns * th));
    for (int i = 0; i < n; i++) {
        int ox = (i % ns) * tw, oy = (i / ns) * th;
        const uint8_t *im = images + (size_t)i * 3 * h * w;
        for (int y = 0; y < th; y++) {
            int sy = scale < 1 ? (int)(y / scale) : y;
            for (int x = 0; x < tw; x++) {
                int sx = scale < 1 ? (int)(x / scale) : x;
                uint8_t *px = cv.px + ((size_t)(oy + y) * cv.w + ox + x) * 3;
                for (int ch = 0; ch < 3; ch++) px[ch] = im[((size_t)ch * h + sy) * w + sx];
            }
        }
    }
    /* white borders between the tiles, as YOLOv5 draws them (under the boxes) */
    static const uint8_t white[3] = {255, 255, 255};
    for (int i = 0; i < n; i++)
        draw_rect(cv.px, cv.w, cv.h, (i % ns) * tw, (i / ns) * th, (i % ns) * tw + tw - 1, (i / ns) * th + th - 1,
                  white, 1);
    int thick = (int)round(3 * scale) < 2 ? 2 : (int)round(3 * scale);
    for (int k = 0; k < nbox; k++) {
        const plot_box *b = &boxes[k];
        if (b->image < 0 || b->image >= n) continue;
        int ox = (b->image % ns) * tw, oy = (b->image / ns) * th;
        int x1 = ox + (int)lround(b->x1 * scale), y1 = oy + (int)lround(b->y1 * scale);
        int x2 = ox + (int)lround(b->x2 * scale), y2 = oy + (int)lround(b->y2 * scale);
        const uint8_t *col = plot_class_color(b->cls);
        draw_rect(cv.px, cv.w, cv.h, x1, y1, x2, y2, col, thick);
        char lab[48], num[16];
        const char *name = names && b->cls >= 0 && b->cls < nc && names[b->cls] ? names[b->cls] : NULL;
        if (!name) snprintf(num, sizeof num, "%d", b->cls), name = num;
        if (b->conf >= 0)
            snprintf(lab, sizeof lab, "%.24s %.1f", name, b->conf);
        else
            snprintf(lab, sizeof lab, "%.24s", name);
        draw_label(cv.px, cv.w, cv.h, x1, y1, lab, col);
    }
    dy_status st = plot_write_jpeg(path, &cv, 90);
    plot_canvas_free(&cv);
    return st;
}
