/* log.c -- implementation of log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/timer.h"

static struct {
    int rank;
    int all_ranks;
    log_level level;
    char node[64];
    FILE *out;
    int force_tty;
} log_state = {0, 0, LOG_INFO, "", NULL, -1};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_setup(int rank, int all_ranks, log_level level)
{
    log_state.rank = rank;
    log_state.all_ranks = all_ranks;
    log_state.level = level;
}

void log_set_node(const char *node) { snprintf(log_state.node, sizeof log_state.node, "%s", node); }
void log_set_stream(FILE *f) { log_state.out = f; }
void log_progress_force_tty(int tty) { log_state.force_tty = tty; }
const char *log_level_name(log_level l) { return level_names[l]; }

static FILE *log_out(void) { return log_state.out ? log_state.out : stderr; }

dy_status log_parse_level(const char *s, log_level *out)
{
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return DY_OK;
        }
    return DY_ERR(DY_EINVAL, "unknown log level \"%s\" (expected error, warn, info or debug)", s);
}

int log_enabled(log_level l)
{
    if (l > log_state.level) return 0;
    return l == LOG_ERROR || log_state.all_ranks || log_state.rank == 0;
}

static void log_prefix(char *buf, size_t len, log_level l)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char who[96] = "";
    if (log_state.all_ranks || l == LOG_ERROR) {
        if (log_state.node[0])
            snprintf(who, sizeof who, " [r%d %s]", log_state.rank, log_state.node);
        else
            snprintf(who, sizeof who, " [r%d]", log_state.rank);
    }
    snprintf(buf, len, "%s.%03dZ%s %-5s", ts, (int)(tv.tv_usec / 1000), who, level_names[l]);
}

void log_msg(log_level l, const char *fmt, ...)
{
    if (!log_enabled(l)) return;
    char prefix[160], body[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    log_prefix(prefix, sizeof prefix, l);
    /* One fprintf per line so ranks sharing a terminal do not interleave mid-line. */
    fprintf(log_out(), "%s %s\n", prefix, body);
    fflush(log_out());
}

void log_progress_begin(log_progress *p, const char *label, long total, double interval)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->t0 = p->last = timer_now();
    p->interval = interval > 0 ? interval : 10.0;
    p->active = log_enabled(LOG_INFO) && (log_state.rank == 0 || log_state.all_ranks);
    p->tty = log_state.force_tty >= 0 ? log_state.force_tty : isatty(fileno(log_out()));
}

static void format_eta(char *buf, size_t len, double sec)
{
    if (sec < 0 || sec > 1e7) {
        snprintf(buf, len, "--:--");
        return;
    }
    long s = (long)(sec + 0.5);
    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf(buf, len, "%02ld:%02ld", s / 60, s % 60);
}

static void progress_print(log_progress *p, long done, const char *extra, int final)
{
    double now = timer_now(), el = now - p->t0;
    double frac = p->total > 0 ? (double)done / (double)p->total : 0.0;
    char eta[32];
    format_eta(eta, sizeof eta, frac > 0 ? el / frac - el : -1);
    if (p->tty) {
        char bar[31];
        int fill = (int)(frac * 30 + 0.5);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(log_out(), "\r%s [%s] %ld/%ld %3.0f%% eta %s %s\033[K%s", p->label, bar, done,
                p->total, 100 * frac, eta, extra ? extra : "", final ? "\n" : "");
    } else {
        char prefix[160];
        log_prefix(prefix, sizeof prefix, LOG_INFO);
        fprintf(log_out(), "%s %s %ld/%ld (%.1f%%) elapsed %.1fs eta %s %s\n", prefix, p->label,
                done, p->total, 100 * frac, el, eta, extra ? extra : "");
    }
    fflush(log_out());
    p->last = now;
}

void log_progress_update(log_progress *p, long done, const char *extra)
{
    if (!p->active) return;
    double now = timer_now();
    /* A terminal bar redraws often; a log file gets a line per interval. */
    if (now - p->last < (p->tty ? 0.1 : p->interval)) return;
    progress_print(p, done, extra, 0);
}

void log_progress_end(log_progress *p, long done, const char *extra)
{
    if (!p->active) return;
    progress_print(p, done, extra, 1);
}
