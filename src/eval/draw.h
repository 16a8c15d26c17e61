/* draw.h -- drawing on RGB8 images (h*w*3): text in a built-in 5x7 font (upper case,
 * digits, a few symbols), rectangles and labelled boxes.  Used by the PR-curve plots
 * and by `dyolo detect` to annotate images.
 * defines: draw_text, draw_rect, draw_label */
#ifndef DY_EVAL_DRAW_H
#define DY_EVAL_DRAW_H

#include <stdint.h>

void draw_text(uint8_t *rgb, int w, int h, int x, int y, const char *s, const uint8_t c[3], int vertical);
void draw_rect(uint8_t *rgb, int w, int h, int x1, int y1, int x2, int y2, const uint8_t c[3], int thick);
/* Filled label box with white text whose bottom-left corner is at (x, y). */
void draw_label(uint8_t *rgb, int w, int h, int x, int y, const char *s, const uint8_t bg[3]);

#endif
