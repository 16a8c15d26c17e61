/* test_yolo_ap.c -- the yolo protocol on small cases whose values were computed by
 * hand from YOLOv5's definition (101-point trapezoid over the precision envelope). */
#include <string.h>

#include "eval/yolo_ap.h"
#include "tests/tap.h"

static void gt(eval_set *s, int64_t img, int cls, double x, double y, double w, double h)
{
    eval_gt g = {.image_id = img, .ann_id = (int64_t)s->ngt + 1, .category = cls, .x = x, .y = y, .w = w, .h = h,
                 .area = w * h};
    eval_set_add_gt(s, &g);
}

static void dt(eval_set *s, int64_t img, int cls, double x, double y, double w, double h, double score)
{
    eval_dt d = {.image_id = img, .category = cls, .x = x, .y = y, .w = w, .h = h, .score = score};
    eval_set_add_dt(s, &d);
}

int main(void)
{
    eval_set s;
    yolo_ap_result r;

    /* Perfect detector: recall reaches 1, the envelope drops to 0 at recall 1, so
     * the trapezoid loses half of the last 0.01 interval: AP = 0.995. */
    eval_set_init(&s, 1);
    eval_set_add_image(&s, 1);
    gt(&s, 1, 0, 10, 10, 50, 50), gt(&s, 1, 0, 100, 100, 40, 40);
    dt(&s, 1, 0, 10, 10, 50, 50, 0.9), dt(&s, 1, 0, 100, 100, 40, 40, 0.8);
    yolo_ap_run(&s, &r);
    TAP_NEAR(r.map50, 0.995, 1e-9, "perfect detections: mAP50 = 0.995");
    TAP_NEAR(r.map, 0.995, 1e-9, "perfect detections: mAP50-95 = 0.995");
    TAP_NEAR(r.mp, 1.0, 1e-9, "perfect detections: precision 1");
    TAP_NEAR(r.mr, 1.0, 1e-9, "perfect detections: recall 1");
    yolo_ap_free(&r);
    eval_set_free(&s);

    /* TP, FP, TP: recall .5 .5 1, precision 1 .5 2/3. Envelope 1 up to recall .5
     * (exclusive), 2/3 from .5 to 1, 0 at 1:
     * AP = .49 + .01*(1+2/3)/2 + .49*(2/3) + .01*(2/3)/2 = 0.828333... */
    eval_set_init(&s, 1);
    eval_set_add_image(&s, 1);
    gt(&s, 1, 0, 10, 10, 50, 50), gt(&s, 1, 0, 100, 100, 40, 40);
    dt(&s, 1, 0, 10, 10, 50, 50, 0.9), dt(&s, 1, 0, 300, 300, 40, 40, 0.8), dt(&s, 1, 0, 100, 100, 40, 40, 0.7);
    yolo_ap_run(&s, &r);
    double want = 0.49 + 0.01 * (1 + 2.0 / 3) / 2 + 0.49 * (2.0 / 3) + 0.01 * (2.0 / 3) / 2;
    TAP_NEAR(r.map50, want, 1e-9, "TP FP TP: AP50 = 0.828333 (hand computed)");
    yolo_ap_free(&r);
    eval_set_free(&s);

    /* Two 50x50 boxes shifted by x overlap (50-x)*50, so IoU = (50-x)/(50+x);
     * x = 50*(1-0.62)/(1+0.62) gives IoU 0.62: a true positive at thresholds
     * .50 .55 .60 only, so mAP50-95 = 3/10 * 0.995. */
    eval_set_init(&s, 1);
    eval_set_add_image(&s, 1);
    gt(&s, 1, 0, 0, 0, 50, 50);
    double x = 50.0 * (1 - 0.62) / (1 + 0.62);
    dt(&s, 1, 0, x, 0, 50, 50, 0.9);
    yolo_ap_run(&s, &r);
    TAP_NEAR(r.map50, 0.995, 1e-9, "IoU 0.62: AP50 = 0.995");
    TAP_NEAR(r.map, 0.3 * 0.995, 1e-9, "IoU 0.62: matched at 3 of 10 thresholds");
    yolo_ap_free(&r);
    eval_set_free(&s);

    /* Duplicate: the higher-confidence detection takes the label, the other is a
     * false positive after the recall already reached 1: AP stays 0.995. */
    eval_set_init(&s, 2);
    eval_set_add_image(&s, 1);
    eval_set_add_image(&s, 2);
    gt(&s, 1, 0, 10, 10, 50, 50);
    dt(&s, 1, 0, 12, 10, 50, 50, 0.8), dt(&s, 1, 0, 10, 10, 50, 50, 0.9);
    /* class 1 has a label but no detection: its AP is 0 and counts in the mean */
    gt(&s, 2, 1, 10, 10, 50, 50);
    yolo_ap_run(&s, &r);
    TAP_NEAR(r.ap50[0], 0.995, 1e-9, "duplicate detection: AP50 of class 0 = 0.995");
    TAP_NEAR(r.ap50[1], 0.0, 1e-12, "class with labels but no detections: AP 0");
    TAP_NEAR(r.map50, 0.4975, 1e-9, "mean over classes with labels");
    TAP_EQ_INT(r.nlabels[1], 1, "label count");
    yolo_ap_free(&r);
    eval_set_free(&s);

    /* Crowd labels are left out entirely. */
    eval_set_init(&s, 1);
    eval_set_add_image(&s, 1);
    gt(&s, 1, 0, 10, 10, 50, 50);
    s.gt[0].iscrowd = 1;
    gt(&s, 1, 0, 100, 100, 50, 50);
    dt(&s, 1, 0, 100, 100, 50, 50, 0.9);
    yolo_ap_run(&s, &r);
    TAP_NEAR(r.map50, 0.995, 1e-9, "crowd label ignored: remaining label fully recalled");
    yolo_ap_free(&r);
    eval_set_free(&s);
    return tap_done();
}
