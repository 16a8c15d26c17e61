/* plot.h -- a minimal raster plotter that writes PNG (libpng): line charts with
 * axes, grid and a legend drawn with a built-in 5x7 font.  Enough for
 * precision-recall curves without pulling in a plotting library.
 * defines: plot_series, plot_lines_png */
#ifndef DY_EVAL_PLOT_H
#define DY_EVAL_PLOT_H

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

#endif
