/* cli_bench.c -- `dyolo bench KIND`: dispatches to the benchmark kinds (each in its
 * own module, with its own --help). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "model/bench_step.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} bench_kinds[] = {
    {"step", bench_step_main, "training-step time, GFLOP/s, memory"},
};
#define NKINDS (int)(sizeof bench_kinds / sizeof bench_kinds[0])

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: dyolo bench KIND [OPTIONS]   (dyolo bench KIND --help for details)\n\nkinds:\n");
    for (int i = 0; i < NKINDS; i++) fprintf(f, "  %-10s %s\n", bench_kinds[i].name, bench_kinds[i].summary);
}

int cli_bench_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        bench_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (int i = 0; i < NKINDS; i++)
        if (!strcmp(argv[1], bench_kinds[i].name)) return bench_kinds[i].run(argc - 1, argv + 1);
    bench_usage(stderr);
    return cli_usage_error("bench", "unknown benchmark kind \"%s\"", argv[1]);
}
