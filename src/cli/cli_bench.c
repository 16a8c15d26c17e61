/* cli_bench.c -- `dyolo bench KIND`: dispatches to one benchmark per kind.  Each
 * benchmark prints a Markdown table with the exact command, machine and date. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "io/ckpt.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} bench_kinds[] = {
    {"ckpt", bench_ckpt_main, "checkpoint write/read MB/s vs. the disk (dd), sync vs. async overhead"},
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
    return cli_usage_error("bench", "unknown benchmark \"%s\" (dyolo bench --help lists them)", argv[1]);
}
