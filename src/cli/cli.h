/* cli.h -- the command-line layer: subcommand entry points and the helpers they
 * share (common options, config assembly, error reporting).  This is the only layer
 * that prints errors and chooses exit codes.
 *
 * Exit codes (documented in README): 0 success, 1 error, 2 usage error,
 * 75 (EX_TEMPFAIL) checkpointed after a preemption signal: requeue me.
 *
 * defines: cli_common, cli_common_parse, cli_build_config, cli_fail, cli_fail_dist, cli_usage_error,
 *          CLI_EXIT_*, and each subcommand's *_main
 */
#ifndef DY_CLI_CLI_H
#define DY_CLI_CLI_H

#include "core/config.h"
#include "core/err.h"
#include "dist/dist.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_ERROR = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_REQUEUE = 75 };

#define CLI_MAX_SETS 256

/* Options every config-driven subcommand accepts. */
typedef struct {
    const char *config_file;
    const char *sets[CLI_MAX_SETS];
    int nsets;
    const char *log_level;  /* NULL: from config */
    int log_all_ranks;      /* -1: from config */
    const char *device;     /* --device: runtime.device (NULL: from config) */
} cli_common;

/* Handles --config/--set/--log-level/--log-all-ranks at argv[*i]; returns 1 if it
 * consumed the option (advancing *i), 0 if not ours, -1 on a usage error. */
int cli_common_option(cli_common *o, int argc, char **argv, int *i);
/* Defaults < file < --set; also applies the logging options. */
dy_status cli_build_config(const cli_common *o, cfg **out);
void cli_configure_logging(const cfg *c, const cli_common *o, int rank);

/* Print "dyolo CMD: error: <err_msg()>" and return CLI_EXIT_ERROR. */
int cli_fail(const char *cmd);
/* The end of a failed command on `rank` of `size` ranks.  agreed: every rank holds
 * this error (it came out of an agreement): rank 0 prints it and the caller
 * finalizes as usual.  Otherwise the other ranks may wait in a collective this
 * rank will never join, so nothing collective may follow: the rank prints its error
 * once, as "rank K: ...", and takes the one abort path, which ends every rank (an
 * error an agreement attributed to another rank is left to that rank to print).
 * Returns CLI_EXIT_ERROR when the caller should finalize and exit. */
int cli_fail_dist(const char *cmd, int rank, int size, int agreed);
/* Threads per rank: requested when > 0, else cores / local_ranks (at least 1). */
int cli_default_threads(int requested, int local_ranks);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define CLI_COMMON_HELP                                                                   \
    "  --config FILE          JSON config file (may \"include\" others)\n"                \
    "  --set KEY.PATH=VALUE   override one config value (repeatable)\n"                   \
    "  --log-level LEVEL      error, warn, info or debug\n"                               \
    "  --log-all-ranks        log from every rank, prefixed with [rN]\n"                  \
    "  --device cpu|cuda|auto compute device (runtime.device; cuda: GPU by local rank)\n" \
    "                         (cpu-staged, for testing: the CPU through the device\n"     \
    "                         code paths, results equal to cpu)\n"                        \
    "  -h, --help             show this help\n"

int cli_version_main(int argc, char **argv);
int cli_config_main(int argc, char **argv);
int cli_synth_main(int argc, char **argv);
int cli_pack_main(int argc, char **argv);
int cli_model_main(int argc, char **argv);
int cli_ckpt_main(int argc, char **argv);
int cli_import_main(int argc, char **argv);
int cli_train_main(int argc, char **argv);
/* `dyolo train --dry-run` (cli_dryrun.c): rank 0 prints every rank's node, local rank,
 * device and transport; collective on d->world; returns the exit code. */
int cli_train_dry_run(const cfg *c, const dist_ctx *d);

int cli_val_main(int argc, char **argv);
int cli_detect_main(int argc, char **argv);
int cli_bench_main(int argc, char **argv);
int cli_export_main(int argc, char **argv);

#endif
