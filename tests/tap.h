/* tap.h -- a minimal TAP producer for dyolo's C tests (run by automake's
 * tap-driver.sh).  Each check prints "ok N - name" or "not ok N - name" with a
 * diagnostic; tap_done() prints the plan and returns the exit status.
 * defines: TAP_OK, TAP_EQ_INT, TAP_NEAR, TAP_STR_HAS, tap_done, tap_diag */
#ifndef DY_TESTS_TAP_H
#define DY_TESTS_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n = 0, tap_failed = 0;

static inline int tap_report(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_n++;
    if (!ok) tap_failed++;
    printf("%sok %d - ", ok ? "" : "not ", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok) printf("#   failed at %s:%d\n", file, line);
    fflush(stdout);
    return ok;
}

static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

#define TAP_OK(cond, ...) tap_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define TAP_EQ_INT(got, want, name)                                                           \
    do {                                                                                      \
        long long g_ = (long long)(got), w_ = (long long)(want);                              \
        if (!TAP_OK(g_ == w_, "%s", name)) tap_diag("got %lld, want %lld", g_, w_);           \
    } while (0)

#define TAP_NEAR(got, want, tol, name)                                                        \
    do {                                                                                      \
        double g_ = (double)(got), w_ = (double)(want);                                       \
        if (!TAP_OK(fabs(g_ - w_) <= (tol), "%s", name))                                      \
            tap_diag("got %.9g, want %.9g (tol %g)", g_, w_, (double)(tol));                  \
    } while (0)

#define TAP_STR_HAS(hay, needle, name)                                                        \
    do {                                                                                      \
        const char *h_ = (hay), *n_ = (needle);                                               \
        if (!TAP_OK(h_ && strstr(h_, n_), "%s", name))                                        \
            tap_diag("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);               \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
