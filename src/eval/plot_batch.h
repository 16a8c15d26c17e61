/* plot_batch.h -- YOLOv5's plot_images in C: up to 16 images of a batch tiled in a
 * square grid (scaled down to fit 1920 pixels), each with its boxes drawn in the
 * class's colour and labelled with the class name (and the confidence for
 * predictions).  train_batch*.jpg and val_batch0_*.jpg of the run directory.
 * defines: plot_box, plot_batch_jpeg, PLOT_BATCH_MAX
 */
#ifndef DY_EVAL_PLOT_BATCH_H
#define DY_EVAL_PLOT_BATCH_H

#include <stdint.h>

#include "core/err.h"

#define PLOT_BATCH_MAX 16

typedef struct {
    int image, cls;
    float x1, y1, x2, y2; /* pixels of the batch's h x w images */
    float conf;           /* < 0: a label (no confidence printed) */
} plot_box;

/* images: uint8 NCHW RGB (the loader's batch layout), n x 3 x h x w.  Boxes of images
 * past PLOT_BATCH_MAX are ignored.  names may be NULL (class numbers are printed). */
dy_status plot_batch_jpeg(const char *path, const uint8_t *images, int n, int h, int w, const plot_box *boxes,
                          int nbox, const char *const *names, int nc);

#endif
