/* watchdog.h -- the per-rank watchdog thread: no blocking MPI call may wait forever.
 *
 * A rank blocked in a collective cannot report anything when a peer has failed,
 * died or stopped (kill -STOP): the peer will never join, and the blocked thread
 * never returns to check a clock.  So a separate thread checks the clock instead.
 * Every blocking MPI call of the process -- dyolo's own and those HDF5 makes inside
 * H5Fclose, H5Dwrite, ... -- is bracketed by dist_watch_begin/end (mpi_watch.c
 * interposes them through the MPI profiling interface); when one has waited longer
 * than the timeout (dist.timeout_s), the thread prints which call on which rank,
 * and takes the one abort path (dist_abort -> MPI_Abort), which ends every rank.
 * The comm layer's own watchdog (comm.c) still names the missing ranks of the
 * collectives it runs: those poll with MPI_Test, which is not bracketed.
 *
 * dist_init starts the thread (with DIST_TIMEOUT_DEFAULT_S, on more than one rank);
 * commands with a config set dist.timeout_s; dist_finalize stops it.
 *
 * defines: DIST_TIMEOUT_DEFAULT_S, dist_watchdog_start, dist_watchdog_set_timeout,
 *          dist_watchdog_note, dist_watchdog_stop, dist_watch_begin, dist_watch_end
 */
#ifndef DY_DIST_WATCHDOG_H
#define DY_DIST_WATCHDOG_H

#include "core/err.h"

/* The default of dist.timeout_s (dist_config.c), used until a config sets it. */
#define DIST_TIMEOUT_DEFAULT_S 600.0

/* Start the thread for world rank `rank`; timeout_s <= 0 leaves the watch off. */
dy_status dist_watchdog_start(int rank, double timeout_s);
/* Change the limit (<= 0: off); calls already waiting are measured against it. */
void dist_watchdog_set_timeout(double timeout_s);
/* The error this rank is handling (agreeing on it, tearing down after it), or NULL
 * when done: if a collective on that path never completes (a peer waits in another
 * one), the watchdog's message carries the error, so the cause is printed, not
 * just the hang. */
void dist_watchdog_note(const char *msg);
/* Stop and join the thread (idempotent); blocking calls are no longer watched. */
void dist_watchdog_stop(void);

/* Bracket a blocking call: begin returns a token for end.  Nested brackets on one
 * thread count once (the outermost); when the watch is off, about one load. */
int dist_watch_begin(const char *op);
void dist_watch_end(int token);

#endif
