/* signals.c -- flag-setting handlers for preemption signals and their collective
 * agreement at step boundaries (see signals.h for the design). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/check.h"
#include "train/signals.h"

#define SIGNALS_MAX 16

static volatile sig_atomic_t sig_first = 0, sig_count = 0;
static int installed[SIGNALS_MAX], ninstalled = 0;
static struct sigaction saved[SIGNALS_MAX];

static void on_signal(int sig)
{
    /* Only sig_atomic_t stores: safe at any point, including inside a write. */
    if (!sig_first) sig_first = sig;
    if (sig_count < 1000000) sig_count = sig_count + 1;
}

static const struct {
    const char *name;
    int sig;
} known[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"INT", SIGINT},
             {"HUP", SIGHUP},   {"QUIT", SIGQUIT}, {"XCPU", SIGXCPU}, {"ALRM", SIGALRM}};

const char *signals_name(int sig)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].sig == sig) return known[i].name;
    return "?";
}

static dy_status add_sig(int *sigs, int max, int *n, int sig)
{
    for (int i = 0; i < *n; i++)
        if (sigs[i] == sig) return DY_OK;
    if (*n >= max) return DY_ERR(DY_EINVAL, "too many signals");
    sigs[(*n)++] = sig;
    return DY_OK;
}

static dy_status parse_one(const char *tok, int *sig)
{
    const char *name = strncasecmp(tok, "SIG", 3) ? tok : tok + 3;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcasecmp(name, known[i].name)) {
            *sig = known[i].sig;
            return DY_OK;
        }
    char *end;
    long v = strtol(tok, &end, 10);
    if (*tok && !*end && v > 0 && v < 64 && v != SIGKILL && v != SIGSTOP) {
        *sig = (int)v;
        return DY_OK;
    }
    return DY_ERR(DY_EINVAL, "ckpt.signals: unknown or uncatchable signal \"%s\" (use e.g. USR1,TERM)", tok);
}

dy_status signals_parse_list(const char *list, int *sigs, int max, int *n)
{
    *n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int sig = 0;
        DY_TRY(parse_one(tok, &sig));
        DY_TRY(add_sig(sigs, max, n, sig));
    }
    return add_sig(sigs, max, n, SIGINT);
}

dy_status signals_install(const char *list)
{
    int sigs[SIGNALS_MAX], n;
    DY_TRY(signals_parse_list(list, sigs, SIGNALS_MAX, &n));
    signals_uninstall();
    signals_reset();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < n; i++) {
        SYS_CHECK(sigaction(sigs[i], &sa, &saved[ninstalled]) == 0, DY_EINVAL, "installing a handler for SIG%s",
                  signals_name(sigs[i]));
        installed[ninstalled++] = sigs[i];
    }
    return DY_OK;
}

void signals_uninstall(void)
{
    for (int i = 0; i < ninstalled; i++) sigaction(installed[i], &saved[i], NULL);
    ninstalled = 0;
}

int signals_pending(void) { return sig_first; }
int signals_count(void) { return sig_count; }

void signals_reset(void)
{
    sig_first = 0;
    sig_count = 0;
}

dy_status signals_agree(MPI_Comm comm, int *sig)
{
    int mine = sig_first;
    MPI_CHECK(MPI_Allreduce(&mine, sig, 1, MPI_INT, MPI_MAX, comm));
    return DY_OK;
}
