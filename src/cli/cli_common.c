/* cli_common.c -- option handling and config assembly shared by subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/affinity.h"
#include "core/log.h"
#include "dist/dist.h"

static int takes_value(const char *opt, int argc, char **argv, int *i, const char **val)
{
    size_t n = strlen(opt);
    const char *a = argv[*i];
    if (strncmp(a, opt, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

int cli_common_option(cli_common *o, int argc, char **argv, int *i)
{
    const char *v = NULL;
    int r;
    if ((r = takes_value("--config", argc, argv, i, &v))) {
        o->config_file = v;
        return r;
    }
    if ((r = takes_value("--set", argc, argv, i, &v))) {
        if (r < 0) return r;
        if (o->nsets >= CLI_MAX_SETS) return -1;
        o->sets[o->nsets++] = v;
        return 1;
    }
    if ((r = takes_value("--log-level", argc, argv, i, &v))) {
        o->log_level = v;
        return r;
    }
    if ((r = takes_value("--device", argc, argv, i, &v))) {
        o->device = v;
        return r;
    }
    if (strcmp(argv[*i], "--log-all-ranks") == 0) {
        o->log_all_ranks = 1;
        return 1;
    }
    return 0;
}

dy_status cli_build_config(const cli_common *o, cfg **out)
{
    cfg *c = NULL;
    DY_TRY(cfg_new(&c));
    dy_status s = DY_OK;
    if (o->config_file) s = cfg_load_file(c, o->config_file);
    for (int i = 0; s == DY_OK && i < o->nsets; i++) s = cfg_set(c, o->sets[i]);
    if (s == DY_OK && o->log_level) {
        char set[128];
        snprintf(set, sizeof set, "log.level=%s", o->log_level);
        s = cfg_set(c, set);
    }
    if (s == DY_OK && o->log_all_ranks > 0) s = cfg_set(c, "log.all_ranks=true");
    if (s == DY_OK && o->device) {
        char set[128];
        snprintf(set, sizeof set, "runtime.device=%.64s", o->device);
        s = cfg_set(c, set);
    }
    if (s != DY_OK) {
        cfg_free(c);
        return s;
    }
    *out = c;
    return DY_OK;
}

void cli_configure_logging(const cfg *c, const cli_common *o, int rank)
{
    (void)o;
    log_level lvl = LOG_INFO;
    log_parse_level(cfg_str(c, "log.level"), &lvl);
    log_setup(rank, cfg_bool(c, "log.all_ranks"), lvl);
}

int cli_fail(const char *cmd)
{
    fprintf(stderr, "dyolo %s: error: %s\n", cmd, err_msg());
    return CLI_EXIT_ERROR;
}

/* The rank an agreement (dist_agree) attributed the message to: its first
 * "rank K: ", maybe behind context prefixes; -1 when there is none. */
static int attributed_rank(const char *m)
{
    for (const char *p = strstr(m, "rank "); p; p = strstr(p + 1, "rank ")) {
        int k = -1, n = 0;
        if ((p == m || p[-1] == ' ') && sscanf(p, "rank %d:%n", &k, &n) == 1 && n > 0) return k;
    }
    return -1;
}

int cli_fail_dist(const char *cmd, int rank, int size, int agreed)
{
    if (agreed || size == 1) {
        if (rank == 0) cli_fail(cmd);
        return CLI_EXIT_ERROR;
    }
    const char *m = err_msg();
    int k = attributed_rank(m);
    if (k >= 0 && k != rank) {
        /* Rank k prints this and aborts; give its line time to reach mpirun before
         * our abort could kill it. */
        sleep(2);
        dist_abort(CLI_EXIT_ERROR, "another rank failed (its error is above)");
    }
    if (!strncmp(m, "rank ", 5))
        fprintf(stderr, "dyolo %s: error: %s\n", cmd, m);
    else
        fprintf(stderr, "dyolo %s: error: rank %d: %s\n", cmd, rank, m);
    dist_abort(CLI_EXIT_ERROR, "ending every rank after the error above");
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "dyolo %s: %s (see `dyolo %s --help`)\n", cmd, buf, cmd);
    return CLI_EXIT_USAGE;
}

/* Compute threads per rank when the user gave none: the node's cores shared by its
 * ranks, at least 1.  Always resolved to a number so the backend is configured
 * (OpenBLAS single-threaded inside our own parallel loops); left at 0, OpenBLAS
 * kept its own thread count, which follows mpirun's core binding and changed the
 * rounding of the GEMMs between 1 and 3 ranks. */
int cli_default_threads(int requested, int local_ranks)
{
    return requested > 0 ? requested : aff_default_threads(local_ranks);
}

