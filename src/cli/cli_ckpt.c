/* cli_ckpt.c -- `dyolo ckpt list|verify|info|export`: inspect, check and export
 * checkpoints.  Runs under mpirun too (reads are collective), or alone as one rank. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "io/ckpt.h"
#include "dist/dist.h"

static const char ckpt_help[] =
    "usage: dyolo ckpt list RUN_DIR | verify FILE | info FILE | export FILE --out WEIGHTS\n"
    "\n"
    "  list RUN_DIR       checkpoints in RUN_DIR (or RUN_DIR/checkpoints): step, epoch,\n"
    "                     time, best fitness, and whether each verifies (checksums)\n"
    "  verify FILE        read FILE and check every dataset's CRC-32C; exit 0 if intact\n"
    "                     (FILE may be a run's checkpoints/best or checkpoints/latest)\n"
    "  info FILE          schema version, attributes and every dataset (name, type, size)\n"
    "  export FILE --out WEIGHTS\n"
    "                     weights-only file: EMA weights if present (else the model's),\n"
    "                     buffers, name tables and config\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 ok, 1 error (e.g. a corrupt checkpoint), 2 usage error.\n";

static void print_attr(const ckpt_attr *a)
{
    if (a->type == 0) printf("  %-18s %lld\n", a->name, (long long)a->i);
    else if (a->type == 1) printf("  %-18s %.9g\n", a->name, a->f);
    else printf("  %-18s \"%s\"\n", a->name, a->s);
}

static const char *const kind_names[] = {"array", "rank array", "text", "table"};

static int do_info(const char *path, int rank)
{
    ckpt_reader *r;
    if (ckpt_reader_open(&r, path, MPI_COMM_WORLD) != DY_OK) return cli_fail("ckpt info");
    if (rank == 0) {
        printf("%s (verified)\nattributes:\n", path);
        for (int i = 0; i < ckpt_reader_nattrs(r); i++) print_attr(ckpt_reader_attr(r, i));
        printf("datasets:\n");
        double total = 0;
        for (int i = 0; i < ckpt_reader_nentries(r); i++) {
            const ckpt_entry *e = ckpt_reader_entry(r, i);
            double mb;
            if (e->kind == CKPT_KIND_ARRAY || e->kind == CKPT_KIND_RANK) {
                char shape[96];
                mb = (double)e->n * (double)e->rows * (double)ckpt_dtype_size(e->dtype) / 1e6;
                if (e->kind == CKPT_KIND_RANK)
                    snprintf(shape, sizeof shape, "%s[%lld x %lld]", ckpt_dtype_name(e->dtype), (long long)e->rows,
                             (long long)e->n);
                else snprintf(shape, sizeof shape, "%s[%lld]", ckpt_dtype_name(e->dtype), (long long)e->n);
                printf("  %-10s %-28s %s", kind_names[e->kind], e->name, shape);
            } else if (e->kind == CKPT_KIND_TEXT) {
                mb = (double)e->n / 1e6;
                printf("  %-10s %-28s %lld bytes", kind_names[e->kind], e->name, (long long)strlen(e->data));
            } else {
                mb = (double)e->n * sizeof(ckpt_table_row) / 1e6;
                printf("  %-10s %-28s %lld rows", kind_names[e->kind], e->name, (long long)e->n);
            }
            printf("  %.3f MB\n", mb);
            total += mb;
        }
        printf("total %.3f MB in %d datasets\n", total, ckpt_reader_nentries(r));
    }
    ckpt_reader_close(r);
    return CLI_EXIT_OK;
}

static int do_verify(const char *path, int rank)
{
    ckpt_reader *r;
    if (ckpt_reader_open(&r, path, MPI_COMM_WORLD) != DY_OK) return cli_fail("ckpt verify");
    if (rank == 0) printf("%s: OK (%d datasets verified)\n", path, ckpt_reader_nentries(r));
    ckpt_reader_close(r);
    return CLI_EXIT_OK;
}

static int do_list(const char *run_dir, int rank)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/checkpoints", run_dir);
    ckpt_listing *v;
    int n;
    if (ckpt_list(dir, &v, &n) != DY_OK) return cli_fail("ckpt list");
    if (n == 0) {
        free(v);
        snprintf(dir, sizeof dir, "%s", run_dir);
        if (ckpt_list(dir, &v, &n) != DY_OK) return cli_fail("ckpt list");
    }
    if (rank == 0) printf("%-24s %8s %6s %-20s %10s  %s\n", "name", "step", "epoch", "created", "fitness", "status");
    for (int i = 0; i < n; i++) {
        char path[4400], status[600];
        snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
        int64_t step = -1, epoch = -1;
        double fit = 0;
        const char *when = "-";
        ckpt_reader *r = NULL;
        if (v[i].is_tmp) {
            snprintf(status, sizeof status, "partial (interrupted write)");
        } else if (ckpt_reader_open(&r, path, MPI_COMM_WORLD) == DY_OK) {
            ckpt_attr_int(r, "step", &step);
            ckpt_attr_int(r, "epoch", &epoch);
            if (ckpt_attr_float(r, "best_fitness", &fit) != DY_OK) fit = 0;
            ckpt_attr_str(r, "created", &when);
            snprintf(status, sizeof status, "verified%s%s", v[i].is_latest ? ", latest" : "", v[i].is_best ? ", best" : "");
        } else {
            snprintf(status, sizeof status, "CORRUPT: %.500s", err_msg());
        }
        if (rank == 0)
            printf("%-24s %8lld %6lld %-20s %10.5g  %s\n", v[i].name, (long long)step, (long long)epoch, when, fit, status);
        ckpt_reader_close(r);
    }
    if (rank == 0 && n == 0) printf("(no checkpoints in %s)\n", run_dir);
    free(v);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv, int rank)
{
    const char *sub = argv[1], *out = NULL;
    /* FILE may be a run's `best` or `latest` pointer, as for val and detect. */
    char file[4400];
    if (strcmp(sub, "list") && ckpt_resolve_pointer(argv[2], file, sizeof file) != DY_OK) {
        char what[32];
        snprintf(what, sizeof what, "ckpt %s", sub);
        return cli_fail(what);
    }
    if (strcmp(sub, "list")) argv[2] = file;
    if (!strcmp(sub, "export")) {
        for (int i = 3; i < argc; i++) {
            if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
            else return cli_usage_error("ckpt export", "unknown option \"%s\"", argv[i]);
        }
        if (!out) return cli_usage_error("ckpt export", "--out WEIGHTS is required");
        if (ckpt_export(argv[2], out, MPI_COMM_WORLD) != DY_OK) return cli_fail("ckpt export");
        if (rank == 0) printf("wrote %s\n", out);
        return CLI_EXIT_OK;
    }
    if (argc != 3) return cli_usage_error("ckpt", "%s takes exactly one argument", sub);
    if (!strcmp(sub, "list")) return do_list(argv[2], rank);
    if (!strcmp(sub, "verify")) return do_verify(argv[2], rank);
    if (!strcmp(sub, "info")) return do_info(argv[2], rank);
    return cli_usage_error("ckpt", "unknown subcommand \"%s\"", sub);
}

int cli_ckpt_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(ckpt_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (argc < 3) return cli_usage_error("ckpt", "%s needs an argument (see --help)", argv[1]);
    dist_ctx d;
    if (dist_init(&argc, &argv, &d) != DY_OK) return cli_fail("ckpt");
    log_setup(d.rank, 0, LOG_INFO);
    int rc = run(argc, argv, d.rank);
    dist_finalize(&d);
    return rc;
}
