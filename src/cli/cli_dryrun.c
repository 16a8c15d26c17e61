/* cli_dryrun.c -- `dyolo train --dry-run`: what a job would run where, without
 * training.  Every rank makes the real start-up decision (dist_runtime_choose: the
 * backend and transport of dist_runtime_decide, the device by node-local rank of
 * dist_select_device, CUDA_VISIBLE_DEVICES respected) and rank 0 prints one line per
 * rank, in rank order, then the job exits 0 without reading data or building the
 * model.  It is an option of `train` rather than its own subcommand so that the Slurm
 * template can run the job's exact command line and config with one word added
 * (DYOLO_DRY_RUN=1): whatever it prints is what that job would do.
 *
 * defines: cli_train_dry_run */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/check.h"
#include "dist/runtime.h"

#define DRY_LINE 1024

/* Slurm's name of the node (the test cluster's virtual nodes share one host, so the
 * processor name alone cannot tell them apart); the host when it differs. */
static void node_names(const dist_ctx *d, char *buf, size_t len)
{
    const char *sn = getenv("SLURMD_NODENAME");
    if (sn && *sn && strcmp(sn, d->node_name))
        snprintf(buf, len, "%s (host %s)", sn, d->node_name);
    else
        snprintf(buf, len, "%s", d->node_name);
}

static void format_line(const dist_ctx *d, dy_status s, const dist_runtime_choice *ch, char *line)
{
    char node[2 * DIST_NODE_NAME_MAX + 16], dev[1024];
    node_names(d, node, sizeof node);
    const char *vis = getenv("CUDA_VISIBLE_DEVICES");
    if (s != DY_OK)
        snprintf(dev, sizeof dev, "error: %s", err_msg());
    else if (ch->use_gpu)
        snprintf(dev, sizeof dev, "device cuda:%d = physical GPU %s (%s), transport nccl", ch->dev.device,
                 ch->dev.physical, ch->gpu_name[0] ? ch->gpu_name : "?");
    else
        snprintf(dev, sizeof dev, "device cpu (%s), transport mpi", ch->why_cpu);
    /* Truncation is acceptable in a report line; the check of the return keeps
     * -Wformat-truncation quiet. */
    if (snprintf(line, DRY_LINE, "rank %d of %d: node %s [node %d of %d], local rank %d of %d, %s%s%s%s%s%s",
             d->rank, d->size, node, d->node_index, d->nnodes, d->local_rank, d->local_size, dev,
             vis ? ", CUDA_VISIBLE_DEVICES=" : "", vis ? vis : "", s == DY_OK && ch->dev.warning[0] ? " (warning: " : "",
             s == DY_OK ? ch->dev.warning : "", s == DY_OK && ch->dev.warning[0] ? ")" : "") >= DRY_LINE)
        memcpy(line + DRY_LINE - 4, "...", 4);
}

int cli_train_dry_run(const cfg *c, const dist_ctx *d)
{
    dist_runtime_choice ch;
    dy_status s = dist_runtime_choose(c, d, &ch);
    char line[DRY_LINE];
    format_line(d, s, &ch, line);
    /* Every rank reaches this gather whatever its status: an error is a line too. */
    char *all = d->rank == 0 ? malloc((size_t)d->size * DRY_LINE) : NULL;
    if (d->rank == 0 && !all) return cli_fail_dist("train --dry-run", d->rank, d->size, 0);
    int rc = MPI_Gather(line, DRY_LINE, MPI_CHAR, all, DRY_LINE, MPI_CHAR, 0, d->world);
    int bad = s != DY_OK || rc != MPI_SUCCESS, any = bad;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, d->world);
    if (d->rank == 0) {
        printf("dyolo train --dry-run: %d rank(s) on %d node(s); runtime.device=%s, dist.transport=%s\n", d->size,
               d->nnodes, cfg_str(c, "runtime.device"), cfg_str(c, "dist.transport"));
        for (int r = 0; rc == MPI_SUCCESS && r < d->size; r++) printf("dry-run: %s\n", all + (size_t)r * DRY_LINE);
        printf("dry-run: %s; no data loaded, nothing trained\n",
               any ? "FAILED: the job would not start (see the error lines)" : "ok");
        fflush(stdout);
    }
    free(all);
    return any ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
