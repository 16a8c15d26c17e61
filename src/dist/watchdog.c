/* watchdog.c -- the per-rank watchdog thread (see watchdog.h).
 *
 * Calls in progress live in a small table of slots (one per thread inside a
 * blocking MPI call, so a fixed 64 suffice); the thread scans it a few times per
 * second.  A mutex guards the table: a begin/end costs an uncontended lock, which
 * is nothing next to a collective. */
#include "dist/watchdog.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/timer.h"
#include "dist/dist.h"

#define WD_SLOTS 64

static struct {
    pthread_mutex_t mu;
    pthread_t thr;
    int started;
    int stop;
    int rank;
    double timeout_s;
    char note[1024]; /* dist_watchdog_note */
    struct {
        double since; /* 0: free */
        const char *op;
    } slot[WD_SLOTS];
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER};

static atomic_int wd_on;              /* started and timeout > 0 */
static _Thread_local int wd_depth;    /* brackets open on this thread */

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void *wd_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&wd.mu);
        double lim = wd.timeout_s, now = timer_now(), waited = 0;
        const char *op = NULL;
        char note[sizeof wd.note];
        memcpy(note, wd.note, sizeof note);
        int stop = wd.stop;
        for (int i = 0; i < WD_SLOTS && lim > 0 && !stop; i++)
            if (wd.slot[i].since > 0 && now - wd.slot[i].since > lim) {
                op = wd.slot[i].op;
                waited = now - wd.slot[i].since;
                break;
            }
        pthread_mutex_unlock(&wd.mu);
        if (stop) return NULL;
        if (op) {
            char why[1600];
            if (note[0])
                snprintf(why, sizeof why,
                         "rank %d: %s (then the watchdog: %s waited %.1f s, dist.timeout_s = %g s, for ranks that "
                         "never joined); ending the job",
                         wd.rank, note, op, waited, lim);
            else
                snprintf(why, sizeof why,
                         "rank %d: watchdog: %s has waited %.1f s, longer than dist.timeout_s = %g s: another rank "
                         "failed, died or is stopped and never joined it; ending the job",
                         wd.rank, op, waited, lim);
            dist_abort(1, why);
        }
        /* A tenth of the limit, so the job ends within ~1.1 x timeout. */
        double period = lim > 0 ? lim / 10 : 0.5;
        sleep_s(period < 0.01 ? 0.01 : period > 0.5 ? 0.5 : period);
    }
}

dy_status dist_watchdog_start(int rank, double timeout_s)
{
    pthread_mutex_lock(&wd.mu);
    int started = wd.started;
    wd.rank = rank;
    wd.timeout_s = timeout_s;
    wd.stop = 0;
    pthread_mutex_unlock(&wd.mu);
    if (!started) {
        /* The thread takes no signals: the trainer's preemption handlers and the
         * tests' SIGSTOP concern the process, and a blocked mask is inherited. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int rc = pthread_create(&wd.thr, NULL, wd_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) return DY_ERR(DY_ENOMEM, "rank %d: cannot start the watchdog thread", rank);
        pthread_mutex_lock(&wd.mu);
        wd.started = 1;
        pthread_mutex_unlock(&wd.mu);
    }
    atomic_store(&wd_on, timeout_s > 0);
    return DY_OK;
}

void dist_watchdog_set_timeout(double timeout_s)
{
    pthread_mutex_lock(&wd.mu);
    wd.timeout_s = timeout_s;
    atomic_store(&wd_on, wd.started && timeout_s > 0);
    pthread_mutex_unlock(&wd.mu);
}

void dist_watchdog_note(const char *msg)
{
    pthread_mutex_lock(&wd.mu);
    snprintf(wd.note, sizeof wd.note, "%s", msg ? msg : "");
    pthread_mutex_unlock(&wd.mu);
}

void dist_watchdog_stop(void)
{
    atomic_store(&wd_on, 0);
    pthread_mutex_lock(&wd.mu);
    int started = wd.started;
    wd.stop = 1;
    wd.started = 0;
    pthread_mutex_unlock(&wd.mu);
    if (started) pthread_join(wd.thr, NULL);
}

int dist_watch_begin(const char *op)
{
    if (wd_depth++ > 0 || !atomic_load_explicit(&wd_on, memory_order_relaxed)) return -1;
    int tok = -1;
    pthread_mutex_lock(&wd.mu);
    for (int i = 0; i < WD_SLOTS && tok < 0; i++)
        if (wd.slot[i].since == 0) {
            wd.slot[i].since = timer_now();
            wd.slot[i].op = op;
            tok = i;
        }
    pthread_mutex_unlock(&wd.mu);
    return tok;
}

void dist_watch_end(int token)
{
    if (wd_depth > 0) wd_depth--;
    if (token < 0 || token >= WD_SLOTS) return;
    pthread_mutex_lock(&wd.mu);
    wd.slot[token].since = 0;
    pthread_mutex_unlock(&wd.mu);
}
