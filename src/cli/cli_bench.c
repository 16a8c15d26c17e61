/* cli_bench.c -- `dyolo bench KIND`: dispatches to one benchmark per kind; each kind
 * is one file of src/bench/ (e.g. src/bench/bench_loader.c) and is listed here once. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_allreduce.h"
#include "bench/bench_step.h"
#include "bench/bench_step_dist.h"
#include "cli/cli.h"

/* `bench step` has a single-process and a distributed mode (--dist or mpirun -np N). */
static int bench_step_any(int argc, char **argv)
{
    return bench_step_dist_wanted(argc, argv) ? bench_step_dist_main(argc, argv) : bench_step_main(argc, argv);
}

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} bench_kinds[] = {
    {"loader", bench_loader_main,
     "loader stages: HDF5 read, decode, mosaic augmentation, whole pipeline"},
    {"step", bench_step_any,
     "training-step time: forward/backward, images/s, GFLOP/s, peak memory; --dist: DDP breakdown"},
    {"allreduce", bench_allreduce_main,
     "all-reduce time and bus bandwidth per size and transport; DDP overlap"},
    {"ckpt", bench_ckpt_main,
     "checkpoint write/read bandwidth vs the disk (dd), sync and async overhead"},
    {"scaling", bench_scaling_main,
     "predicted step time and efficiency for N ranks on M nodes (alpha-beta model)"},
};
#define NKINDS (int)(sizeof bench_kinds / sizeof bench_kinds[0])

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: [mpirun -np N] dyolo bench KIND [OPTIONS]   (dyolo bench KIND --help)\n\nkinds:\n");
    for (int i = 0; i < NKINDS; i++) fprintf(f, "  %-10s %s\n", bench_kinds[i].name, bench_kinds[i].summary);
}

int cli_bench_main(int argc, char **argv)
{
    if (argc < 2) {
        bench_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        bench_usage(stdout);
        return CLI_EXIT_OK;
    }
    for (int i = 0; i < NKINDS; i++)
        if (!strcmp(argv[1], bench_kinds[i].name)) return bench_kinds[i].run(argc - 1, argv + 1);
    bench_usage(stderr);
    return cli_usage_error("bench", "unknown kind \"%s\"", argv[1]);
}
