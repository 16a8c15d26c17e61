/* cli_pack.c -- `dyolo pack`: YOLO/COCO/VOC -> HDF5 shards + manifest, in parallel
 * under mpirun. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/check.h"
#include "core/log.h"
#include "dist/dist.h"
#include "data/shard.h"

static const char pack_help[] =
    "usage: dyolo pack --format yolo|coco|voc --input PATH [--split NAME] --out PREFIX\n"
    "                  [--encoding jpeg|raw] [--imgsz PX] [--shards N] [--strict]\n"
    "\n"
    "Convert a detection dataset into HDF5 shards PREFIX-00000.h5 ... and a manifest\n"
    "PREFIX.manifest.json (schema: datasets/README.md). Runs in parallel under mpirun;\n"
    "the shards' datasets are identical for any number of ranks.\n"
    "\n"
    "  --format F       yolo (data.yaml or images/labels folder), coco (instances JSON),\n"
    "                   voc (VOC root with Annotations/, JPEGImages/, ImageSets/Main/)\n"
    "  --input PATH     the data.yaml, folder, JSON file or VOC root\n"
    "  --split NAME     yolo: data.yaml key (default train); voc: ImageSets/Main/NAME.txt\n"
    "                   (default: every annotation); coco: ignored (one JSON per split)\n"
    "  --out PREFIX     output prefix (folder must exist)\n"
    "  --encoding E     jpeg (original bytes, default) or raw (letterboxed RGB at --imgsz)\n"
    "  --imgsz PX       raw: letterbox size (default 640)\n"
    "  --shards N       number of shard files (default 1)\n"
    "  --strict         any problem in the input is fatal (default: report and go on)\n"
    "  --log-level L    error, warn, info or debug\n"
    "  -h, --help       show this help\n"
    "\n"
    "Problems (unreadable/corrupt images, missing/malformed labels, out-of-range,\n"
    "zero-area or duplicate boxes, unknown classes, size mismatches) are listed with\n"
    "their file; images without labels are kept as background images.\n";

static int parse(int argc, char **argv, pack_opts *o, const char **level)
{
    const char *fmt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--strict")) { o->strict = 1; continue; }
        if (!v) return cli_usage_error("pack", "unknown option \"%s\" (or missing value)", a);
        if (!strcmp(a, "--format")) fmt = v;
        else if (!strcmp(a, "--input")) o->input = v;
        else if (!strcmp(a, "--split")) o->split = v;
        else if (!strcmp(a, "--out")) o->out = v;
        else if (!strcmp(a, "--log-level")) *level = v;
        else if (!strcmp(a, "--encoding")) {
            if (strcmp(v, "jpeg") && strcmp(v, "raw")) return cli_usage_error("pack", "--encoding: jpeg or raw");
            o->raw = !strcmp(v, "raw");
        } else if (!strcmp(a, "--imgsz")) o->imgsz = atoi(v);
        else if (!strcmp(a, "--shards")) o->shards = atoi(v);
        else return cli_usage_error("pack", "unknown option \"%s\"", a);
        i++;
    }
    if (!fmt || !o->input || !o->out) return cli_usage_error("pack", "--format, --input and --out are required");
    if (ds_format_parse(fmt, &o->format) != DY_OK) return cli_usage_error("pack", "%s", err_msg());
    return 0;
}

static void print_summary(const pack_opts *o, const pack_summary *s)
{
    log_info("pack: %ld samples (%ld background), %ld boxes, %.1f MB payload -> %s-*.h5 (%d shard%s), %s.manifest.json",
             s->samples, s->background, s->boxes, s->payload_bytes / 1e6, o->out, o->shards,
             o->shards == 1 ? "" : "s", o->out);
    if (!s->total_issues) return;
    char line[1024];
    int n = snprintf(line, sizeof line, "pack: %ld problem(s):", s->total_issues);
    for (int k = 0; k < ISS_COUNT; k++)
        if (s->issues[k] && n < (int)sizeof line)
            n += snprintf(line + n, sizeof line - (size_t)n, " %s %ld;", ds_issue_name((ds_issue_kind)k), s->issues[k]);
    log_warn("%s", line);
}

int cli_pack_main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(pack_help, stdout);
            return CLI_EXIT_OK;
        }
    pack_opts o = {DS_YOLO, NULL, NULL, NULL, 0, 640, 1, 0};
    const char *level = NULL;
    int rc = parse(argc, argv, &o, &level);
    if (rc) return rc;
    log_level lv = LOG_INFO;
    if (level && log_parse_level(level, &lv) != DY_OK) return cli_usage_error("pack", "%s", err_msg());
    dist_ctx d;
    if (dist_init(&argc, &argv, &d) != DY_OK) return cli_fail("pack");
    log_setup(d.rank, 0, lv);
    pack_summary sum;
    dy_status s = pack_run(&o, d.world, &sum);
    if (s == DY_OK) print_summary(&o, &sum);
    /* pack_run agrees on the errors of the ranks' own items; writing and the
     * manifest are not agreed. */
    else rc = cli_fail_dist("pack", d.rank, d.size, sum.agreed);
    dist_finalize(&d);
    return rc;
}
