/* image.h -- 8-bit RGB images in memory, JPEG/PNG decode and JPEG encode, and the
 * resampling primitives (bilinear resize, letterbox) shared by pack, synth and the
 * loader.  Pixels are interleaved RGB (HWC); the loader converts to NCHW at the end.
 *
 * defines: img_rgb, img_alloc, img_free, img_decode, img_decode_header, img_decode_region, img_encode_jpeg,
 *          img_resize, img_resize_area, img_letterbox, img_letterbox_params, DY_PAD_VALUE
 */
#ifndef DY_DATA_IMAGE_H
#define DY_DATA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DY_PAD_VALUE 114 /* YOLOv5's grey letterbox padding */

typedef struct {
    int w, h;
    uint8_t *px; /* h*w*3, RGB */
} img_rgb;

dy_status img_alloc(img_rgb *im, int w, int h);
void img_free(img_rgb *im);

/* Width/height of an encoded image (JPEG or PNG) without decoding the pixels. */
dy_status img_decode_header(const uint8_t *buf, size_t len, int *w, int *h);
/* Decode JPEG or PNG bytes to RGB.  `what` names the source in error messages.
 * Each thread must use its own call; no global decoder state is shared. */
dy_status img_decode(const uint8_t *buf, size_t len, img_rgb *out, const char *what);
/* JPEG of w x h pixels (as recorded; checked): decode only (at least) columns
 * [rect[0], rect[2]) of rows [rect[1], rect[3]) into a full-size image (other pixels
 * 0), with img_decode's bytes there; PNG, another size, or any decoder trouble: the
 * full img_decode. */
dy_status img_decode_region(const uint8_t *buf, size_t len, int w, int h, const int rect[4], img_rgb *out,
                            const char *what);
/* Encode RGB to baseline JPEG (4:2:0); *out is malloc'd. */
dy_status img_encode_jpeg(const img_rgb *im, int quality, uint8_t **out, size_t *len);

/* Bilinear resize (pixel centres aligned, as cv2.INTER_LINEAR). */
dy_status img_resize(const img_rgb *src, int w, int h, img_rgb *dst);
/* Area resize for shrinking, as cv2.INTER_AREA (each output pixel the mean of the
 * source area it covers, so fine detail averages instead of aliasing; 2x2 blocks
 * equal img_resize's); a size larger than the source on either axis: img_resize. */
dy_status img_resize_area(const img_rgb *src, int w, int h, img_rgb *dst);

/* Letterbox geometry: scale so the image fits in (dw x dh) keeping its aspect ratio,
 * then centre it; pad_x/pad_y are the left/top padding in pixels. */
void img_letterbox_params(int sw, int sh, int dw, int dh, int scaleup, float *scale, float *pad_x,
                          float *pad_y, int *nw, int *nh);
/* Resize + pad with DY_PAD_VALUE into a new dw x dh image. */
dy_status img_letterbox(const img_rgb *src, int dw, int dh, int scaleup, img_rgb *dst, float *scale,
                        float *pad_x, float *pad_y);

#endif
