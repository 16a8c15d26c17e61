/* test_nms.c -- NMS semantics: confidence = obj x cls, class-aware suppression,
 * thresholds, multi-label, max_det, and the letterbox inverse. */
#include <stdlib.h>

#include "eval/nms.h"
#include "tests/tap.h"

#define NC 3

static void row(float *r, float cx, float cy, float w, float h, float obj, int cls, float p)
{
    r[0] = cx, r[1] = cy, r[2] = w, r[3] = h, r[4] = obj;
    for (int k = 0; k < NC; k++) r[5 + k] = 0.01f;
    r[5 + cls] = p;
}

int main(void)
{
    float pred[6][5 + NC];
    row(pred[0], 50, 50, 20, 20, 0.9f, 0, 0.9f);   /* best of a cluster */
    row(pred[1], 52, 50, 20, 20, 0.8f, 0, 0.9f);   /* overlaps [0], same class: suppressed */
    row(pred[2], 52, 50, 20, 20, 0.8f, 1, 0.9f);   /* same place, other class: kept */
    row(pred[3], 150, 150, 30, 30, 0.5f, 2, 0.5f); /* conf 0.25: kept at 0.2, not at 0.3 */
    row(pred[4], 300, 300, 10, 10, 0.0005f, 0, 1); /* below the validation threshold */
    row(pred[5], 80, 50, 20, 20, 0.7f, 0, 0.9f);   /* same class, far away: kept */
    nms_ctx ctx = {0};
    nms_box out[16];
    int n = 0;
    nms_params p = NMS_DETECT_DEFAULTS;
    p.conf_thres = 0.2f;
    TAP_EQ_INT(nms_image(&ctx, &pred[0][0], 6, NC, &p, out, &n), DY_OK, "nms runs");
    TAP_EQ_INT(n, 4, "same-class overlap suppressed, other class and distant box kept");
    TAP_NEAR(out[0].score, 0.81, 1e-6, "score is objectness x class probability, sorted");
    TAP_OK(out[0].cls == 0 && out[0].x1 == 40 && out[0].y2 == 60, "box converted to corners");
    int has_cls1 = 0, has_far = 0;
    for (int i = 0; i < n; i++) has_cls1 |= out[i].cls == 1, has_far |= out[i].x1 == 70;
    TAP_OK(has_cls1 && has_far, "class-aware: class 1 box at the same place survives");
    p.conf_thres = 0.3f;
    nms_image(&ctx, &pred[0][0], 6, NC, &p, out, &n);
    TAP_EQ_INT(n, 3, "confidence threshold applies to obj x cls");
    p.max_det = 2;
    nms_image(&ctx, &pred[0][0], 6, NC, &p, out, &n);
    TAP_EQ_INT(n, 2, "max_det caps the output");

    /* multi-label: one row with two classes above threshold gives two candidates */
    float ml[1][5 + NC];
    row(ml[0], 50, 50, 20, 20, 0.9f, 0, 0.6f);
    ml[0][5 + 1] = 0.5f;
    nms_params v = NMS_VAL_DEFAULTS;
    nms_image(&ctx, &ml[0][0], 1, NC, &v, out, &n);
    TAP_EQ_INT(n, 3, "multi-label: every class above conf 0.001 becomes a box");
    p = NMS_DETECT_DEFAULTS;
    nms_image(&ctx, &ml[0][0], 1, NC, &p, out, &n);
    TAP_EQ_INT(n, 1, "single-label: best class only");

    /* Letterbox: a 200x100 image scaled by 0.5 into 128x128 (pad_y 39). */
    nms_box b = {10, 49, 60, 79, 1, 0};
    nms_unletterbox(&b, 1, 0.5f, 0.5f, 0, 39, 200, 100);
    TAP_OK(b.x1 == 20 && b.y1 == 20 && b.x2 == 120 && b.y2 == 80, "unletterbox maps to original pixels");
    nms_box c = {-5, 30, 500, 300, 1, 0};
    nms_unletterbox(&c, 1, 0.5f, 0.5f, 0, 39, 200, 100);
    TAP_OK(c.x1 == 0 && c.y1 == 0 && c.x2 == 200 && c.y2 == 100, "unletterbox clips to the image");

    /* A large random set: the output must be sorted and no two kept boxes of one class
     * may overlap above the IoU threshold. */
    enum { NA = 3000 };
    float *big = malloc(sizeof(float) * NA * (5 + NC));
    unsigned s = 1;
    for (int i = 0; i < NA; i++) {
        s = s * 1103515245u + 12345u;
        float cx = (float)(s % 600), cy = (float)((s / 600) % 600);
        row(big + i * (5 + NC), cx, cy, 40, 40, (float)(s % 1000) / 1000.0f, (int)(s % NC), 0.9f);
    }
    nms_box *ob = malloc(sizeof *ob * 300);
    v = NMS_VAL_DEFAULTS;
    v.multi_label = 0;
    nms_image(&ctx, big, NA, NC, &v, ob, &n);
    int sorted = 1, overlap = 0;
    for (int i = 0; i < n; i++) {
        if (i && ob[i].score > ob[i - 1].score) sorted = 0;
        for (int j = 0; j < i; j++) {
            if (ob[i].cls != ob[j].cls) continue;
            float iw = (ob[i].x2 < ob[j].x2 ? ob[i].x2 : ob[j].x2) - (ob[i].x1 > ob[j].x1 ? ob[i].x1 : ob[j].x1);
            float ih = (ob[i].y2 < ob[j].y2 ? ob[i].y2 : ob[j].y2) - (ob[i].y1 > ob[j].y1 ? ob[i].y1 : ob[j].y1);
            if (iw > 0 && ih > 0 && iw * ih / (2 * 1600 - iw * ih) > 0.6f + 1e-6f) overlap = 1;
        }
    }
    TAP_OK(n > 0 && n <= 300, "random set: 1..300 boxes");
    TAP_OK(sorted, "random set: sorted by score");
    TAP_OK(!overlap, "random set: no kept same-class pair above the IoU threshold");
    free(big);
    free(ob);
    nms_ctx_free(&ctx);
    return tap_done();
}
