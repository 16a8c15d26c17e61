/* log.h -- rank-aware logging and progress reporting.
 *
 * By default only rank 0 prints; with all_ranks every line carries "[rN]" (and the
 * node name when set).  Errors print from every rank, since an error on rank 7 is
 * exactly what a user needs to see.  Lines go to stderr with an ISO timestamp;
 * stdout is kept for results (tables, JSON).
 *
 * Progress: on a terminal a live bar redrawn in place; otherwise (Slurm logs) a plain
 * line every `interval` seconds, so logs stay readable.
 *
 * defines: log_level, log_setup, log_set_node, log_parse_level, log_msg, log_error,
 *          log_warn, log_info, log_debug, log_enabled, log_progress + functions
 */
#ifndef DY_CORE_LOG_H
#define DY_CORE_LOG_H

#include <stdio.h>

#include "core/err.h"

typedef enum { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

void log_setup(int rank, int all_ranks, log_level level);
void log_set_node(const char *node);
void log_set_stream(FILE *f); /* tests capture output; default stderr */
dy_status log_parse_level(const char *s, log_level *out);
const char *log_level_name(log_level l);
int log_enabled(log_level l);
void log_msg(log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

typedef struct {
    char label[64];
    long total;      /* 0 when unknown */
    double t0;       /* start time (monotonic seconds) */
    double last;     /* time of the last print */
    double interval; /* seconds between plain lines */
    int tty;         /* live bar */
    int active;      /* this rank prints */
} log_progress;

/* interval <= 0 picks the default (10 s). */
void log_progress_begin(log_progress *p, const char *label, long total, double interval);
void log_progress_update(log_progress *p, long done, const char *extra);
void log_progress_end(log_progress *p, long done, const char *extra);
/* Force the tty decision (tests); -1 restores auto-detection. */
void log_progress_force_tty(int tty);

#endif
