/* cli_model.c -- `dyolo model`: build a model from its JSON spec and print the
 * per-layer summary (from, repeats, params, output shape) with parameter and GFLOP
 * totals, or the named flat parameter / buffer ranges other modules rely on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/model.h"

static const char model_help[] =
    "usage: dyolo model --config SPEC [--nc N] [--imgsz PX] [--summary] [--ranges]\n"
    "\n"
    "Build the network described by a JSON model spec (configs/models/yolov5n.json ...)\n"
    "and print its per-layer table with the totals of parameters and GFLOPs\n"
    "(2 x multiply-accumulates, as YOLOv5 reports them) at the input size.\n"
    "\n"
    "  --config SPEC, --spec SPEC  model spec file\n"
    "  --nc N                      number of classes (default: the spec's)\n"
    "  --imgsz PX                  input size for shapes and GFLOPs (default 640)\n"
    "  --summary                   print the layer table and totals (default)\n"
    "  --ranges                    print the flat parameter and BN-buffer ranges\n"
    "  -h, --help                  show this help\n";

static int parse_int(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 1000000) return -1;
    *out = (int)v;
    return 0;
}

static void print_ranges(yolo_model *m)
{
    static const char *grp[] = {"weight(decay)", "bn-weight", "bias"};
    for (int i = 0; i < yolo_model_num_param_ranges(m); i++) {
        const nn_param_range *r = yolo_model_param_range(m, i);
        printf("param  %-40s offset %10zu count %8zu group %d %s\n", r->name, r->offset, r->count,
               r->group, grp[r->group]);
    }
    for (int i = 0; i < yolo_model_num_buffer_ranges(m); i++) {
        const nn_param_range *r = yolo_model_buffer_range(m, i);
        printf("buffer %-40s offset %10zu count %8zu\n", r->name, r->offset, r->count);
    }
}

int cli_model_main(int argc, char **argv)
{
    const char *spec = NULL;
    int nc = 0, imgsz = 640, ranges = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(model_help, stdout);
            return CLI_EXIT_OK;
        }
        int has = i + 1 < argc;
        if ((!strcmp(a, "--config") || !strcmp(a, "--spec")) && has) spec = argv[++i];
        else if (!strcmp(a, "--nc") && has) {
            if (parse_int(argv[++i], &nc)) return cli_usage_error("model", "--nc wants a positive integer, got \"%s\"", argv[i]);
        } else if (!strcmp(a, "--imgsz") && has) {
            if (parse_int(argv[++i], &imgsz) || imgsz % 32)
                return cli_usage_error("model", "--imgsz wants a positive multiple of 32, got \"%s\"", argv[i]);
        } else if (!strcmp(a, "--summary")) continue;
        else if (!strcmp(a, "--ranges")) ranges = 1;
        else return cli_usage_error("model", "unknown option or missing value \"%s\"", a);
    }
    if (!spec) return cli_usage_error("model", "--config SPEC is required");
    yolo_model *m;
    if (yolo_model_create(spec, nc, &m) != DY_OK) return cli_fail("model");
    if (ranges) print_ranges(m);
    else yolo_model_summary(m, stdout, imgsz);
    yolo_model_free(m);
    return CLI_EXIT_OK;
}
