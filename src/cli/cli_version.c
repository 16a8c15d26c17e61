/* cli_version.c -- `dyolo version`: versions of dyolo and every library it uses. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/version.h"

static const char version_help[] =
    "usage: dyolo version [--json]\n"
    "\n"
    "Print dyolo's version and those of the libraries it was built with: MPI, HDF5\n"
    "(and whether it is parallel), cJSON, OpenBLAS and, in CUDA builds, the CUDA\n"
    "runtime and driver, cuDNN, cuBLAS, NCCL and the visible GPUs, or the reason\n"
    "there is no usable GPU.\n"
    "\n"
    "  --json      print one JSON object instead of a table\n"
    "  -h, --help  show this help\n";

int cli_version_main(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(version_help, stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(argv[i], "--json")) {
            json = 1;
            continue;
        }
        return cli_usage_error("version", "unknown option \"%s\"", argv[i]);
    }
    version_report(stdout, json);
    return CLI_EXIT_OK;
}
