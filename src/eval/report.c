/* report.c -- implementation of report.h. */
#include "eval/report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eval/plot.h"

static const char *cname(const eval_report *r, int k, char *buf, size_t len)
{
    if (r->names && r->names[k]) return r->names[k];
    snprintf(buf, len, "class%d", k);
    return buf;
}

void eval_report_headline(const eval_report *r, double *map50, double *map50_95)
{
    if (r->coco && r->protocol && !strcmp(r->protocol, "coco")) {
        *map50 = r->coco->stats[COCO_STAT_AP50];
        *map50_95 = r->coco->stats[COCO_STAT_AP];
    } else {
        *map50 = r->yolo->map50;
        *map50_95 = r->yolo->map;
    }
}

void eval_report_print(FILE *f, const eval_report *r)
{
    const yolo_ap_result *y = r->yolo;
    int total = 0;
    for (int k = 0; k < y->ncat; k++) total += y->nlabels[k];
    fprintf(f, "%20s %8s %10s %8s %8s %8s %10s", "Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95");
    fprintf(f, r->coco ? " %10s %10s\n" : "\n", "cocoAP50", "cocoAP");
    fprintf(f, "%20s %8d %10d %8.3f %8.3f %8.3f %10.3f", "all", r->nimages, total, y->mp, y->mr, y->map50, y->map);
    if (r->coco) fprintf(f, " %10.3f %10.3f", r->coco->stats[COCO_STAT_AP50], r->coco->stats[COCO_STAT_AP]);
    fprintf(f, "\n");
    for (int k = 0; k < y->ncat; k++) {
        char buf[32];
        if (!y->nlabels[k]) continue;
        fprintf(f, "%20s %8s %10d %8.3f %8.3f %8.3f %10.3f", cname(r, k, buf, sizeof buf), "", y->nlabels[k],
                y->p[k], y->r[k], y->ap50[k], y->ap[k]);
        if (r->coco) fprintf(f, " %10.3f %10.3f", r->coco->class_ap50[k], r->coco->class_ap[k]);
        fprintf(f, "\n");
    }
}

static void add_coco(cJSON *o, const coco_eval_result *c)
{
    static const char *const names[COCO_NSTATS] = {"AP", "AP50", "AP75", "APs", "APm", "APl",
                                                   "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
    cJSON *j = cJSON_AddObjectToObject(o, "coco");
    for (int i = 0; i < COCO_NSTATS; i++) cJSON_AddNumberToObject(j, names[i], c->stats[i]);
}

dy_status eval_report_write_json(const eval_report *r, const char *path)
{
    const yolo_ap_result *y = r->yolo;
    double m50, m;
    eval_report_headline(r, &m50, &m);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "protocol", r->protocol ? r->protocol : "yolo");
    cJSON_AddNumberToObject(o, "images", r->nimages);
    cJSON_AddNumberToObject(o, "mAP50", m50);
    cJSON_AddNumberToObject(o, "mAP50_95", m);
    cJSON_AddNumberToObject(o, "fitness", 0.1 * m50 + 0.9 * m);
    cJSON *yj = cJSON_AddObjectToObject(o, "yolo");
    cJSON_AddNumberToObject(yj, "P", y->mp);
    cJSON_AddNumberToObject(yj, "R", y->mr);
    cJSON_AddNumberToObject(yj, "mAP50", y->map50);
    cJSON_AddNumberToObject(yj, "mAP50_95", y->map);
    cJSON_AddNumberToObject(yj, "best_conf", y->best_conf);
    if (r->coco) add_coco(o, r->coco);
    cJSON *cls = cJSON_AddArrayToObject(o, "classes");
    for (int k = 0; k < y->ncat; k++) {
        char buf[32];
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", cname(r, k, buf, sizeof buf));
        cJSON_AddNumberToObject(c, "instances", y->nlabels[k]);
        cJSON_AddNumberToObject(c, "P", y->p[k]);
        cJSON_AddNumberToObject(c, "R", y->r[k]);
        cJSON_AddNumberToObject(c, "F1", y->f1[k]);
        cJSON_AddNumberToObject(c, "AP50", y->ap50[k]);
        cJSON_AddNumberToObject(c, "AP50_95", y->ap[k]);
        if (r->coco) cJSON_AddNumberToObject(c, "coco_AP", r->coco->class_ap[k]);
        cJSON_AddItemToArray(cls, c);
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    FILE *f = s ? fopen(path, "w") : NULL;
    if (!f) {
        cJSON_free(s);
        return DY_ERR(DY_EIO, "cannot write report \"%s\": %s", path, strerror(errno));
    }
    int bad = fprintf(f, "%s\n", s) < 0;
    bad |= fclose(f) != 0;
    cJSON_free(s);
    return bad ? DY_ERR(DY_EIO, "cannot write report \"%s\": %s", path, strerror(errno)) : DY_OK;
}

dy_status eval_report_write_pr_png(const eval_report *r, const char *path)
{
    const yolo_ap_result *y = r->yolo;
    double x[YOLO_AP_NPR], *mean = calloc(YOLO_AP_NPR, sizeof *mean);
    plot_series *s = calloc((size_t)y->ncat + 1, sizeof *s);
    char (*labels)[64] = calloc((size_t)y->ncat + 1, sizeof *labels);
    if (!mean || !s || !labels) {
        free(mean), free(s), free(labels);
        return DY_ERR(DY_ENOMEM, "plot: out of memory");
    }
    for (int i = 0; i < YOLO_AP_NPR; i++) x[i] = i / (double)(YOLO_AP_NPR - 1);
    int ns = 0, nc = 0;
    for (int k = 0; k < y->ncat; k++) {
        if (!y->nlabels[k]) continue;
        char buf[32];
        snprintf(labels[ns], sizeof labels[ns], "%.20s %.3f", cname(r, k, buf, sizeof buf), y->ap50[k]);
        s[ns] = (plot_series){labels[ns], x, y->pr_curve + (size_t)k * YOLO_AP_NPR, YOLO_AP_NPR, 0};
        ns++;
        for (int i = 0; i < YOLO_AP_NPR; i++) mean[i] += y->pr_curve[(size_t)k * YOLO_AP_NPR + i];
        nc++;
    }
    for (int i = 0; nc && i < YOLO_AP_NPR; i++) mean[i] /= nc;
    snprintf(labels[ns], sizeof labels[ns], "all %.3f mAP50", y->map50);
    s[ns] = (plot_series){labels[ns], x, mean, YOLO_AP_NPR, 1};
    ns++;
    dy_status st = plot_lines_png(path, "Precision-Recall (IoU 0.5)", "Recall", "Precision", s, ns);
    free(mean), free(s), free(labels);
    return st;
}
