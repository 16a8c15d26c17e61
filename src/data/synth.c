/* synth.c -- draws the synthetic dataset.  Each class is a shape with its own colour
 * (circle/red, square/green, triangle/blue, cross/yellow, ring/magenta) so that a
 * small model can learn it in minutes; size, aspect, rotation and colour vary, objects
 * may overlap and occlude each other, and the background is a gradient with noise and
 * small grey clutter.  Labels are the tight boxes of the drawn shapes. */
#include "data/synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "core/rng.h"
#include "data/image.h"
#include "core/fsutil.h"

#define SYNTH_PURPOSE 0x53594e54u /* "SYNT" */
#define MAX_OBJ 6

static const char *const class_names[SYNTH_MAX_CLASSES] = {"circle", "square", "triangle", "cross",
                                                           "ring"};
static const uint8_t class_rgb[SYNTH_MAX_CLASSES][3] = {
    {220, 40, 40}, {40, 200, 60}, {40, 80, 230}, {235, 210, 40}, {200, 50, 200}};

const char *synth_class_name(int c)
{
    return c >= 0 && c < SYNTH_MAX_CLASSES ? class_names[c] : "?";
}

typedef struct {
    int cls;
    float cx, cy, a, b, ang; /* centre, half sizes, rotation (radians) */
    uint8_t rgb[3];
} shape;

/* Is shape-local point (u, v) (already divided by the half sizes) inside? */
static int inside(int cls, float u, float v)
{
    float r2 = u * u + v * v;
    switch (cls) {
    case 0: return r2 <= 1.0f;
    case 1: return fabsf(u) <= 1.0f && fabsf(v) <= 1.0f;
    case 2: return v <= 1.0f && fabsf(u) <= (v + 1.0f) * 0.5f;
    case 3: return (fabsf(u) <= 0.34f && fabsf(v) <= 1.0f) || (fabsf(v) <= 0.34f && fabsf(u) <= 1.0f);
    default: return r2 <= 1.0f && r2 >= 0.36f;
    }
}

static void draw_shape(img_rgb *im, const shape *s, float *box)
{
    float c = cosf(s->ang), sn = sinf(s->ang), r = fmaxf(s->a, s->b) * 1.5f;
    int x0 = (int)fmaxf(0, s->cx - r), x1 = (int)fminf(im->w - 1, s->cx + r);
    int y0 = (int)fmaxf(0, s->cy - r), y1 = (int)fminf(im->h - 1, s->cy + r);
    float bx0 = 1e9f, by0 = 1e9f, bx1 = -1e9f, by1 = -1e9f;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            float dx = x + 0.5f - s->cx, dy = y + 0.5f - s->cy;
            float u = (c * dx + sn * dy) / s->a, v = (-sn * dx + c * dy) / s->b;
            if (!inside(s->cls, u, v)) continue;
            memcpy(im->px + ((size_t)y * im->w + x) * 3, s->rgb, 3);
            bx0 = fminf(bx0, (float)x);
            by0 = fminf(by0, (float)y);
            bx1 = fmaxf(bx1, (float)x + 1);
            by1 = fmaxf(by1, (float)y + 1);
        }
    box[0] = bx0, box[1] = by0, box[2] = bx1, box[3] = by1;
}

static void draw_background(img_rgb *im, rng_stream *r)
{
    float base[3], grad[3];
    for (int c = 0; c < 3; c++) {
        base[c] = rng_uniform_range(r, 60, 190);
        grad[c] = rng_uniform_range(r, -50, 50);
    }
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            float t = (float)(x + y) / (im->w + im->h), n = rng_uniform_range(r, -12, 12);
            for (int c = 0; c < 3; c++) {
                float v = base[c] * 0.4f + (base[0] + base[1] + base[2]) * 0.2f + grad[c] * t + n;
                im->px[((size_t)y * im->w + x) * 3 + c] = (uint8_t)fminf(255, fmaxf(0, v));
            }
        }
    /* Clutter: small grey specks and short lines, well below object size. */
    int n = 4 + (int)rng_below(r, 8), side = im->w < im->h ? im->w : im->h;
    for (int k = 0; k < n; k++) {
        int x = (int)rng_below(r, (uint32_t)im->w), y = (int)rng_below(r, (uint32_t)im->h);
        int len = 2 + (int)rng_below(r, (uint32_t)(side / 25 + 1)), horiz = (int)rng_below(r, 2);
        uint8_t g = (uint8_t)rng_below(r, 256);
        for (int i = 0; i < len; i++) {
            int xx = horiz ? x + i : x, yy = horiz ? y : y + i;
            if (xx < im->w && yy < im->h) memset(im->px + ((size_t)yy * im->w + xx) * 3, g, 3);
        }
    }
}

static void make_shape(shape *s, int w, int h, int classes, rng_stream *r)
{
    int side = w < h ? w : h;
    s->cls = (int)rng_below(r, (uint32_t)classes);
    float size = rng_uniform_range(r, 0.10f, 0.40f) * side; /* full extent */
    float aspect = rng_uniform_range(r, 0.7f, 1.4f);
    s->a = size * 0.5f * sqrtf(aspect);
    s->b = size * 0.5f / sqrtf(aspect);
    s->ang = s->cls == 0 || s->cls == 4 ? 0.0f : rng_uniform_range(r, -0.6f, 0.6f);
    s->cx = rng_uniform_range(r, s->a, w - s->a);
    s->cy = rng_uniform_range(r, s->b, h - s->b);
    for (int c = 0; c < 3; c++) {
        float v = class_rgb[s->cls][c] + rng_uniform_range(r, -25, 25);
        s->rgb[c] = (uint8_t)fminf(255, fmaxf(0, v));
    }
}

static dy_status mkdirs(const char *dir) { return fs_mkdir_p(dir); }

static dy_status write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    SYS_CHECK(f, DY_EIO, "cannot create %.480s", path);
    size_t n = fwrite(data, 1, len, f);
    int rc = fclose(f);
    SYS_CHECK(n == len && rc == 0, DY_EIO, "cannot write %.480s", path);
    return DY_OK;
}

static dy_status synth_one(const synth_opts *o, int i, const char *split)
{
    rng_stream r;
    rng_stream_init(&r, o->seed, SYNTH_PURPOSE, 0, (uint64_t)i);
    img_rgb im = {0};
    int h = (int)lrintf(o->size * rng_uniform_range(&r, 0.75f, 1.0f));
    DY_TRY(img_alloc(&im, o->size, h));
    draw_background(&im, &r);
    int nobj = 1 + (int)rng_below(&r, MAX_OBJ);
    char lab[MAX_OBJ * 64] = "";
    for (int k = 0; k < nobj; k++) {
        shape s;
        float b[4];
        make_shape(&s, im.w, im.h, o->classes, &r);
        draw_shape(&im, &s, b);
        if (b[2] <= b[0] || b[3] <= b[1]) continue;
        size_t l = strlen(lab);
        snprintf(lab + l, sizeof lab - l, "%d %.6f %.6f %.6f %.6f\n", s.cls, (b[0] + b[2]) / 2 / im.w,
                 (b[1] + b[3]) / 2 / im.h, (b[2] - b[0]) / im.w, (b[3] - b[1]) / im.h);
    }
    uint8_t *jpg = NULL;
    size_t jlen = 0;
    dy_status s = img_encode_jpeg(&im, o->quality, &jpg, &jlen);
    img_free(&im);
    if (s != DY_OK) return s;
    char path[4096];
    snprintf(path, sizeof path, "%s/images/%s/%06d.jpg", o->out_dir, split, i);
    s = write_file(path, jpg, jlen);
    free(jpg);
    if (s != DY_OK) return s;
    snprintf(path, sizeof path, "%s/labels/%s/%06d.txt", o->out_dir, split, i);
    return write_file(path, lab, strlen(lab));
}

static dy_status write_yaml(const synth_opts *o)
{
    char path[4096], text[2048];
    int n = snprintf(text, sizeof text,
                     "# dyolo synth --images %d --classes %d --size %d --seed %llu\n"
                     "path: .\ntrain: images/train\nval: images/val\nnc: %d\nnames:\n",
                     o->images, o->classes, o->size, (unsigned long long)o->seed, o->classes);
    for (int c = 0; c < o->classes; c++)
        n += snprintf(text + n, sizeof text - (size_t)n, "  %d: %s\n", c, class_names[c]);
    snprintf(path, sizeof path, "%s/data.yaml", o->out_dir);
    return write_file(path, text, (size_t)n);
}

dy_status synth_generate(const synth_opts *o)
{
    if (o->classes < 1 || o->classes > SYNTH_MAX_CLASSES)
        return DY_ERR(DY_ERANGE, "--classes %d: must be 1..%d", o->classes, SYNTH_MAX_CLASSES);
    if (o->size < 32 || o->size > 4096) return DY_ERR(DY_ERANGE, "--size %d: must be 32..4096", o->size);
    if (o->images < 1) return DY_ERR(DY_ERANGE, "--images %d: must be at least 1", o->images);
    const char *sub[] = {"images/train", "images/val", "labels/train", "labels/val"};
    for (int k = 0; k < 4; k++) {
        char d[4096];
        snprintf(d, sizeof d, "%s/%s", o->out_dir, sub[k]);
        DY_TRY(mkdirs(d));
    }
    int nval = o->images >= 2 ? (o->images + 4) / 5 : 0;
    for (int i = 0; i < o->images; i++)
        DY_TRY_CTX(synth_one(o, i, i >= o->images - nval ? "val" : "train"), "synth image %d", i);
    return write_yaml(o);
}
