/* report.h -- what a validation run tells its user: a per-class table on the
 * terminal (YOLOv5's columns plus COCO AP), a JSON report, and the precision-recall
 * curve as a PNG.
 * defines: eval_report, eval_report_print, eval_report_write_json, eval_report_write_pr_png */
#ifndef DY_EVAL_REPORT_H
#define DY_EVAL_REPORT_H

#include <stdio.h>

#include "eval/coco_eval.h"
#include "eval/yolo_ap.h"

typedef struct {
    const char *const *names; /* [ncat] class names (NULL: class<i>) */
    int nimages;
    const coco_eval_result *coco; /* may be NULL */
    const yolo_ap_result *yolo;   /* required */
    const char *protocol;         /* "coco" or "yolo": which mAP is the headline */
} eval_report;

void eval_report_print(FILE *f, const eval_report *r);
dy_status eval_report_write_json(const eval_report *r, const char *path);
dy_status eval_report_write_pr_png(const eval_report *r, const char *path);
/* The headline numbers of the chosen protocol. */
void eval_report_headline(const eval_report *r, double *map50, double *map50_95);

#endif
