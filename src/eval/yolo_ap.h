/* yolo_ap.h -- the `yolo` mAP protocol: YOLOv5's validation metric (v7.0
 * val.py process_batch + utils/metrics.py ap_per_class): greedy matching at 10 IoU
 * thresholds, per-class AP by 101-point interpolation of the precision envelope
 * integrated with the trapezoid rule (so a perfect detector scores 0.995, as in
 * YOLOv5), precision/recall/F1 at the confidence that maximizes the smoothed mean F1.
 * Crowd ground truth is left out (Ultralytics' COCO labels exclude it).
 * defines: yolo_ap_result, yolo_ap_run, yolo_ap_free */
#ifndef DY_EVAL_YOLO_AP_H
#define DY_EVAL_YOLO_AP_H

#include "eval/eval_set.h"

typedef struct {
    int ncat;
    double mp, mr, map50, map; /* means over classes that have labels */
    double best_conf;          /* confidence at the max of the smoothed mean F1 */
    double *ap50, *ap;         /* [ncat]; 0 for classes without labels */
    double *p, *r, *f1;        /* [ncat] at best_conf */
    int *nlabels;              /* [ncat] */
    double *pr_curve;          /* [ncat][YOLO_AP_NPR] precision envelope at recall
                                  0, 0.01, ..., 1 for IoU 0.5 (for plots) */
} yolo_ap_result;

#define YOLO_AP_NPR 101

dy_status yolo_ap_run(const eval_set *s, yolo_ap_result *r);
void yolo_ap_free(yolo_ap_result *r);

#endif
