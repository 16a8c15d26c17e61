/* cli_train.c -- `dyolo train`: data-parallel training under mpirun or srun. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "dist/dist.h"
#include "dist/watchdog.h"
#include "io/ckpt.h"
#include "train/trainer.h"

static const char train_help[] =
    "usage: mpirun -np N dyolo train --config FILE [--set KEY=VALUE]... [--resume auto|PATH]\n"
    "\n"
    "Train a YOLO detector data-parallel over the MPI ranks (one per GPU, or CPU\n"
    "ranks). The config names the shards (data.train, data.val), the model spec,\n"
    "the hyperparameters and the run directory (run.out_dir), which receives\n"
    "config.json, metrics.jsonl, summary.json, val.json, pr_curve.png and\n"
    "checkpoints/. Rank 0 prints progress.\n"
    "\n"
    "  --resume auto          continue from the newest checkpoint that verifies in the\n"
    "                         run's checkpoint directory (start fresh when there is none)\n"
    "  --resume PATH          continue from that checkpoint file\n"
    "  --dry-run              start the ranks as the job would, print each rank's node,\n"
    "                         local rank, device (GPU by node-local rank) and transport,\n"
    "                         and exit 0 without loading data or training\n" CLI_COMMON_HELP
    "\n"
    "Exit status: 0 finished, 1 error, 2 usage, 75 checkpointed after a signal\n"
    "(SIGUSR1/SIGTERM/SIGINT): requeue the job and run it again with --resume auto.\n";

static int parse(int argc, char **argv, cli_common *o, const char **resume, int *dry_run)
{
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(o, argc, argv, &i);
        if (r < 0) return cli_usage_error("train", "option \"%s\" needs a value", argv[i]);
        if (r > 0) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(train_help, stdout);
            return -1;
        }
        if (!strcmp(argv[i], "--dry-run")) {
            *dry_run = 1;
            continue;
        }
        if (!strcmp(argv[i], "--resume") && i + 1 < argc) {
            *resume = argv[++i];
            continue;
        }
        if (!strncmp(argv[i], "--resume=", 9)) {
            *resume = argv[i] + 9;
            continue;
        }
        return cli_usage_error("train", "unknown option \"%s\"", argv[i]);
    }
    return 0;
}

int cli_train_main(int argc, char **argv)
{
    cli_common o = {0};
    const char *resume = NULL;
    int dry_run = 0;
    int rc = parse(argc, argv, &o, &resume, &dry_run);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    dist_ctx d;
    memset(&d, 0, sizeof d);
    if (dist_init(&argc, &argv, &d) != DY_OK) return cli_fail("train");
    cfg *c = NULL;
    dy_status s = cli_build_config(&o, &c);
    /* A config file readable on some nodes only must fail every rank, not leave the
     * others waiting in the next collective. */
    s = ckpt_agree(d.world, s);
    if (s == DY_OK) {
        cli_configure_logging(c, &o, d.rank);
        dist_watchdog_set_timeout(cfg_float(c, "dist.timeout_s"));
    }
    if (s == DY_OK) {
        char *json = cfg_to_json(c);
        s = dist_check_same(&d, json ? json : "", "the effective configuration");
        free(json);
    }
    if (s == DY_OK && dry_run) {
        rc = cli_train_dry_run(c, &d);
        cfg_free(c);
        dist_finalize(&d);
        return rc;
    }
    trainer_opts to = {resume};
    trainer_result res;
    memset(&res, 0, sizeof res);
    res.agreed = 1;
    if (s == DY_OK) s = trainer_run(c, &d, &to, &res);
    cfg_free(c);
    if (s != DY_OK) {
        /* Not agreed: the trainer left its (collective) tear-down to the abort. */
        int rc = cli_fail_dist("train", d.rank, d.size, res.agreed);
        dist_finalize(&d);
        return rc;
    }
    if (d.rank == 0) {
        if (res.outcome == TRAINER_PREEMPTED)
            printf("checkpointed after a signal; resume with --resume auto (exit %d)\n", CLI_EXIT_REQUEUE);
        else
            printf("training finished: %ld steps, %.1f images/s, results in %s\n", res.steps, res.images_per_s,
                   res.run_dir);
    }
    dist_finalize(&d);
    return res.outcome == TRAINER_PREEMPTED ? CLI_EXIT_REQUEUE : CLI_EXIT_OK;
}
