/* cli_val.c -- `dyolo val`: distributed validation of trained weights on shards, the
 * network on the backend `--device` / runtime.device picks (as for training), the
 * decode, NMS and metrics on the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "dist/dist.h"
#include "dist/runtime.h"
#include "eval/coco_json.h"
#include "eval/confusion.h"
#include "eval/report.h"
#include "eval/validate.h"
#include "eval/weights.h"

static const char val_help[] =
    "usage: [mpirun -np N] dyolo val --weights W --data SHARDS [--protocol coco|yolo]\n"
    "                  [--json OUT] [--coco-json PREFIX] [--out DIR] [--batch B]\n"
    "                  [--imgsz PX] [--conf C] [--iou I] [--rect] [--threads T]\n"
    "                  [--device cpu|cuda|auto] [--config FILE] [--set KEY=VALUE]...\n"
    "\n"
    "Evaluate a checkpoint (its EMA weights) or an exported weights file on a\n"
    "validation shard set. Every rank evaluates a slice; the metrics are identical for\n"
    "any number of ranks. Prints the per-class table and writes DIR/val.json and\n"
    "DIR/pr_curve.png, DIR/confusion_matrix.png and .csv (YOLOv5's: confidence\n"
    "0.25, IoU 0.45; rows predicted, columns true class, last one background)\n"
    "(DIR defaults to runs/val). The network runs on the device `--device` (or\n"
    "runtime.device in --config/--set) picks, as for training; the metrics equal the\n"
    "CPU's within the device's rounding.\n"
    "\n"
    "  --weights W       checkpoint (.h5 from training) or `dyolo ckpt export` file\n"
    "  --data SHARDS     shard manifest (.json) or shard file (.h5)\n"
    "  --protocol P      headline mAP: yolo (YOLOv5's, default) or coco (pycocotools')\n"
    "  --json OUT        the JSON report (default DIR/val.json)\n"
    "  --coco-json P     also write P_gt.json (COCO annotations) and P_dt.json (COCO\n"
    "                    results) so any COCO tool can re-evaluate\n"
    "  --batch B         images per rank and batch (default 16)\n"
    "  --imgsz PX        input size (default: the one the weights were trained at)\n"
    "  --conf C --iou I  NMS thresholds (default 0.001, 0.6; max 300 boxes)\n"
    "  --rect            YOLOv5's rectangular batches (sorted by aspect ratio, each\n"
    "                    padded to a multiple of 32 plus half a stride), as its\n"
    "                    val.py and train.py validate; default: square letterbox\n"
    "  --threads T       compute threads per rank (default: runtime.threads, else all\n"
    "                    cores / ranks)\n" CLI_COMMON_HELP;

typedef struct {
    const char *weights, *data, *protocol, *json, *coco, *out;
    int batch, imgsz, threads, rect;
    float conf, iou;
    cli_common common; /* --device, --config, --set, logging */
} val_args;

static int parse(int argc, char **argv, val_args *a)
{
    *a = (val_args){NULL, NULL, "yolo", NULL, NULL, "runs/val", 16, 0, 0, 0, 0.001f, 0.6f, {0}};
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&a->common, argc, argv, &i);
        if (r < 0) return cli_usage_error("val", "option \"%s\" needs a value", argv[i]);
        if (r > 0) continue;
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(val_help, stdout);
            return -1;
        }
        if (!strcmp(o, "--rect")) {
            a->rect = 1;
            continue;
        }
        if (!v) return cli_usage_error("val", "option \"%s\" needs a value", o);
        if (!strcmp(o, "--weights")) a->weights = v;
        else if (!strcmp(o, "--data")) a->data = v;
        else if (!strcmp(o, "--protocol")) a->protocol = v;
        else if (!strcmp(o, "--json")) a->json = v;
        else if (!strcmp(o, "--coco-json")) a->coco = v;
        else if (!strcmp(o, "--out")) a->out = v;
        else if (!strcmp(o, "--batch")) a->batch = atoi(v);
        else if (!strcmp(o, "--imgsz")) a->imgsz = atoi(v);
        else if (!strcmp(o, "--threads")) a->threads = atoi(v);
        else if (!strcmp(o, "--conf")) a->conf = (float)atof(v);
        else if (!strcmp(o, "--iou")) a->iou = (float)atof(v);
        else return cli_usage_error("val", "unknown option \"%s\"", o);
        i++;
    }
    if (!a->weights || !a->data) return cli_usage_error("val", "--weights and --data are required");
    if (strcmp(a->protocol, "coco") && strcmp(a->protocol, "yolo"))
        return cli_usage_error("val", "--protocol must be coco or yolo, not \"%s\"", a->protocol);
    if (a->batch < 1 || a->imgsz < 0 || a->imgsz % 32) return cli_usage_error("val", "bad --batch or --imgsz (a multiple of 32)");
    return 0;
}

/* YOLOv5's confusion matrix (val.py writes it too): the PNG, and the counts as CSV
 * (rows predicted class, columns true class, last row/column background). */
static dy_status write_confusion(const val_args *a, const weights_info *wi, const validate_result *v)
{
    confusion_matrix c;
    DY_TRY(confusion_init(&c, wi->nc));
    char path[1200];
    snprintf(path, sizeof path, "%s/confusion_matrix.png", a->out);
    dy_status s = confusion_from_set(&c, &v->set, CONFUSION_CONF, CONFUSION_IOU);
    if (s == DY_OK) s = confusion_write_png(&c, (const char *const *)wi->names, path);
    snprintf(path, sizeof path, "%s/confusion_matrix.csv", a->out);
    if (s == DY_OK) s = confusion_write_csv(&c, path);
    confusion_free(&c);
    return s;
}

static dy_status write_outputs(const val_args *a, const weights_info *wi, const validate_result *v)
{
    eval_report rep = {(const char *const *)wi->names, v->nimages, &v->coco, &v->yolo, a->protocol};
    eval_report_print(stdout, &rep);
    double m50, m;
    eval_report_headline(&rep, &m50, &m);
    printf("%s protocol: mAP50 %.4f  mAP50-95 %.4f  (%d images, %.1f images/s)\n", a->protocol, m50, m, v->nimages,
           v->images_per_s);
    DY_TRY(fs_mkdir_p(a->out));
    char path[1200];
    snprintf(path, sizeof path, "%s/val.json", a->out);
    DY_TRY(eval_report_write_json(&rep, a->json ? a->json : path));
    snprintf(path, sizeof path, "%s/pr_curve.png", a->out);
    DY_TRY(eval_report_write_pr_png(&rep, path));
    DY_TRY(write_confusion(a, wi, v));
    if (a->coco) {
        snprintf(path, sizeof path, "%s_gt.json", a->coco);
        DY_TRY(coco_json_write_gt(&v->set, (const char *const *)wi->names, path));
        snprintf(path, sizeof path, "%s_dt.json", a->coco);
        DY_TRY(coco_json_write_dt(&v->set, path));
    }
    return DY_OK;
}

/* Rank 0 writes the reports at the end: where they go is checked first, so a bad
 * --out or --json fails before the validation pass, not after it. */
static dy_status check_outputs(const val_args *a)
{
    DY_TRY(fs_mkdir_p(a->out));
    DY_TRY(fs_check_writable(a->out, "--out"));
    return a->json ? fs_check_file_writable(a->json, "--json") : DY_OK;
}

static dy_status run_val(const val_args *a, const dist_ctx *d, const dist_runtime *rt)
{
    yolo_model *m = NULL;
    weights_info wi;
    DY_TRY(dist_agree(d->world, d->rank == 0 ? check_outputs(a) : DY_OK));
    DY_TRY(weights_load_on(rt->be, a->weights, d->world, &m, &wi));
    /* the backend named is the model's own, so a path that ignored it shows here */
    log_info("compute on %s, the network on backend %s (rank %d of %d)", rt->desc, yolo_model_backend(m)->name,
             d->rank, d->size);
    int imgsz = a->imgsz ? a->imgsz : wi.imgsz;
    loader_opts lo;
    loader_opts_default(&lo);
    lo.batch = a->batch, lo.imgsz = imgsz, lo.train = 0, lo.rect = a->rect;
    data_loader *l = NULL;
    dy_status s = loader_open(&l, &a->data, 1, &lo, d->world);
    if (s == DY_OK && shard_nclass(loader_shards(l)) != wi.nc)
        s = DY_ERR(DY_EINVAL, "the weights %s are for %d classes but %s has %d", a->weights, wi.nc, a->data,
                   shard_nclass(loader_shards(l)));
    yolo_model_opts o = *yolo_model_opts_ptr(m);
    o.threads = a->threads ? a->threads : rt->threads;
    yolo_model_set_opts(m, &o);
    if (s == DY_OK) s = yolo_model_plan(m, a->batch, imgsz, imgsz);
    nms_params np = NMS_VAL_DEFAULTS;
    np.conf_thres = a->conf, np.iou_thres = a->iou;
    validate_result v;
    if (s == DY_OK) s = validate_run(m, l, d->world, &np, 10, NULL, &v);
    if (s == DY_OK && d->rank == 0) s = write_outputs(a, &wi, &v);
    if (l) loader_close(l);
    if (s == DY_OK) validate_result_free(&v);
    yolo_model_free(m);
    weights_info_free(&wi);
    return s;
}

int cli_val_main(int argc, char **argv)
{
    val_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    dist_ctx d;
    memset(&d, 0, sizeof d);
    if (dist_init(&argc, &argv, &d) != DY_OK) return cli_fail("val");
    log_setup(d.rank, 0, LOG_INFO);
    cfg *c = NULL;
    dist_runtime rt = {0};
    /* The same options on every rank, but a config file may be readable on some only. */
    dy_status s = dist_agree(d.world, cli_build_config(&a.common, &c));
    if (s == DY_OK) {
        cli_configure_logging(c, &a.common, d.rank);
        s = dist_agree(d.world, dist_runtime_open_compute(c, &d, &rt));
    }
    if (s == DY_OK) s = run_val(&a, &d, &rt);
    /* Every failure above is agreed by all ranks (collective loads and gathers). */
    if (s != DY_OK && d.rank == 0) cli_fail("val");
    dist_runtime_close(&rt); /* after the model: its memory is the backend's */
    cfg_free(c);
    dist_finalize(&d);
    return s == DY_OK ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}
