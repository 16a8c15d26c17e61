/* fault.h -- fault injection for the failure tests: make one rank fail at one phase.
 *
 * DYOLO_FAULT=RANK:PHASE[:KIND] makes world rank RANK misbehave the first time (and
 * every later time) the program reaches PHASE.  Phases: setup, pack, load, step,
 * validation, checkpoint, teardown.  Kinds:
 *   error  (default) fault_at returns DY_EIO "injected fault at phase P", which takes
 *          the ordinary error path of the caller, as a real failure would;
 *   hang   the calling thread prints one line and sleeps forever (a deadlock);
 *   stop   the process prints one line and stops itself (SIGSTOP, as `kill -STOP`:
 *          its own threads, the watchdog included, stop too).
 * The other ranks must then end the job within dist.timeout_s (tests/e2e/faults.sh).
 *
 * Off by default and cheap: the variable is parsed once by fault_setup (dist_init);
 * unset, fault_at is one load and one compare.  A malformed value is reported once
 * and ignored.
 *
 * defines: fault_setup, fault_at
 */
#ifndef DY_CORE_FAULT_H
#define DY_CORE_FAULT_H

#include "core/err.h"

/* Read DYOLO_FAULT for this world rank (call once, before other threads start). */
void fault_setup(int rank);
/* DY_OK unless DYOLO_FAULT names this rank and `phase` (then see the kinds above). */
dy_status fault_at(const char *phase);

#endif
