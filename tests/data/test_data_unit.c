/* test_data_unit.c -- sampler rules (cover, disjointness, padding, world-size
 * independence, resume), augmentation geometry (boxes stay on their objects,
 * determinism), and image primitives, HSV against OpenCV's bytes (a fixture file).
 * No MPI. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "../tap.h"
#include "data/augment.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "train/train_config.h"

/* Every (world, epoch): slices disjoint within a step, valid entries cover 0..n-1
 * exactly once (val) or at least once with only wrap-around repeats (train). */
static void check_cover(int64_t n, int world, int batch, int shuffle, int epoch)
{
    sampler s[4];
    int *count = calloc((size_t)n, sizeof(int));
    int64_t idx[64], pad = 0, total = 0, steps = 0;
    for (int r = 0; r < world; r++) {
        sampler_init(&s[r], n, world, r, batch, 42, shuffle);
        sampler_start_epoch(&s[r], epoch, 0);
    }
    for (;;) {
        int any = 0;
        for (int r = 0; r < world; r++) {
            if (!sampler_next(&s[r], idx)) continue;
            any = 1;
            for (int k = 0; k < batch; k++, total++) {
                if (idx[k] < 0) pad++;
                else count[idx[k]]++;
            }
        }
        if (!any) break;
        steps++;
    }
    int64_t g = (int64_t)world * batch, want_steps = (n + g - 1) / g, extra = want_steps * g - n;
    int ok = steps == want_steps && total == want_steps * g;
    int64_t once = 0, twice = 0;
    for (int64_t i = 0; i < n; i++) once += count[i] == 1, twice += count[i] == 2, ok &= count[i] >= 1;
    if (shuffle) ok &= pad == 0 && (extra <= n ? twice == extra && once == n - extra : 1);
    else ok &= pad == extra && once == n;
    TAP_OK(ok, "%s n=%lld world=%d batch=%d epoch=%d: %lld steps cover the dataset (pad %lld)",
           shuffle ? "train" : "val", (long long)n, world, batch, epoch, (long long)steps, (long long)extra);
    for (int r = 0; r < world; r++) sampler_free(&s[r]);
    free(count);
}

/* The global sequence (ranks' slices concatenated step by step) is the same for
 * any world size; the same (seed, epoch) gives the same order; epochs differ. */
static void check_world_independence(void)
{
    int64_t n = 53, seq[4][64], idx[64];
    for (int w = 1; w <= 4; w++) {
        sampler s[4];
        int m = 0;
        for (int r = 0; r < w; r++) sampler_init(&s[r], n, w, r, 3, 9, 1), sampler_start_epoch(&s[r], 2, 0);
        while (m < n) {
            for (int r = 0; r < w; r++) {
                if (!sampler_next(&s[r], idx)) break;
                for (int k = 0; k < 3 && m < 64; k++) seq[w - 1][m++] = idx[k];
            }
        }
        for (int r = 0; r < w; r++) sampler_free(&s[r]);
    }
    int same = 1;
    for (int w = 1; w < 4; w++) same &= !memcmp(seq[0], seq[w], sizeof(int64_t) * (size_t)n);
    TAP_OK(same, "global order of epoch 2 is the same for world sizes 1..4");
    sampler a, b;
    sampler_init(&a, n, 1, 0, 4, 9, 1);
    sampler_init(&b, n, 1, 0, 4, 9, 1);
    sampler_start_epoch(&a, 5, 0), sampler_start_epoch(&b, 5, 0);
    TAP_OK(!memcmp(a.order, b.order, sizeof(int64_t) * (size_t)n), "same (seed, epoch) gives the same order");
    sampler_start_epoch(&b, 6, 0);
    TAP_OK(memcmp(a.order, b.order, sizeof(int64_t) * (size_t)n) != 0, "another epoch gives another order");
    /* resume: start at position 8 == skipping two steps */
    int64_t x[4], y[4];
    sampler_start_epoch(&a, 5, 0), sampler_next(&a, x), sampler_next(&a, x), sampler_next(&a, x);
    TAP_OK(sampler_start_epoch(&b, 5, 8) == DY_OK && sampler_next(&b, y) && !memcmp(x, y, sizeof x),
           "starting epoch 5 at position 8 continues exactly");
    TAP_OK(sampler_start_epoch(&b, 5, 6) != DY_OK, "a position that is not a multiple of the global batch is refused");
    sampler_state st = sampler_get_state(&b);
    TAP_OK(st.epoch == 5, "state carries the epoch");
    sampler_free(&a), sampler_free(&b);
}

/* Known coloured rectangles on a dark background; after mosaic + affine + flips
 * (no HSV, so colours are exact), each output box must be mostly its colour. */
static const uint8_t rect_rgb[3][3] = {{250, 20, 20}, {20, 250, 20}, {20, 20, 250}};

static void make_source(aug_img *a, int seed)
{
    memset(a, 0, sizeof *a);
    img_alloc(&a->im, 200, 160);
    memset(a->im.px, 30, (size_t)200 * 160 * 3);
    a->box = calloc(3, sizeof(aug_box));
    a->cap = 3;
    for (int k = 0; k < 3; k++) {
        int x0 = 10 + 60 * k + seed % 7, y0 = 20 + 30 * k, w = 40 + 5 * k, h = 50 - 5 * k;
        for (int y = y0; y < y0 + h; y++)
            for (int x = x0; x < x0 + w; x++) memcpy(a->im.px + ((size_t)y * 200 + x) * 3, rect_rgb[k], 3);
        a->box[a->nbox++] = (aug_box){(float)x0, (float)y0, (float)(x0 + w), (float)(y0 + h), k, 0};
    }
    a->scale = a->scale_y = 1;
}

static double box_purity(const aug_img *o, const aug_box *b)
{
    int hit = 0, tot = 0;
    /* shrink by 2 px: the borders are blended by bilinear sampling */
    for (int y = (int)b->y0 + 2; y < (int)b->y1 - 2; y++)
        for (int x = (int)b->x0 + 2; x < (int)b->x1 - 2; x++) {
            const uint8_t *p = o->im.px + ((size_t)y * o->im.w + x) * 3;
            const uint8_t *c = rect_rgb[b->cls];
            hit += abs(p[0] - c[0]) < 40 && abs(p[1] - c[1]) < 40 && abs(p[2] - c[2]) < 40;
            tot++;
        }
    return tot ? (double)hit / tot : 1.0;
}

static void check_boxes_on_objects(float degrees, float shear, double min_pur, double min_mean)
{
    aug_params p;
    aug_params_default(&p);
    p.hsv_h = p.hsv_s = p.hsv_v = 0;
    p.degrees = degrees, p.shear = shear, p.flipud = 0.5f;
    int ok = 1, nbox = 0, trials = 0;
    double worst = 1, mean = 0;
    for (int t = 0; t < 24; t++) {
        aug_img src[4], out;
        for (int k = 0; k < 4; k++) make_source(&src[k], t + k);
        rng_stream r;
        int64_t part[3];
        int ns = aug_plan(&r, 3, 1, (uint64_t)t, 100, &p, part);
        if (aug_train(src, ns, &r, &p, 256, &out) != DY_OK) ok = 0;
        for (int k = 0; k < out.nbox; k++) {
            double pur = box_purity(&out, &out.box[k]);
            /* rotation makes a box's corners background: looser bounds then */
            if (pur < worst) worst = pur;
            mean += pur;
            ok &= pur > min_pur && out.box[k].x0 >= 0 && out.box[k].x1 <= 256 && out.box[k].y1 <= 256;
            nbox++;
        }
        trials++;
        ok &= out.im.w == 256 && out.im.h == 256;
        aug_img_free(&out);
        for (int k = 0; k < 4; k++) aug_img_free(&src[k]);
    }
    mean /= nbox ? nbox : 1;
    TAP_OK(ok && nbox > trials && mean > min_mean,
           "degrees %g shear %g: boxes lie on their objects (%d boxes, worst purity %.2f, mean %.2f)", degrees, shear,
           nbox, worst, mean);
}

static void check_determinism(void)
{
    aug_params p;
    aug_params_default(&p);
    uint32_t sum[2] = {0, 0};
    for (int rep = 0; rep < 2; rep++) {
        aug_img src[4], out;
        for (int k = 0; k < 4; k++) make_source(&src[k], k);
        rng_stream r;
        int64_t part[3];
        int ns = aug_plan(&r, 11, 4, 77, 100, &p, part);
        aug_train(src, ns, &r, &p, 128, &out);
        for (size_t i = 0; i < (size_t)128 * 128 * 3; i++) sum[rep] = sum[rep] * 31 + out.im.px[i];
        for (int k = 0; k < out.nbox; k++) sum[rep] += (uint32_t)(out.box[k].x0 * 1000);
        aug_img_free(&out);
        for (int k = 0; k < 4; k++) aug_img_free(&src[k]);
    }
    TAP_OK(sum[0] == sum[1], "the same (seed, epoch, index) gives the same augmented sample");
}

static void check_image_ops(void)
{
    img_rgb a, b, c;
    img_alloc(&a, 100, 50);
    for (size_t i = 0; i < (size_t)100 * 50 * 3; i++) a.px[i] = (uint8_t)(i * 7);
    float sc, px, py;
    img_letterbox(&a, 64, 64, 1, &b, &sc, &px, &py);
    TAP_OK(b.w == 64 && b.h == 64 && px == 0 && py == 16 && sc > 0.63f && sc < 0.65f, "letterbox geometry (scale %.3f pad %g,%g)", sc, px, py);
    TAP_OK(b.px[0] == DY_PAD_VALUE && b.px[64 * 63 * 3] == DY_PAD_VALUE && b.px[64 * 32 * 3] != DY_PAD_VALUE,
           "letterbox pads with 114 and keeps the content");
    TAP_EQ_INT(b.px[3 * 64 * 5], DY_PAD_VALUE, "top padding rows are 114");
    double M[6] = {1, 0, 0, 0, 1, 0};
    aug_warp_affine(&a, M, 100, 50, &c);
    TAP_OK(!memcmp(a.px, c.px, (size_t)100 * 49 * 3), "identity warp copies the image");
    img_free(&c);
    int maxd_w = 0;
    img_rgb sm; /* smooth image: sub-pixel rounding differences stay within 1-2 levels */
    img_alloc(&sm, 100, 50);
    for (int y = 0; y < 50; y++)
        for (int x = 0; x < 100; x++)
            for (int ch = 0; ch < 3; ch++) sm.px[(y * 100 + x) * 3 + ch] = (uint8_t)(x + 2 * y + 40 * ch);
    for (int t = 0; t < 4; t++) { /* separable scale warp == general warp (+-1 rounding) */
        double S[6] = {0.5 + 0.37 * t, 0, -20.0 + 13 * t, 0, 0.6 + 0.29 * t, 7.0 - 9 * t};
        img_rgb g, f;
        aug_warp_affine(&sm, S, 90, 70, &g);
        aug_warp_scale(&sm, S, 90, 70, &f);
        for (int y = 0; y < 70; y++)
            for (int x = 0; x < 90; x++) {
                double sx = (x - S[2]) / S[0], sy = (y - S[5]) / S[3 + 1];
                if (sx < 1 || sy < 1 || sx > 98 || sy > 48) continue; /* pad blending differs by rounding */
                for (int ch = 0; ch < 3; ch++) {
                    int dd = abs(g.px[(y * 90 + x) * 3 + ch] - f.px[(y * 90 + x) * 3 + ch]);
                    maxd_w = dd > maxd_w ? dd : maxd_w;
                }
            }
        img_free(&g), img_free(&f);
    }
    img_free(&sm);
    TAP_OK(maxd_w <= 2, "separable scale warp matches the general warp (max diff %d)", maxd_w);
    img_rgb d = {0};
    img_alloc(&d, 4, 1);
    uint8_t cols[12] = {200, 30, 30, 30, 200, 30, 30, 30, 200, 90, 90, 90};
    memcpy(d.px, cols, 12);
    aug_hsv(&d, 1, 1, 1);
    int maxd = 0;
    for (int i = 0; i < 12; i++) maxd = abs(d.px[i] - cols[i]) > maxd ? abs(d.px[i] - cols[i]) : maxd;
    TAP_OK(maxd <= 2, "HSV with unit gains keeps colours (max diff %d)", maxd);
    aug_hsv(&d, 1, 1, 0.5f);
    TAP_OK(d.px[0] < 110 && d.px[9] < 50, "HSV value gain darkens");
    img_free(&a), img_free(&b), img_free(&d);
}

/* Both HSV paths against the bytes YOLOv5's augment_hsv gets from OpenCV
 * (tests/data/hsv_opencv.txt, made by make-hsv-fixture.py: 256 colours in one row,
 * 6 gain sets).  Before aug_hsv.c followed OpenCV's truncating vector path it
 * rounded, and about 70 % of these bytes were 1 higher. */
static void check_hsv_opencv(void)
{
    const char *top = getenv("TOP_SRCDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/hsv_opencv.txt", top ? top : "..");
    FILE *f = fopen(path, "r");
    TAP_OK(f != NULL, "OpenCV HSV fixture %s opens", path);
    if (!f) return;
    enum { NC = 256 };
    img_rgb vec, ref;
    img_alloc(&vec, NC, 1), img_alloc(&ref, NC, 1);
    uint8_t want[NC * 3];
    char line[256];
    int sets = 0, n = 0, bad_vec = 0, bad_ref = 0, malformed = 0;
    float g[3] = {0};
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        int in[3], out[3];
        if (sscanf(line, "%f %f %f %d %d %d %d %d %d", &g[0], &g[1], &g[2], &in[0], &in[1], &in[2], &out[0],
                   &out[1], &out[2]) != 9) {
            malformed++;
            continue;
        }
        for (int c = 0; c < 3; c++) vec.px[3 * n + c] = (uint8_t)in[c], want[3 * n + c] = (uint8_t)out[c];
        if (++n < NC) continue;
        memcpy(ref.px, vec.px, sizeof want);
        aug_hsv(&vec, g[0], g[1], g[2]);
        aug_hsv_ref(&ref, g[0], g[1], g[2]);
        for (int i = 0; i < NC * 3; i++) bad_vec += vec.px[i] != want[i], bad_ref += ref.px[i] != want[i];
        sets++, n = 0;
    }
    fclose(f);
    TAP_OK(sets == 6 && n == 0 && !malformed, "fixture: %d gain sets of %d colours (%d malformed lines)", sets, NC,
           malformed);
    TAP_EQ_INT(bad_vec, 0, "aug_hsv gives OpenCV's bytes (YOLOv5 augment_hsv) for all fixture colours and gains");
    TAP_EQ_INT(bad_ref, 0, "aug_hsv_ref gives OpenCV's bytes for all fixture colours and gains");
    img_free(&vec), img_free(&ref);
}

static void check_to_float(void)
{
    uint8_t px[2 * 3 * 2 * 2];
    for (int i = 0; i < 24; i++) px[i] = (uint8_t)(i * 11);
    data_batch b;
    memset(&b, 0, sizeof b);
    b.n = 2, b.h = 2, b.w = 2, b.images = px;
    float f[24];
    data_batch_to_float(&b, f);
    TAP_OK(f[0] == 0.0f && fabsf(f[23] - 253.0f / 255.0f) < 1e-6f && fabsf(f[5] - 55.0f / 255.0f) < 1e-6f,
           "batch images convert to float / 255");
}

static void check_cfg(void)
{
    cfg *c = NULL;
    loader_opts t, v;
    int ok = cfg_new(&c) == DY_OK && cfg_set(c, "data.rect=true") == DY_OK && cfg_set(c, "data.mosaic=0.25") == DY_OK;
    if (ok) {
        loader_opts_from_cfg(c, 1, &t);
        loader_opts_from_cfg(c, 0, &v);
    }
    TAP_OK(ok && t.train && !t.rect && v.rect && !v.train && t.imgsz == 640 && t.workers == 2 && t.batch == 64 && v.batch == 16,
           "data.* config keys feed the loader options (train: global train.batch_size; val)");
    TAP_OK(ok && fabsf(t.aug.hsv_h - 0.015f) < 1e-7f && fabsf(t.aug.hsv_s - 0.7f) < 1e-7f &&
               fabsf(t.aug.hsv_v - 0.4f) < 1e-7f && fabsf(t.aug.translate - 0.1f) < 1e-7f &&
               fabsf(t.aug.scale - 0.5f) < 1e-7f && fabsf(t.aug.fliplr - 0.5f) < 1e-7f && t.aug.degrees == 0 &&
               t.aug.shear == 0 && t.aug.perspective == 0 && t.aug.flipud == 0 && fabsf(t.aug.mosaic - 0.25f) < 1e-7f,
           "augmentation defaults are hyp.scratch-low; --set overrides them");
    cfg_free(c);
    /* One rule for the input size everywhere: a multiple of the stride 32 (an odd size
     * once made the mosaic 1 px larger than the loader's slot: a heap overflow). */
    c = NULL;
    ok = cfg_new(&c) == DY_OK;
    dy_status s65 = ok ? cfg_set(c, "data.imgsz=65") : DY_OK;
    TAP_OK(ok && s65 != DY_OK && strstr(err_msg(), "multiple of 32"), "data.imgsz=65 is refused: not a multiple of 32 (%s)",
           err_msg());
    TAP_OK(ok && cfg_set(c, "data.imgsz=96") == DY_OK, "data.imgsz=96 is accepted");
    cfg_free(c);
}

/* Augmenting at any size gives exactly that size (mosaic border -s/2 with odd s made
 * s+1), and the loader refuses a size that is not a multiple of the stride. */
static void check_odd_size(void)
{
    aug_params p;
    aug_params_default(&p);
    p.mosaic = 1;
    int ok = 1;
    for (int s = 63; s <= 65; s++) {
        aug_img src[4], out;
        for (int k = 0; k < 4; k++) make_source(&src[k], k);
        rng_stream r;
        int64_t part[3];
        int ns = aug_plan(&r, 5, 0, 3, 100, &p, part);
        ok &= ns == 4 && aug_train(src, ns, &r, &p, s, &out) == DY_OK && out.im.w == s && out.im.h == s;
        if (!ok) tap_diag("s=%d: nsrc %d, output %dx%d", s, ns, out.im.w, out.im.h);
        aug_img_free(&out);
        for (int k = 0; k < 4; k++) aug_img_free(&src[k]);
    }
    TAP_OK(ok, "a mosaic at 63, 64 and 65 px is exactly that size");
    loader_opts o;
    loader_opts_default(&o);
    o.imgsz = 65;
    data_loader *l = NULL;
    const char *path = "/nonexistent.h5";
    dy_status st = loader_open(&l, &path, 1, &o, MPI_COMM_SELF);
    TAP_OK(st != DY_OK && strstr(err_msg(), "multiple of"), "loader_open refuses imgsz 65 before opening anything (%s)",
           err_msg());
}

/* img_decode gives libjpeg's default decode (accurate DCT, fancy upsampling): the
 * pixels OpenCV and PIL give Ultralytics for the same file.  The fast DCT with plain
 * upsampling, used before, differs on this image (so the check can fail) and cost
 * mAP on grayscale data (benchmarks/quality.md). */
static void check_decode_defaults(void)
{
    const int samp[3] = {TJSAMP_420, TJSAMP_422, TJSAMP_GRAY}, W = 161, H = 97;
    uint8_t *px = malloc((size_t)W * H * 3), *ref = malloc((size_t)W * H * 3), *fast = malloc((size_t)W * H * 3);
    uint32_t z = 777;
    for (int i = 0; i < W * H * 3; i++) {
        z = z * 1664525u + 1013904223u;
        px[i] = (uint8_t)((i / 3 % W) * 3 / 2 + (i % 3) * 50 + (z >> 27));
    }
    int same = 0, fast_differs = 0;
    for (int k = 0; k < 3; k++) {
        tjhandle c = tjInitCompress(), d = tjInitDecompress();
        unsigned char *jb = NULL;
        unsigned long jl = 0;
        img_rgb im = {0};
        if (!tjCompress2(c, px, W, 0, H, TJPF_RGB, &jb, &jl, samp[k], 85, 0) &&
            !tjDecompress2(d, jb, jl, ref, W, 0, H, TJPF_RGB, 0) &&
            !tjDecompress2(d, jb, jl, fast, W, 0, H, TJPF_RGB, TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE) &&
            img_decode(jb, jl, &im, "defaults") == DY_OK && im.w == W && im.h == H) {
            same += !memcmp(im.px, ref, (size_t)W * H * 3);
            fast_differs += memcmp(fast, ref, (size_t)W * H * 3) != 0;
        }
        img_free(&im);
        tjFree(jb);
        tjDestroy(c), tjDestroy(d);
    }
    free(px), free(ref), free(fast);
    TAP_EQ_INT(same, 3, "img_decode equals libjpeg's default decode (4:2:0, 4:2:2, grey)");
    TAP_EQ_INT(fast_differs, 3, "the fast DCT + plain upsampling decode differs from it on the same files");
}

/* A region decode (libjpeg crop + skip) gives the full decode's bytes inside its
 * rectangle, for every chroma subsampling TurboJPEG writes and odd image sizes. */
static void check_decode_region(void)
{
    const int samp[5] = {TJSAMP_444, TJSAMP_422, TJSAMP_420, TJSAMP_440, TJSAMP_GRAY}, W = 333, H = 250;
    uint8_t *px = malloc((size_t)W * H * 3);
    uint32_t z = 12345;
    for (int i = 0; i < W * H * 3; i++) {
        z = z * 1664525u + 1013904223u;
        px[i] = (uint8_t)((i / 3 % W) / 2 + (i / 3 / W) / 3 + (i % 3) * 40 + (z >> 28));
    }
    int bad = 0, rects = 0, fell = 0;
    for (int k = 0; k < 5; k++) {
        tjhandle tj = tjInitCompress();
        unsigned char *jb = NULL;
        unsigned long jl = 0;
        if (tjCompress2(tj, px, W, 0, H, TJPF_RGB, &jb, &jl, samp[k], 90, 0)) bad++;
        tjDestroy(tj);
        img_rgb full = {0};
        if (img_decode(jb, jl, &full, "full") != DY_OK) bad++;
        for (int t = 0; t < 12 && full.px; t++) {
            z = z * 1664525u + 1013904223u;
            int x0 = (int)(z >> 8) % W, y0 = (int)(z >> 20) % H;
            int r[4] = {x0, y0, x0 + 1 + (int)(z % 97), y0 + 1 + (int)((z >> 4) % 83)};
            if (t == 0) r[0] = r[1] = 0, r[2] = W, r[3] = H;
            if (r[2] > W) r[2] = W;
            if (r[3] > H) r[3] = H;
            img_rgb part = {0};
            if (img_decode_region(jb, jl, W, H, r, &part, "part") != DY_OK) {
                bad++;
                continue;
            }
            rects++;
            for (int y = r[1]; y < r[3]; y++)
                bad += memcmp(part.px + ((size_t)y * W + r[0]) * 3, full.px + ((size_t)y * W + r[0]) * 3,
                              (size_t)(r[2] - r[0]) * 3) != 0;
            img_free(&part);
        }
        img_rgb other = {0}; /* a wrong recorded size falls back to the full decode */
        int r[4] = {0, 0, 10, 10};
        fell += img_decode_region(jb, jl, W + 1, H, r, &other, "size") == DY_OK && other.w == W && full.px &&
                !memcmp(other.px, full.px, (size_t)W * H * 3);
        img_free(&other), img_free(&full);
        tjFree(jb);
    }
    free(px);
    TAP_OK(bad == 0 && rects == 60, "region decode equals the full decode inside %d rectangles (444/422/420/440/grey)",
           rects);
    TAP_EQ_INT(fell, 5, "region decode with a wrong recorded size falls back to the full decode");
}

/* The fast HSV path (AVX2 where the CPU has it) gives the bytes of the portable one
 * for every RGB colour: default-range gains (float-lane LUTs) and gains that take
 * the gather fallbacks (negative or large hue gain, saturating S and V). */
static void check_hsv_exact(void)
{
    const float g[5][3] = {{1.013f, 1.61f, 0.71f}, {0.986f, 0.31f, 1.39f}, {-0.4f, 2.7f, 0.05f}, {2.6f, 0.0f, 3.0f},
                           {1, 1, 1}};
    img_rgb a, b;
    img_alloc(&a, 4096, 4096 + 1); /* every colour, plus one row that leaves a scalar tail */
    img_alloc(&b, 4096, 4096 + 1);
    for (size_t i = 0; i < (size_t)4096 * 4097; i++)
        a.px[3 * i] = (uint8_t)(i >> 16), a.px[3 * i + 1] = (uint8_t)(i >> 8), a.px[3 * i + 2] = (uint8_t)i;
    int bad = 0;
    for (int k = 0; k < 5; k++) {
        memcpy(b.px, a.px, (size_t)4096 * 4097 * 3);
        aug_hsv(&b, g[k][0], g[k][1], g[k][2]);
        img_rgb r = a;
        r.px = malloc((size_t)4096 * 4097 * 3);
        memcpy(r.px, a.px, (size_t)4096 * 4097 * 3);
        aug_hsv_ref(&r, g[k][0], g[k][1], g[k][2]);
        bad += memcmp(b.px, r.px, (size_t)4096 * 4097 * 3) != 0;
        free(r.px);
    }
    TAP_EQ_INT(bad, 0, "aug_hsv equals the scalar aug_hsv_ref on all 2^24 colours for 5 gain sets");
    uint8_t *c = malloc((size_t)4096 * 4097 * 3);
    a.h = 37, a.w = 13; /* odd size: vector body and scalar tail */
    aug_to_chw(&a, c);
    int ok = 1;
    for (int i = 0; i < 13 * 37; i++)
        for (int ch = 0; ch < 3; ch++) ok &= c[ch * 13 * 37 + i] == a.px[3 * i + ch];
    TAP_OK(ok, "aug_to_chw splits interleaved RGB into planes");
    free(c), img_free(&a), img_free(&b);
}

/* Exact area integral of one channel over destination pixel (x, y): the oracle for
 * img_resize_area, computed independently in doubles. */
static double area_ref(const img_rgb *a, int w, int h, int x, int y, int c)
{
    double sx = (double)a->w / w, sy = (double)a->h / h, acc = 0;
    for (int j = 0; j < a->h; j++) {
        double oy = fmin(j + 1, (y + 1) * sy) - fmax(j, y * sy);
        if (oy <= 0) continue;
        for (int i = 0; i < a->w; i++) {
            double ox = fmin(i + 1, (x + 1) * sx) - fmax(i, x * sx);
            if (ox > 0) acc += ox * oy * a->px[((size_t)j * a->w + i) * 3 + c];
        }
    }
    return acc / (sx * sy);
}

/* Validation loads shrink as cv2.INTER_AREA (YOLOv5's load_image without
 * augmentation): every output pixel the mean of the area it covers, so 1-px detail
 * averages out where bilinear (4 taps) aliases it.  Before this, dyolo resized
 * validation images bilinearly. */
static void check_area_resize(void)
{
    img_rgb a, b, c;
    uint32_t z = 99;
    img_alloc(&a, 37, 23);
    for (size_t i = 0; i < (size_t)37 * 23 * 3; i++) a.px[i] = (uint8_t)((z = z * 1664525u + 1013904223u) >> 24);
    const int sz[4][2] = {{16, 9}, {30, 20}, {5, 23}, {1, 1}};
    double worst = 0;
    for (int t = 0; t < 4; t++) {
        int w = sz[t][0], h = sz[t][1];
        img_resize_area(&a, w, h, &b);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < 3; ch++)
                    worst = fmax(worst, fabs(b.px[((size_t)y * w + x) * 3 + ch] - area_ref(&a, w, h, x, y, ch)));
        img_free(&b);
    }
    TAP_OK(worst <= 0.5 + 1e-3, "area resize is the area mean to the rounding (worst %.3f levels)", worst);
    img_free(&a);
    img_alloc(&a, 64, 30); /* exact 2x: both are the 2x2 mean, (sum + 2) >> 2 */
    for (size_t i = 0; i < (size_t)64 * 30 * 3; i++) a.px[i] = (uint8_t)((z = z * 1664525u + 1013904223u) >> 24);
    img_resize_area(&a, 32, 15, &b);
    img_resize(&a, 32, 15, &c);
    TAP_OK(!memcmp(b.px, c.px, (size_t)32 * 15 * 3), "at exactly half size area and bilinear agree");
    img_free(&b), img_free(&c), img_free(&a);
    img_alloc(&a, 300, 4); /* 1-px stripes shrunk 4.29x: area greys them, bilinear aliases */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 300; x++) memset(a.px + ((size_t)y * 300 + x) * 3, x % 2 ? 255 : 0, 3);
    img_resize_area(&a, 70, 1, &b);
    img_resize(&a, 70, 1, &c);
    int dev_area = 0, dev_lin = 0;
    for (int x = 0; x < 70; x++) {
        dev_area = abs(b.px[3 * x] - 128) > dev_area ? abs(b.px[3 * x] - 128) : dev_area;
        dev_lin = abs(c.px[3 * x] - 128) > dev_lin ? abs(c.px[3 * x] - 128) : dev_lin;
    }
    TAP_OK(dev_area <= 30 && dev_lin >= 60, "stripes: area output within %d of grey, bilinear %d", dev_area, dev_lin);
    img_free(&b), img_free(&c), img_free(&a);
}

/* aug_load / aug_load_val size an image as YOLOv5's load_image, ceil(w0 * r) x
 * ceil(h0 * r) in doubles (615 x 461 at 320 px: 321 x 240, not the rounded 320 x
 * 240), and validation uses the area resize. */
static void check_load_sizes(void)
{
    img_rgb im, want;
    img_alloc(&im, 615, 461);
    for (int y = 0; y < 461; y++)
        for (int x = 0; x < 615; x++)
            for (int ch = 0; ch < 3; ch++) im.px[((size_t)y * 615 + x) * 3 + ch] = (uint8_t)((x * 7 + y * 3 + ch * 60) & 255);
    uint8_t *jpg = NULL;
    size_t len = 0;
    img_encode_jpeg(&im, 90, &jpg, &len);
    img_free(&im);
    const float box[4] = {0.5f, 0.5f, 0.2f, 0.3f};
    const int32_t cls = 0;
    const uint8_t fl = 0;
    shard_sample m = {.orig_w = 615, .orig_h = 461, .lb = {1, 0, 0}, .nbox = 1, .box = box, .cls = &cls, .flags = &fl,
                      .payload_len = len};
    aug_img tr = {0}, va = {0};
    int ok = aug_load(jpg, len, 0, 0, &m, 320, &tr, "train") == DY_OK && aug_load_val(jpg, len, 0, 0, &m, 320, &va, "val") == DY_OK;
    TAP_OK(ok && tr.im.w == 321 && tr.im.h == 240 && va.im.w == 321 && va.im.h == 240,
           "615x461 loads at 320 px as 321x240, as YOLOv5 (train %dx%d, val %dx%d)", tr.im.w, tr.im.h, va.im.w, va.im.h);
    img_decode(jpg, len, &im, "orig");
    img_resize_area(&im, 321, 240, &want);
    TAP_OK(ok && va.im.w == 321 && va.im.h == 240 && !memcmp(va.im.px, want.px, (size_t)321 * 240 * 3),
           "validation loads are area-resized");
    img_free(&want);
    img_resize(&im, 321, 240, &want);
    TAP_OK(ok && tr.im.w == 321 && tr.im.h == 240 && !memcmp(tr.im.px, want.px, (size_t)321 * 240 * 3),
           "training loads stay bilinear (as YOLOv5 with augmentation)");
    TAP_OK(ok && fabsf(va.box[0].x0 - 0.4f * 321) < 1e-3f && fabsf(va.box[0].y1 - 0.65f * 240) < 1e-3f,
           "boxes follow the loaded size (x0 %.2f, y1 %.2f)", ok ? va.box[0].x0 : 0, ok ? va.box[0].y1 : 0);
    img_free(&want), img_free(&im), free(jpg);
    aug_img_free(&tr), aug_img_free(&va);
}

int main(void)
{
    train_config_register_all(); /* the library's config sections */
    check_to_float();
    check_cfg();
    for (int w = 1; w <= 4; w++)
        for (int e = 0; e < 3; e++) {
            check_cover(37, w, 4, 1, e);
            check_cover(37, w, 4, 0, e);
        }
    check_cover(5, 4, 3, 1, 0); /* global batch larger than the dataset */
    check_cover(48, 3, 4, 1, 1); /* divides evenly: no padding */
    check_world_independence();
    check_boxes_on_objects(0, 0, 0.85, 0.95);
    check_boxes_on_objects(10, 5, 0.2, 0.75);
    check_determinism();
    check_odd_size();
    check_image_ops();
    check_hsv_exact();
    check_hsv_opencv();
    check_decode_defaults();
    check_decode_region();
    check_area_resize();
    check_load_sizes();
    return tap_done();
}
