/* cli_import.c -- `dyolo import FILE.pt --out WEIGHTS [--model SPEC]`: an Ultralytics
 * YOLOv5 checkpoint or state_dict to a dyolo weights file (src/io/pt_import.h), read
 * without Python and without executing anything in the file. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "io/pt_import.h"

static const char import_help[] =
    "usage: dyolo import FILE.pt --out WEIGHTS [--model SPEC]\n"
    "\n"
    "Convert a YOLOv5 v7.0 PyTorch file (train.py's last.pt/best.pt, a released\n"
    "yolov5?.pt, or a plain state_dict) into a dyolo weights file that val, detect and\n"
    "train (model.weights) accept.  The EMA weights are taken when the checkpoint has\n"
    "them; half precision becomes float; class names come along.  The file is read by\n"
    "dyolo's own restricted unpickler: anything but the tensors, module classes and\n"
    "containers of a YOLOv5 checkpoint (os.system, eval, ...) is refused, never run.\n"
    "\n"
    "  --out WEIGHTS   the weights file to write (HDF5, schema dyolo-weights)\n"
    "  --model SPEC    model spec JSON (e.g. configs/models/yolov5s.json); needed for a\n"
    "                  state_dict, otherwise the checkpoint's model.yaml is used\n"
    "  -h, --help      show this help\n"
    "\n"
    "Exit status: 0 ok, 1 error (unsafe, damaged or mismatching file), 2 usage error.\n";

static void summary(const char *in, const char *out, const pt_import_report *r)
{
    printf("imported %s -> %s\n", in, out);
    printf("  weights     %s (%d tensors mapped: %lld parameters, %lld buffer values; %d skipped)\n", r->source,
           r->tensors, r->params, r->buffers, r->skipped);
    printf("  model       %s (depth_multiple %g, width_multiple %g)%s\n", r->spec_from, r->depth_multiple,
           r->width_multiple, r->anchors_changed ? ", anchors from the checkpoint" : "");
    printf("  nc          %d\n", r->nc);
    printf("  names       ");
    if (!r->nnames) printf("(none in the file: class0..class%d)", r->nc - 1);
    for (int i = 0; i < r->nnames && i < 20; i++) printf("%s%s", i ? ", " : "", r->names[i]);
    if (r->nnames > 20) printf(", ... (%d in all)", r->nnames);
    printf("\n");
}

int cli_import_main(int argc, char **argv)
{
    pt_import_opts o = {0};
    const char *in = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(import_help, stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(argv[i], "--out") && i + 1 < argc) o.out_path = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) o.spec_path = argv[++i];
        else if (argv[i][0] == '-') return cli_usage_error("import", "unknown option \"%s\"", argv[i]);
        else if (in) return cli_usage_error("import", "more than one input file (\"%s\", \"%s\")", in, argv[i]);
        else in = argv[i];
    }
    if (!in) return cli_usage_error("import", "FILE.pt is required (see --help)");
    if (!o.out_path) return cli_usage_error("import", "--out WEIGHTS is required");
    int provided, rank;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    log_setup(rank, 0, LOG_INFO);
    int rc = CLI_EXIT_OK;
    /* A conversion of one file: rank 0 does it, other ranks (under mpirun) wait. */
    if (rank == 0) {
        pt_import_report rep;
        if (pt_import(in, &o, &rep) != DY_OK) rc = cli_fail("import");
        else summary(in, o.out_path, &rep);
        pt_import_report_free(&rep);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return rc;
}
