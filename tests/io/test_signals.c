/* test_signals.c -- the preemption-signal flag (no MPI needed): parsing the list,
 * the handler recording the first signal and counting later ones, and restoring
 * the previous handlers. */
#include <signal.h>
#include <string.h>

#include "train/signals.h"
#include "tests/tap.h"

static volatile sig_atomic_t old_handler_ran = 0;
static void old_handler(int sig) { old_handler_ran = sig; }

int main(void)
{
    int sigs[16], n = 0;
    TAP_EQ_INT(signals_parse_list("USR1,TERM", sigs, 16, &n), DY_OK, "parse USR1,TERM");
    TAP_OK(n == 3 && sigs[0] == SIGUSR1 && sigs[1] == SIGTERM && sigs[2] == SIGINT, "SIGINT is always added (%d)", n);
    TAP_EQ_INT(signals_parse_list("SIGHUP, 12", sigs, 16, &n), DY_OK, "SIG prefix, spaces and numbers");
    TAP_OK(n == 3 && sigs[0] == SIGHUP && sigs[1] == 12, "parsed HUP and 12");
    TAP_EQ_INT(signals_parse_list("USR1,KILL", sigs, 16, &n), DY_EINVAL, "KILL cannot be caught");
    TAP_STR_HAS(err_msg(), "\"KILL\"", "error names the culprit");
    TAP_EQ_INT(signals_parse_list("9", sigs, 16, &n), DY_EINVAL, "neither can signal 9");

    signal(SIGUSR1, old_handler);
    TAP_EQ_INT(signals_install("USR1"), DY_OK, "install");
    TAP_EQ_INT(signals_pending(), 0, "nothing pending at first");
    raise(SIGUSR1);
    TAP_EQ_INT(signals_pending(), SIGUSR1, "SIGUSR1 recorded");
    raise(SIGINT);
    TAP_EQ_INT(signals_pending(), SIGUSR1, "a second signal keeps the first one");
    TAP_EQ_INT(signals_count(), 2, "and is counted (the process did not exit)");
    TAP_EQ_INT(old_handler_ran, 0, "the previous handler did not run");
    signals_reset();
    TAP_EQ_INT(signals_pending(), 0, "reset clears it");
    signals_uninstall();
    raise(SIGUSR1);
    TAP_EQ_INT(old_handler_ran, SIGUSR1, "uninstall restores the previous handler");
    TAP_EQ_INT(signals_pending(), 0, "which no longer sets the flag");
    return tap_done();
}
