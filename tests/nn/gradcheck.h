/* gradcheck.h -- helpers shared by the nn tests: deterministic random fills and the
 * comparison of an analytic gradient with central finite differences.
 *
 * defines: gc_fill, gc_dot, gc_compare, gc_fd */
#ifndef DY_TESTS_NN_GRADCHECK_H
#define DY_TESTS_NN_GRADCHECK_H

#include <math.h>
#include <stddef.h>

#include "core/rng.h"

static inline void gc_fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    rng_stream r;
    rng_stream_init(&r, seed, 7, 0, 0);
    for (size_t i = 0; i < n; i++) x[i] = rng_uniform_range(&r, lo, hi);
}

static inline double gc_dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Largest |analytic - numeric| relative to the largest |numeric| (floor 1e-3). */
static inline double gc_compare(const float *an, const double *num, size_t n)
{
    double mx = 1e-3, err = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(num[i]));
    for (size_t i = 0; i < n; i++) err = fmax(err, fabs(an[i] - num[i]));
    return err / mx;
}

/* Central differences of f over x[idx[0..n)] (all of x when idx is NULL). */
static inline void gc_fd(double (*f)(void *), void *ctx, float *x, const size_t *idx, size_t n, float h,
                         double *num)
{
    for (size_t j = 0; j < n; j++) {
        size_t i = idx ? idx[j] : j;
        float x0 = x[i];
        x[i] = x0 + h;
        double fp = f(ctx);
        x[i] = x0 - h;
        double fm = f(ctx);
        x[i] = x0;
        num[j] = (fp - fm) / ((double)(x0 + h) - (double)(x0 - h));
    }
}

#endif
