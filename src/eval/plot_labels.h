/* plot_labels.h -- labels.jpg: what the training labels look like, as YOLOv5's
 * plot_labels shows it: instances per class (bars), up to 1000 box outlines centred
 * on one square (their shapes), and 2D histograms of box centres (x, y) and sizes
 * (w, h), all in coordinates normalised to the image.
 * defines: plot_labels_jpeg
 */
#ifndef DY_EVAL_PLOT_LABELS_H
#define DY_EVAL_PLOT_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* cls[n] class ids, box[n * 4] cx cy w h in [0, 1]; names may be NULL. */
dy_status plot_labels_jpeg(const char *path, const int32_t *cls, const float *box, size_t n, const char *const *names,
                           int nc);

#endif
