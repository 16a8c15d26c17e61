/* affinity.h -- the CPUs a rank's compute threads run on.
 *
 * Why this exists: Open MPI binds every rank to one core by default when it starts
 * two or fewer (to a socket beyond), so `mpirun -np 1 dyolo train` with two compute
 * threads ran both of them, and the loader, on ONE core: 1 rank x 2 threads trained at
 * half the speed of 2 ranks x 1 thread on a 2-core machine (17 vs 37 img/s), while
 * `dyolo bench step`, started without mpirun, ran at full speed.  At start-up each
 * rank compares its affinity mask with the threads it will run and, under
 * runtime.bind=auto, moves itself to its own block of runtime.threads CPUs (local rank
 * r takes the r-th block of the CPUs its cgroup allows), saying so in the log;
 * runtime.bind=keep keeps the launcher's binding and only warns.
 *
 * defines: aff_plan, aff_cpus, aff_allowed, aff_apply, aff_threads, aff_default_threads,
 *          aff_format, AFF_MAX */
#ifndef DY_CORE_AFFINITY_H
#define DY_CORE_AFFINITY_H

#include <stddef.h>

#include "core/err.h"

#define AFF_MAX 1024

/* The pure decision (unit-tested): with `allowed` CPUs (sorted ids) available to the
 * node's ranks, local rank r of n, wanting `threads` compute threads and currently
 * allowed on `cur` CPUs: writes the CPU ids to bind to into out[] (count in *nout)
 * and returns 1 when the rank should be re-bound, 0 when its mask already suffices
 * (or there is nothing better to give it). */
int aff_plan(const int *allowed, int nallowed, int cur, int local_rank, int local_size, int threads, int *out,
             int *nout);
/* The calling thread's affinity mask as CPU ids; returns the count (0 on failure). */
int aff_cpus(int *ids, int max);
/* Binds the calling thread (and so every thread it creates later) to ids[0..n). */
dy_status aff_apply(const int *ids, int n);
/* The CPUs this node lets the rank use (cgroup v2 cpuset.cpus.effective, else every
 * online CPU); returns the count. */
int aff_allowed(int *ids, int max);
/* The CPUs of the calling thread's affinity mask (at least 1). */
int aff_threads(void);
/* The default compute threads of a rank (runtime.threads = 0, --threads absent): the
 * CPUs the node allows over its local ranks, at least 1. */
int aff_default_threads(int local_ranks);
/* "0-3,8" for ids (sorted) into buf. */
void aff_format(const int *ids, int n, char *buf, size_t len);

#endif
