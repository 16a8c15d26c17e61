/* cli_export.c -- `dyolo export --format onnx WEIGHTS --out model.onnx`: writes trained
 * weights (a checkpoint, a `dyolo ckpt export` weights file or a run's best/latest
 * pointer) as an ONNX model with BN folded and the Detect decode included, as
 * YOLOv5's export.py does, for onnxruntime / TensorRT / OpenVINO.  Runs on one
 * process (rank 0 under mpirun). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "eval/weights.h"
#include "io/onnx_export.h"

static const char export_help[] =
    "usage: dyolo export --format onnx WEIGHTS --out FILE.onnx [--imgsz PX|H,W]\n"
    "                    [--batch N | --dynamic] [--opset N] [--half]\n"
    "\n"
    "Write weights (checkpoint, exported weights file, or a run's best/latest pointer)\n"
    "as an ONNX model shaped as YOLOv5's export: input \"images\" float32 [batch,3,H,W]\n"
    "(RGB, 0..1), output \"output0\" float32 [batch, anchors, 5+nc] = decoded boxes\n"
    "(cx, cy, w, h in input pixels), objectness, class scores; apply NMS after it.\n"
    "BN is folded into the convolutions; metadata holds \"stride\" and \"names\".\n"
    "\n"
    "  --format onnx   the only format (required, for YOLOv5 familiarity)\n"
    "  --out FILE      output file (required)\n"
    "  --imgsz PX      input size, PX or H,W, multiples of 32 (default: the training size)\n"
    "  --batch N       fixed batch size (default 1)\n"
    "  --dynamic       dynamic batch dimension \"batch\" (H and W stay fixed)\n"
    "  --opset N       ONNX opset, 11..21 (default 12)\n"
    "  --half          float16 weights and compute inside; input and output stay float32\n"
    "  -h, --help      show this help\n";

typedef struct {
    const char *weights, *out, *format;
    int h, w, batch, dynamic, opset, half;
} exp_args;

static int parse_pos(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 100000) return -1;
    *out = (int)v;
    return 0;
}

static int parse_imgsz(const char *s, int *h, int *w)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *comma = strchr(buf, ',');
    if (!comma) return parse_pos(buf, h) || parse_pos(buf, w) ? -1 : 0;
    *comma = '\0';
    return parse_pos(buf, h) || parse_pos(comma + 1, w) ? -1 : 0;
}

/* 0: go on; 1: --help printed; 2: usage error reported. */
static int parse(int argc, char **argv, exp_args *a)
{
    *a = (exp_args){.batch = 1, .opset = 12};
    int batch_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(export_help, stdout);
            return 1;
        }
        if (!strcmp(o, "--dynamic")) a->dynamic = 1;
        else if (!strcmp(o, "--half")) a->half = 1;
        else if (o[0] != '-') {
            if (a->weights) return cli_usage_error("export", "one WEIGHTS file only (got \"%s\" and \"%s\")", a->weights, o);
            a->weights = o;
        } else if (!v) return cli_usage_error("export", "option \"%s\" needs a value", o);
        else if (!strcmp(o, "--format")) a->format = argv[++i];
        else if (!strcmp(o, "--out")) a->out = argv[++i];
        else if (!strcmp(o, "--imgsz")) {
            if (parse_imgsz(argv[++i], &a->h, &a->w))
                return cli_usage_error("export", "--imgsz wants PX or H,W (positive integers), got \"%s\"", argv[i]);
        } else if (!strcmp(o, "--batch")) {
            if (parse_pos(argv[++i], &a->batch))
                return cli_usage_error("export", "--batch wants a positive integer, got \"%s\"", argv[i]);
            batch_given = 1;
        } else if (!strcmp(o, "--opset")) {
            if (parse_pos(argv[++i], &a->opset) || a->opset < ONNX_EXPORT_OPSET_MIN || a->opset > ONNX_EXPORT_OPSET_MAX)
                return cli_usage_error("export", "--opset wants %d..%d, got \"%s\"", ONNX_EXPORT_OPSET_MIN,
                                       ONNX_EXPORT_OPSET_MAX, argv[i]);
        } else return cli_usage_error("export", "unknown option \"%s\"", o);
    }
    if (!a->format) return cli_usage_error("export", "--format is required (supported: onnx)");
    if (strcmp(a->format, "onnx")) return cli_usage_error("export", "unknown --format \"%s\" (supported: onnx)", a->format);
    if (!a->weights) return cli_usage_error("export", "WEIGHTS is required");
    if (!a->out) return cli_usage_error("export", "--out FILE is required");
    if (a->dynamic && batch_given) return cli_usage_error("export", "--batch and --dynamic exclude each other");
    return 0;
}

static dy_status run_export(const exp_args *a)
{
    yolo_model *m = NULL;
    weights_info wi;
    DY_TRY(weights_load(a->weights, MPI_COMM_SELF, &m, &wi));
    onnx_export_opts o;
    onnx_export_defaults(&o);
    o.h = a->h ? a->h : wi.imgsz;
    o.w = a->w ? a->w : wi.imgsz;
    o.batch = a->dynamic ? 0 : a->batch;
    o.opset = a->opset;
    o.half = a->half;
    o.nc = wi.nc;
    o.names = wi.names;
    o.source = a->weights;
    dy_status s = onnx_export(m, &o, a->out);
    if (s == DY_OK) {
        const yolo_head *hd = yolo_model_head(m);
        size_t anchors = 0;
        for (int l = 0; l < hd->nl; l++)
            anchors += (size_t)hd->na * (size_t)(o.h / (int)hd->stride[l]) * (size_t)(o.w / (int)hd->stride[l]);
        char b[32];
        snprintf(b, sizeof b, "%d", o.batch);
        printf("%s: ONNX opset %d, input images [%s,3,%d,%d] float32, output0 [%s,%zu,%d]%s, from %s (%s weights)\n",
               a->out, o.opset, o.batch ? b : "batch", o.h, o.w, o.batch ? b : "batch",
               anchors, 5 + wi.nc,
               o.half ? ", float16 inside" : "", a->weights,
               strcmp(wi.source, "weights") ? wi.source : "exported");
    }
    yolo_model_free(m);
    weights_info_free(&wi);
    return s;
}

int cli_export_main(int argc, char **argv)
{
    exp_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc == 1 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    int provided, rank;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    log_setup(rank, 0, LOG_INFO);
    dy_status s = rank == 0 ? run_export(&a) : DY_OK;
    if (s != DY_OK) cli_fail("export");
    MPI_Finalize();
    return s == DY_OK ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}
