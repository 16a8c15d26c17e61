/* draw.c -- implementation of draw.h.  The 5x7 glyphs were drawn for this file. */
#include "eval/draw.h"

#include <ctype.h>
#include <string.h>

/* Each glyph: 7 rows of 5 bits (MSB = left column). */
static const struct {
    char c;
    unsigned char rows[7];
} font[] = {
    {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},   {'2', {14, 17, 1, 2, 4, 8, 31}},
    {'3', {31, 2, 4, 2, 1, 17, 14}},     {'4', {2, 6, 10, 18, 31, 2, 2}},  {'5', {31, 16, 30, 1, 1, 17, 14}},
    {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},    {'8', {14, 17, 17, 14, 17, 17, 14}},
    {'9', {14, 17, 17, 15, 1, 2, 12}},   {'A', {14, 17, 17, 31, 17, 17, 17}}, {'B', {30, 17, 17, 30, 17, 17, 30}},
    {'C', {14, 17, 16, 16, 16, 17, 14}}, {'D', {28, 18, 17, 17, 17, 18, 28}}, {'E', {31, 16, 16, 30, 16, 16, 31}},
    {'F', {31, 16, 16, 30, 16, 16, 16}}, {'G', {14, 17, 16, 23, 17, 17, 15}}, {'H', {17, 17, 17, 31, 17, 17, 17}},
    {'I', {14, 4, 4, 4, 4, 4, 14}},      {'J', {7, 2, 2, 2, 2, 18, 12}},   {'K', {17, 18, 20, 24, 20, 18, 17}},
    {'L', {16, 16, 16, 16, 16, 16, 31}}, {'M', {17, 27, 21, 21, 17, 17, 17}}, {'N', {17, 17, 25, 21, 19, 17, 17}},
    {'O', {14, 17, 17, 17, 17, 17, 14}}, {'P', {30, 17, 17, 30, 16, 16, 16}}, {'Q', {14, 17, 17, 17, 21, 18, 13}},
    {'R', {30, 17, 17, 30, 20, 18, 17}}, {'S', {15, 16, 16, 14, 1, 1, 30}}, {'T', {31, 4, 4, 4, 4, 4, 4}},
    {'U', {17, 17, 17, 17, 17, 17, 14}}, {'V', {17, 17, 17, 17, 17, 10, 4}}, {'W', {17, 17, 17, 21, 21, 21, 10}},
    {'X', {17, 17, 10, 4, 10, 17, 17}},  {'Y', {17, 17, 10, 4, 4, 4, 4}},   {'Z', {31, 1, 2, 4, 8, 16, 31}},
    {'.', {0, 0, 0, 0, 0, 12, 12}},      {':', {0, 12, 12, 0, 12, 12, 0}}, {'-', {0, 0, 0, 31, 0, 0, 0}},
    {'_', {0, 0, 0, 0, 0, 0, 31}},       {'(', {2, 4, 8, 8, 8, 4, 2}},     {')', {8, 4, 2, 2, 2, 4, 8}},
    {'=', {0, 0, 31, 0, 31, 0, 0}},      {'/', {1, 1, 2, 4, 8, 16, 16}},   {'@', {14, 17, 1, 13, 21, 21, 14}},
};

static void put(uint8_t *rgb, int w, int h, int x, int y, const uint8_t c[3])
{
    if (x >= 0 && x < w && y >= 0 && y < h) memcpy(rgb + ((size_t)y * w + x) * 3, c, 3);
}

void draw_text(uint8_t *rgb, int w, int h, int x, int y, const char *s, const uint8_t c[3], int vertical)
{
    for (int i = 0; s[i]; i++) {
        char ch = (char)toupper((unsigned char)s[i]);
        for (size_t g = 0; g < sizeof font / sizeof font[0]; g++) {
            if (font[g].c != ch) continue;
            for (int r = 0; r < 7; r++)
                for (int b = 0; b < 5; b++)
                    if (font[g].rows[r] & (16 >> b)) {
                        if (vertical)
                            put(rgb, w, h, x + r, y - i * 6 - b, c);
                        else
                            put(rgb, w, h, x + i * 6 + b, y + r, c);
                    }
        }
    }
}

void draw_rect(uint8_t *rgb, int w, int h, int x1, int y1, int x2, int y2, const uint8_t c[3], int thick)
{
    for (int t = 0; t < thick; t++) {
        for (int x = x1; x <= x2; x++) put(rgb, w, h, x, y1 + t, c), put(rgb, w, h, x, y2 - t, c);
        for (int y = y1; y <= y2; y++) put(rgb, w, h, x1 + t, y, c), put(rgb, w, h, x2 - t, y, c);
    }
}

void draw_label(uint8_t *rgb, int w, int h, int x, int y, const char *s, const uint8_t bg[3])
{
    static const uint8_t white[3] = {255, 255, 255};
    int tw = (int)strlen(s) * 6 + 3, top = y - 10 < 0 ? y : y - 10;
    for (int yy = top; yy < top + 10; yy++)
        for (int xx = x; xx < x + tw; xx++) put(rgb, w, h, xx, yy, bg);
    draw_text(rgb, w, h, x + 2, top + 2, s, white, 0);
}
