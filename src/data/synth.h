/* synth.h -- the deterministic synthetic detection dataset (`dyolo synth`): K classes
 * of distinct coloured shapes on cluttered backgrounds, written in Ultralytics YOLO
 * layout (images/{train,val}, labels/{train,val}, data.yaml) as JPEG.
 * Same options => same bytes (every image draws from its own Philox stream).
 *
 * defines: synth_opts, synth_generate, synth_class_name, SYNTH_MAX_CLASSES
 */
#ifndef DY_DATA_SYNTH_H
#define DY_DATA_SYNTH_H

#include <stdint.h>

#include "core/err.h"

#define SYNTH_MAX_CLASSES 5

typedef struct {
    const char *out_dir;
    int images;     /* total; about 1/5 go to val (at least 1 when images >= 2) */
    int classes;    /* 1..SYNTH_MAX_CLASSES */
    int size;       /* image width in pixels; height varies in [0.75, 1] * size */
    uint64_t seed;
    int quality;    /* JPEG quality */
} synth_opts;

const char *synth_class_name(int c);
dy_status synth_generate(const synth_opts *o);

#endif
