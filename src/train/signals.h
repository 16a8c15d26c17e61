/* signals.h -- preemption signals: SIGUSR1/SIGTERM (configurable) and SIGINT ask the
 * trainer to checkpoint and exit with CLI_EXIT_REQUEUE (75).
 *
 * The handler only records the signal in sig_atomic_t variables (async-signal-safe);
 * the trainer polls at step boundaries and calls signals_agree(), a MAX all-reduce,
 * so every rank decides to stop at the same step even if only one got the signal
 * (Slurm may signal just the batch shell's rank).  Signals arriving while the
 * checkpoint is being written are counted and otherwise ignored: the write is never
 * interrupted and the program exits once.  Handlers use SA_RESTART so slow system
 * calls in MPI-IO are resumed, not failed with EINTR.
 *
 * defines: signals_install, signals_uninstall, signals_pending, signals_count,
 *          signals_agree, signals_reset, signals_parse_list, signals_name
 */
#ifndef DY_TRAIN_SIGNALS_H
#define DY_TRAIN_SIGNALS_H

#include <mpi.h>

#include "core/err.h"

/* Parse "USR1,TERM" (also "SIGUSR1", "SIGTERM,SIGHUP", numbers) into a list of
 * signal numbers; SIGINT is always added.  Unknown names are errors naming them. */
dy_status signals_parse_list(const char *list, int *sigs, int max, int *n);
/* Install the flag-setting handler for the signals in `list` (see above). */
dy_status signals_install(const char *list);
/* Restore the handlers that were in place before signals_install. */
void signals_uninstall(void);
/* Local: the first signal received since install/reset (0 if none). */
int signals_pending(void);
/* Local: how many signals arrived since install/reset. */
int signals_count(void);
void signals_reset(void);
/* Collective MAX over comm: *sig is the (numerically largest) signal any rank got,
 * 0 if none; every rank gets the same answer. */
dy_status signals_agree(MPI_Comm comm, int *sig);
const char *signals_name(int sig);

#endif
