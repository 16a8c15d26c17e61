/* cli_synth.c -- `dyolo synth`: write the deterministic synthetic dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "data/synth.h"

static const char synth_help[] =
    "usage: dyolo synth --out DIR --images N [--classes K] [--size PX] [--seed S]\n"
    "\n"
    "Write a synthetic detection dataset in Ultralytics YOLO layout (images/{train,val},\n"
    "labels/{train,val}, data.yaml): K classes of coloured shapes (circle, square,\n"
    "triangle, cross, ring) with varied size, aspect, colour and rotation, overlapping on\n"
    "cluttered backgrounds, as JPEG. About 1/5 of the images go to val.\n"
    "The same options give the same bytes.\n"
    "\n"
    "  --out DIR      output folder (created)\n"
    "  --images N     number of images\n"
    "  --classes K    1..5 (default 3)\n"
    "  --size PX      image width; height is 0.75..1 of it (default 320)\n"
    "  --seed S       random seed (default 0)\n"
    "  --quality Q    JPEG quality (default 90)\n"
    "  -h, --help     show this help\n";

static int int_arg(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) return cli_usage_error("synth", "%s needs an integer in %ld..%ld", opt, lo, hi);
    *out = x;
    return 0;
}

int cli_synth_main(int argc, char **argv)
{
    synth_opts o = {NULL, 0, 3, 320, 0, 90};
    long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(synth_help, stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--out") && val) {
            o.out_dir = argv[++i];
        } else if (!strcmp(a, "--images")) {
            if (!(rc = int_arg(a, val, 1, 10000000, &v))) o.images = (int)v, i++;
        } else if (!strcmp(a, "--classes")) {
            if (!(rc = int_arg(a, val, 1, SYNTH_MAX_CLASSES, &v))) o.classes = (int)v, i++;
        } else if (!strcmp(a, "--size")) {
            if (!(rc = int_arg(a, val, 32, 4096, &v))) o.size = (int)v, i++;
        } else if (!strcmp(a, "--seed")) {
            if (!(rc = int_arg(a, val, 0, 2147483647L, &v))) o.seed = (uint64_t)v, i++;
        } else if (!strcmp(a, "--quality")) {
            if (!(rc = int_arg(a, val, 1, 100, &v))) o.quality = (int)v, i++;
        } else {
            return cli_usage_error("synth", "unknown option \"%s\" (or missing value)", a);
        }
        if (rc) return rc;
    }
    if (!o.out_dir || !o.images) return cli_usage_error("synth", "--out and --images are required");
    log_setup(0, 0, LOG_INFO);
    if (synth_generate(&o) != DY_OK) return cli_fail("synth");
    log_info("synth: wrote %d images (%d classes, %d px, seed %llu) to %s", o.images, o.classes, o.size,
             (unsigned long long)o.seed, o.out_dir);
    return CLI_EXIT_OK;
}
