/* test_plots.c -- the run directory's plots: the confusion matrix on a hand-made
 * case (every rule of YOLOv5's ConfusionMatrix), a rendered batch decoded back with
 * libjpeg-turbo (box outlines in the class colour where the labels say, background
 * elsewhere, in the right tile), and labels.jpg / results panels / the heat map as
 * readable images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "data/image.h"
#include "eval/confusion.h"
#include "eval/plot.h"
#include "eval/plot_batch.h"
#include "eval/plot_labels.h"
#include "tests/tap.h"

static void gt(eval_set *s, int64_t img, int cls, double x, double y, double w, double h, int crowd)
{
    static int64_t ann = 0;
    eval_gt g = {.image_id = img, .ann_id = ++ann, .category = cls, .x = x, .y = y, .w = w, .h = h,
                 .area = w * h, .iscrowd = crowd};
    eval_set_add_gt(s, &g);
}

static void dt(eval_set *s, int64_t img, int cls, double score, double x, double y, double w, double h)
{
    eval_dt d = {.image_id = img, .category = cls, .x = x, .y = y, .w = w, .h = h, .score = score};
    eval_set_add_dt(s, &d);
}

static void test_confusion(void)
{
    eval_set s;
    eval_set_init(&s, 2);
    /* image 4 first: the grouping must not depend on the order of the set */
    gt(&s, 4, 0, 0, 0, 10, 10, 0);
    dt(&s, 4, 1, 0.6, 0, 0, 10, 10); /* IoU 1: the gt's best match, though of class 1 */
    dt(&s, 4, 0, 0.7, 0, 2, 10, 10); /* IoU 0.67, left over: a background FP */
    gt(&s, 1, 0, 0, 0, 10, 10, 0);
    gt(&s, 1, 1, 20, 20, 10, 10, 0);
    dt(&s, 1, 0, 0.9, 0, 0, 10, 10);   /* correct */
    dt(&s, 1, 0, 0.8, 20, 20, 10, 10); /* class 1 predicted as 0 */
    dt(&s, 1, 1, 0.1, 0, 0, 10, 10);   /* under conf 0.25: ignored */
    dt(&s, 1, 1, 0.5, 50, 50, 10, 10); /* nothing there: background FP */
    dt(&s, 1, 1, 0.25, 50, 50, 10, 10); /* exactly 0.25: YOLOv5 keeps conf > 0.25 only */
    gt(&s, 2, 1, 0, 0, 10, 10, 0);     /* missed: background FN */
    dt(&s, 3, 0, 0.9, 0, 0, 10, 10);   /* no gt, nothing matched: v7.0 counts nothing */
    gt(&s, 5, 0, 0, 0, 10, 10, 1);     /* crowd: left out */
    gt(&s, 6, 0, 0, 0, 10, 10, 0);
    gt(&s, 6, 0, 1, 0, 10, 10, 0);
    dt(&s, 6, 0, 0.9, 0, 0, 10, 10); /* matches the first gt (IoU 1); the second is missed */
    dt(&s, 6, 0, 0.9, 0, 0, 10, 3);  /* IoU 0.3 with both: unmatched, a background FP */
    confusion_matrix c;
    TAP_OK(confusion_init(&c, 2) == DY_OK, "confusion_init");
    TAP_OK(confusion_from_set(&c, &s, CONFUSION_CONF, CONFUSION_IOU) == DY_OK, "confusion_from_set");
    /* rows predicted, columns true; 2 = background */
    static const double want[3][3] = {{2, 1, 2}, {1, 0, 1}, {1, 1, 0}};
    int same = 1;
    for (int p = 0; p < 3; p++)
        for (int t = 0; t < 3; t++) same &= c.m[p * 3 + t] == want[p][t];
    if (!TAP_OK(same, "confusion matrix equals the hand count"))
        for (int p = 0; p < 3; p++) tap_diag("row %d: %g %g %g", p, c.m[p * 3], c.m[p * 3 + 1], c.m[p * 3 + 2]);
    char path[] = "/tmp/dyolo-cm-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    const char *names[] = {"cat", "dog"};
    TAP_OK(fd >= 0 && confusion_write_png(&c, names, path) == DY_OK, "confusion_write_png");
    char *buf = NULL;
    size_t len = 0;
    img_rgb im = {0};
    int ok = fs_read_file(path, "png", &buf, &len) == DY_OK && img_decode((uint8_t *)buf, len, &im, path) == DY_OK;
    TAP_OK(ok && im.w >= 200 && im.h >= 200, "the heat map is a readable PNG (%d x %d)", im.w, im.h);
    img_free(&im), free(buf), remove(path);
    confusion_free(&c);
    eval_set_free(&s);
}

static int dist2(const uint8_t *a, const uint8_t *b)
{
    int d = 0;
    for (int i = 0; i < 3; i++) d += (a[i] - b[i]) * (a[i] - b[i]);
    return d;
}

/* The pixel at (x, y) is nearer the class colour than the grey background. */
static int is_col(const img_rgb *im, int x, int y, const uint8_t *col)
{
    static const uint8_t grey[3] = {114, 114, 114};
    const uint8_t *p = im->px + ((size_t)y * im->w + x) * 3;
    return dist2(p, col) < dist2(p, grey);
}

static int is_grey(const img_rgb *im, int x, int y)
{
    static const uint8_t grey[3] = {114, 114, 114};
    return dist2(im->px + ((size_t)y * im->w + x) * 3, grey) < 3 * 20 * 20;
}

static void test_batch(void)
{
    enum { N = 2, H = 64, W = 96 };
    uint8_t *img = malloc(N * 3 * H * W);
    memset(img, 114, N * 3 * H * W);
    /* image 0: class 0 (red); image 1: class 2 (orange), in the second tile */
    plot_box b[2] = {{0, 0, 10, 20, 50, 50, -1}, {1, 2, 20, 10, 80, 40, -1}};
    char path[] = "/tmp/dyolo-batch-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    const char *names[] = {"cat", "dog", "cow"};
    TAP_OK(fd >= 0 && plot_batch_jpeg(path, img, N, H, W, b, 2, names, 3) == DY_OK, "plot_batch_jpeg");
    char *buf = NULL;
    size_t len = 0;
    img_rgb im = {0};
    int ok = fs_read_file(path, "jpeg", &buf, &len) == DY_OK && len > 2 && (uint8_t)buf[0] == 0xFF &&
             (uint8_t)buf[1] == 0xD8 && img_decode((uint8_t *)buf, len, &im, path) == DY_OK;
    TAP_OK(ok, "the batch is a JPEG libjpeg-turbo decodes");
    if (!ok) return;
    /* 2 images -> a 2 x 2 grid of 96 x 64 tiles at scale 1 */
    TAP_OK(im.w == 2 * W && im.h == 2 * H, "grid of 2 x 2 tiles (%d x %d)", im.w, im.h);
    const uint8_t *red = plot_class_color(0), *orange = plot_class_color(2);
    TAP_OK(is_col(&im, 10, 35, red) && is_col(&im, 50, 35, red) && is_col(&im, 30, 50, red) &&
               is_col(&im, 45, 20, red),
           "image 0: left, right, bottom and top edges of its label box are red");
    TAP_OK(is_grey(&im, 30, 35) && is_grey(&im, 70, 35) && is_grey(&im, 30, 58) && is_grey(&im, 4, 40),
           "image 0: inside and around the box stays background");
    int ox = W;
    TAP_OK(is_col(&im, ox + 20, 25, orange) && is_col(&im, ox + 80, 25, orange) && is_col(&im, ox + 50, 40, orange) &&
               is_col(&im, ox + 70, 10, orange),
           "image 1: its box is orange in the second tile");
    TAP_OK(is_grey(&im, 20, 25) && is_grey(&im, 80, 25) && is_grey(&im, ox + 50, 25),
           "image 1's box is not drawn in tile 0, nor filled");
    /* the label: a filled box in the class colour just above the top-left corner */
    TAP_OK(is_col(&im, 11, 12, red) || is_col(&im, 12, 12, red), "the class name's label sits above the box");
    img_free(&im), free(buf), remove(path), free(img);
}

static void test_labels_and_panels(void)
{
    int32_t cls[300];
    float box[1200];
    for (int i = 0; i < 300; i++) {
        cls[i] = i % 3;
        box[4 * i] = (float)(i % 17) / 17.f, box[4 * i + 1] = (float)(i % 13) / 13.f;
        box[4 * i + 2] = 0.1f + (float)(i % 5) / 10.f, box[4 * i + 3] = 0.05f + (float)(i % 7) / 10.f;
    }
    const char *names[] = {"cat", "dog", "cow"};
    char path[] = "/tmp/dyolo-labels-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    TAP_OK(fd >= 0 && plot_labels_jpeg(path, cls, box, 300, names, 3) == DY_OK, "plot_labels_jpeg");
    char *buf = NULL;
    size_t len = 0;
    img_rgb im = {0};
    TAP_OK(fs_read_file(path, "jpeg", &buf, &len) == DY_OK && img_decode((uint8_t *)buf, len, &im, path) == DY_OK &&
               im.w == 800 && im.h == 800,
           "labels.jpg decodes (800 x 800)");
    /* class bars: class 0's bar (100 of 300, all equal: full height) in its colour */
    if (im.px) TAP_OK(is_col(&im, 50 + 20, 50 + 150, plot_class_color(0)), "the class-0 bar is drawn");
    img_free(&im), free(buf), remove(path);

    plot_canvas cv;
    TAP_OK(plot_canvas_init(&cv, 300, 200) == DY_OK, "canvas");
    double xs[3] = {0, 1, 2}, ys[3] = {NAN, 0.5, 0.25}, none[3] = {NAN, NAN, NAN};
    plot_panel(&cv, 0, 0, 150, 200, "train/box_loss", xs, ys, 3);
    plot_panel(&cv, 150, 0, 150, 200, "val/box_loss", xs, none, 3);
    long blue = 0;
    for (size_t i = 0; i < (size_t)cv.w * cv.h; i++) blue += cv.px[3 * i] == 31 && cv.px[3 * i + 2] == 180;
    TAP_OK(blue > 20, "a panel draws its series (%ld line pixels)", blue);
    long right = 0;
    for (int y = 0; y < cv.h; y++)
        for (int x = 150; x < cv.w; x++) right += cv.px[3 * ((size_t)y * cv.w + x)] == 31;
    TAP_EQ_INT(right, 0, "an all-NaN series draws no line");
    strcpy(path, "/tmp/dyolo-panel-XXXXXX");
    fd = mkstemp(path);
    if (fd >= 0) close(fd);
    TAP_OK(fd >= 0 && plot_write_png(path, &cv) == DY_OK, "plot_write_png");
    remove(path);
    TAP_OK(plot_write_jpeg("/nonexistent-dir/x.jpg", &cv, 90) != DY_OK && strstr(err_msg(), "/nonexistent-dir/x.jpg"),
           "a failed write is an error naming the file");
    plot_canvas_free(&cv);
}

int main(void)
{
    test_confusion();
    test_batch();
    test_labels_and_panels();
    return tap_done();
}
