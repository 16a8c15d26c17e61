/* coco_eval.h -- the `coco` mAP protocol: a faithful re-implementation of
 * pycocotools' COCOeval for bounding boxes (evaluate + accumulate + summarize):
 * 10 IoU thresholds 0.50:0.05:0.95, 101 recall points, maxDets 1/10/100, area ranges
 * all/small/medium/large, crowd handling, stable score ordering — so numbers agree
 * with pycocotools to floating-point rounding (tested to 1e-4, in practice ~1e-12).
 *
 * defines: coco_eval_result, coco_eval_run, coco_eval_free, COCO_STAT_* indices
 */
#ifndef DY_EVAL_COCO_EVAL_H
#define DY_EVAL_COCO_EVAL_H

#include "eval/eval_set.h"

enum {
    COCO_STAT_AP = 0, COCO_STAT_AP50, COCO_STAT_AP75, COCO_STAT_APS, COCO_STAT_APM, COCO_STAT_APL,
    COCO_STAT_AR1, COCO_STAT_AR10, COCO_STAT_AR100, COCO_STAT_ARS, COCO_STAT_ARM, COCO_STAT_ARL,
    COCO_NSTATS
};

typedef struct {
    double stats[COCO_NSTATS]; /* pycocotools' summarize() order; -1 where undefined */
    int ncat;
    double *class_ap;   /* [ncat] AP@[.5:.95], area all, maxDets 100; -1 if no ground truth */
    double *class_ap50; /* [ncat] AP@.5 */
    int *class_ngt;     /* [ncat] non-crowd ground-truth boxes */
} coco_eval_result;

dy_status coco_eval_run(const eval_set *s, coco_eval_result *r);
void coco_eval_free(coco_eval_result *r);

#endif
