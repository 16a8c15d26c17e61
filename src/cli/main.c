/* main.c -- the `dyolo` entry point: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "train/train_config.h"
#include "tensor/backend.h"
#include "dyolo_config.h"
#include "core/check.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"version", cli_version_main, "versions of dyolo, its libraries and the visible GPUs"},
    {"config", cli_config_main, "validate and print the effective configuration, or its schema"},
    {"synth", cli_synth_main, "write a deterministic synthetic detection dataset (YOLO layout)"},
    {"pack", cli_pack_main, "convert YOLO/COCO/VOC datasets into HDF5 shards (parallel under mpirun)"},
    {"train", cli_train_main, "train a detector data-parallel over MPI ranks (mpirun -np N dyolo train)"},
    {"val", cli_val_main, "validate weights on shards: COCO-exact and YOLOv5 mAP, on all ranks"},
    {"detect", cli_detect_main, "detect objects in images; writes JSON and annotated images"},
    {"model", cli_model_main, "build a model from its JSON spec; layer table, parameters, GFLOPs"},
    {"bench", cli_bench_main, "benchmarks (dyolo bench --help lists the kinds)"},
    {"ckpt", cli_ckpt_main, "list, verify, inspect and export checkpoints"},
    {"export", cli_export_main, "export weights as ONNX (BN folded, YOLOv5 decode) for deployment"},
    {"import", cli_import_main, "convert a YOLOv5 .pt checkpoint or state_dict to dyolo weights (safely)"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: dyolo COMMAND [OPTIONS]   (dyolo COMMAND --help for details)\n\n"
               "dyolo %s -- distributed YOLO training in C with MPI, NCCL and parallel HDF5.\n\n"
               "commands:\n",
            PACKAGE_VERSION);
    for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    tn_cpu_blas_fix_coretype(argv); /* may re-exec with fast OpenBLAS kernels */
    train_config_register_all();
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) return cli_version_main(argc - 1, argv + 1);
    check_h5_quiet();
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "dyolo: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
