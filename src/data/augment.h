/* augment.h -- YOLOv5 training augmentation and validation letterboxing.
 *
 * Semantics follow YOLOv5's LoadImagesAndLabels: load_image (long side -> imgsz),
 * 4-image mosaic on a 2s x 2s grey canvas around a random centre, random_perspective
 * (rotation, scale, shear, translation, optional perspective; boxes transformed by
 * their corners, clipped, and dropped by box_candidates), HSV gain jitter (OpenCV
 * 8-bit HSV, hue mod 180), vertical and horizontal flips.  Every random draw comes
 * from the sample's own Philox stream keyed by (seed, epoch, global index), starting
 * with the mosaic decision and the three mosaic partners (aug_plan), so the result is
 * the same on any rank or thread.
 *
 * defines: aug_params, aug_box, aug_img, aug_params_default, aug_img_free, aug_load,
 *          aug_plan, aug_train, aug_val, aug_warp_affine, aug_warp_scale, aug_hsv, aug_hsv_ref,
 *          aug_to_chw, aug_flip_lr, aug_flip_ud, aug_mosaic_view, aug_mosaic_view_of,
 *          aug_mosaic_need, aug_load_part, aug_load_val, AUG_PURPOSE
 */
#ifndef DY_DATA_AUGMENT_H
#define DY_DATA_AUGMENT_H

#include <stdint.h>

#include "core/rng.h"
#include "data/image.h"
#include "data/shard.h"

#define AUG_PURPOSE 0x41554731u /* "AUG1" */

typedef struct {
    float hsv_h, hsv_s, hsv_v;
    float degrees, translate, scale, shear, perspective;
    float flipud, fliplr, mosaic;
} aug_params;

typedef struct {
    float x0, y0, x1, y1; /* pixels */
    int32_t cls;
    uint8_t flags;
} aug_box;

typedef struct {
    img_rgb im;
    aug_box *box;
    int nbox, cap;
    /* original pixels -> these pixels: x' = x*scale + pad_x, y' = y*scale_y + pad_y
     * (the two scales differ by YOLOv5's rounded-up load size) */
    float scale, scale_y, pad_x, pad_y;
} aug_img;

void aug_params_default(aug_params *p); /* hyp.scratch-low */
void aug_img_free(aug_img *a);

/* YOLOv5 load_image for training: decode (or crop a raw payload's letterbox
 * content), resize bilinearly so the long side is imgsz (sizes rounded up, as
 * YOLOv5), boxes to pixels.  `what` names the sample in errors. */
dy_status aug_load(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m, int imgsz,
                   aug_img *out, const char *what);
/* The same for validation: an image that shrinks is area-resized (cv2.INTER_AREA, as
 * YOLOv5 loads without augmentation), one that grows bilinearly. */
dy_status aug_load_val(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m, int imgsz,
                       aug_img *out, const char *what);
/* Start sample `index`'s stream and draw the mosaic decision and partners (indices
 * in [0, n)).  Returns the number of source images (1 or 4); partners[0..2] set for 4. */
int aug_plan(rng_stream *r, uint64_t seed, int64_t epoch, int64_t index, int64_t n, const aug_params *p,
             int64_t partners[3]);
/* Training sample of size s x s from nsrc loaded images, continuing stream r. */
/* The part of a mosaic's 2s x 2s canvas that aug_train will read (its window), and
 * the centre: aug_mosaic_view_of replays aug_train's draws on a copy of its RNG
 * stream (the one aug_plan returned).  aug_mosaic_need gives the rectangle
 * {x0, y0, x1, y1} of quadrant i's w x h image (as loaded) that lies in the window
 * (all 0 if none); aug_load_part with a view loads only that part where it can
 * (JPEG at the network size), which leaves aug_train's output unchanged. */
typedef struct {
    int xc, yc, s, win[4];
} aug_mosaic_view;
void aug_mosaic_view_of(rng_stream r, const aug_params *p, int s, aug_mosaic_view *v);
void aug_mosaic_need(const aug_mosaic_view *v, int i, int w, int h, int rect[4]);
dy_status aug_load_part(const uint8_t *payload, size_t len, int raw, int raw_size, const shard_sample *m, int imgsz,
                        const aug_mosaic_view *v, int quad, aug_img *out, const char *what);
dy_status aug_train(aug_img *src, int nsrc, rng_stream *r, const aug_params *p, int s, aug_img *out);
/* Validation: letterbox the loaded image into w x h (no scale-up beyond imgsz). */
dy_status aug_val(const aug_img *src, int w, int h, aug_img *out);

/* Building blocks (exposed for tests and the benchmark). M maps source to
 * destination pixels: [x'; y'] = [M0 M1 M2; M3 M4 M5] [x; y; 1]. */
dy_status aug_warp_affine(const img_rgb *src, const double M[6], int w, int h, img_rgb *dst);
/* Same for M[1] == M[3] == 0 (scale + translate), separable and faster. */
dy_status aug_warp_scale(const img_rgb *src, const double M[6], int w, int h, img_rgb *dst);
void aug_hsv(img_rgb *im, float rh, float rs, float rv); /* gains (1 = unchanged) */
/* The portable scalar HSV path; aug_hsv gives the same bytes (tests compare them). */
void aug_hsv_ref(img_rgb *im, float rh, float rs, float rv);
/* Interleaved RGB -> planar CHW (3 * w * h bytes at dst), as batches hold images. */
void aug_to_chw(const img_rgb *im, uint8_t *dst);
void aug_flip_lr(aug_img *a);
void aug_flip_ud(aug_img *a);

#endif
