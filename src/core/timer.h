/* timer.h -- monotonic wall-clock time for benchmarks, progress and watchdogs.
 * defines: timer_now */
#ifndef DY_CORE_TIMER_H
#define DY_CORE_TIMER_H

#include <time.h>

static inline double timer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
