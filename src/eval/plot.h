/* plot.h -- a minimal raster plotter that writes PNG (libpng) and JPEG (libjpeg-turbo
 * through data/image.h): line charts with axes, grid and a legend drawn with the
 * built-in 5x7 font of draw.h, small auto-scaled chart panels that tile into one
 * image (results.png), filled rectangles and a white-to-blue colour map (heat maps,
 * histograms).  Enough for the run directory's plots without a plotting library.
 * defines: plot_series, plot_lines_png, plot_canvas, plot_canvas_init, plot_canvas_free,
 *          plot_line, plot_fill, plot_blues, plot_panel, plot_write_png, plot_write_jpeg,
 *          plot_class_color
 */
#ifndef DY_EVAL_PLOT_H
#define DY_EVAL_PLOT_H

#include <stdint.h>

#include "core/err.h"

typedef struct {
    const char *label;
    const double *x, *y; /* n points, both in [0, 1] */
    int n;
    int thick;
} plot_series;

/* A 1-by-1 unit chart of the series, titled, with axis names. */
dy_status plot_lines_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                         const plot_series *s, int ns);

/* An RGB8 image (h*w*3, interleaved) to draw on; init paints it white. */
typedef struct {
    int w, h;
    uint8_t *px;
} plot_canvas;

dy_status plot_canvas_init(plot_canvas *c, int w, int h);
void plot_canvas_free(plot_canvas *c);
/* Clipped to the canvas; thick pixels wide (centred). */
void plot_line(plot_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3], int thick);
/* Fills [x0, x1) x [y0, y1), clipped. */
void plot_fill(plot_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3]);
/* v in [0, 1] -> white .. dark blue (matplotlib's "Blues", approximately). */
void plot_blues(double v, uint8_t rgb[3]);
/* YOLOv5's 20-colour class palette (utils/plots.py Colors), by class index. */
const uint8_t *plot_class_color(int cls);
/* A small line chart of (xs[i], ys[i]) inside the rectangle at (x, y) of w x h pixels:
 * both axes scaled to the data, NaN points skipped (the line breaks there); with no
 * finite point the panel says "not computed".  For results.png. */
void plot_panel(plot_canvas *c, int x, int y, int w, int h, const char *title, const double *xs, const double *ys,
                int n);

dy_status plot_write_png(const char *path, const plot_canvas *c);
/* Baseline JPEG at `quality` (1..100), written whole to a temporary name and renamed,
 * so a reader never sees half a file. */
dy_status plot_write_jpeg(const char *path, const plot_canvas *c, int quality);

#endif
