/* parity_harness.h -- the comparison machinery of the backend-parity test
 * (test_backend_parity.c): buffer pairs that live in the reference backend (the CPU
 * backend) and in the backend under test, each reached only through that backend's
 * alloc / upload / download (so device memory works), and llm.c's tolerance rule
 * |x - ref| <= atol + rtol * |ref| with the first mismatches printed as
 * (index, value, ref).
 *
 * One check = one TAP line: pr_begin(), any number of pr_cmp_* calls, pr_end(name).
 * pr_end also fails the check when the backend's sticky status is set, so a failed
 * kernel launch is reported at the op that caused it.  In "quiet" mode (negative
 * controls: a deliberately broken backend must be caught) checks only count their
 * failures and print nothing, so the TAP stream stays clean.
 *
 * atol is given as a fraction of the reference tensor's RMS plus an absolute floor:
 * a convolution's rounding error grows with the size of its values, and one tensor's
 * scale says nothing about the next one's.  PARITY_TOL_SCALE multiplies every
 * tolerance (e.g. 10 to look at a backend that runs convolutions in TF32).
 *
 * defines: pr_tol, pf, pb, pr_ctx (PR), pf_new, pf_up, pf_rand, pf_free, pb_new,
 *          pb_up, pb_free, pr_begin, pr_cmp_f32, pr_cmp_bits, pr_cmp_host, pr_note_fail,
 *          pr_diag, pr_end, pr_rand, pr_xalloc, pr_hmalloc */
#ifndef DY_TESTS_TENSOR_PARITY_HARNESS_H
#define DY_TESTS_TENSOR_PARITY_HARNESS_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/backend.h"
#include "tests/tap.h"

typedef struct {
    double atol_rms; /* absolute tolerance as a fraction of the reference's RMS */
    double atol;     /* plus this absolute floor */
    double rtol;
} pr_tol;

static struct {
    const tn_backend *R, *T; /* reference (CPU) and under test */
    const char *tname;       /* label of the backend under test */
    int quiet;               /* count failures only (negative controls) */
    int quiet_fails;         /* failed checks while quiet */
    int bad;                 /* mismatches in the current check */
    double worst;            /* worst |x - ref| / tolerance in the current check */
    size_t first_bad;        /* index of the first mismatch of the last failing compare */
    double tol_scale;
} PR = {.tol_scale = 1.0};

/* Allocation failure in the harness itself: stop the whole test (TAP bail out). */
static void *pr_xalloc(const tn_backend *b, size_t bytes)
{
    void *p = NULL;
    if (b->alloc(bytes ? bytes : 4, &p) != DY_OK || !p) {
        printf("Bail out! %s: alloc of %zu bytes failed: %s\n", b->name, bytes, err_msg());
        exit(1);
    }
    return p;
}

static void *pr_hmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 4);
    if (!p) {
        printf("Bail out! host malloc of %zu bytes failed\n", bytes);
        exit(1);
    }
    return p;
}

/* Deterministic uniform numbers (splitmix64), independent of the library's RNG so the
 * test's inputs do not move when that changes. */
static uint64_t pr_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void pr_rand(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    uint64_t s = seed * 0x632be59bd9b4e019ull + 1;
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)((pr_next(&s) >> 40) * (1.0 / 16777216.0));
}

/* A float buffer in both backends, plus a host staging copy of the inputs. */
typedef struct {
    float *r, *t;
    size_t n;
} pf;

static pf pf_new(size_t n)
{
    pf p = {pr_xalloc(PR.R, n * sizeof(float)), pr_xalloc(PR.T, n * sizeof(float)), n};
    return p;
}

static void pf_up(pf *p, const float *host)
{
    if (PR.R->upload(p->r, host, p->n * sizeof(float)) != DY_OK ||
        PR.T->upload(p->t, host, p->n * sizeof(float)) != DY_OK) {
        printf("Bail out! upload of %zu floats failed: %s\n", p->n, err_msg());
        exit(1);
    }
}

/* New pair filled with the same uniform numbers in both backends. */
static pf pf_rand(size_t n, uint64_t seed, float lo, float hi)
{
    pf p = pf_new(n);
    float *h = pr_hmalloc(n * sizeof(float));
    pr_rand(h, n, seed, lo, hi);
    pf_up(&p, h);
    free(h);
    return p;
}

static void pf_free(pf *p)
{
    PR.R->free(p->r);
    PR.T->free(p->t);
    p->r = p->t = NULL;
}

/* A byte buffer in both backends (uint8 images, binary16 values). */
typedef struct {
    void *r, *t;
    size_t bytes;
} pb;

static pb pb_new(size_t bytes)
{
    pb p = {pr_xalloc(PR.R, bytes), pr_xalloc(PR.T, bytes), bytes};
    return p;
}

static void pb_up(pb *p, const void *host)
{
    if (PR.R->upload(p->r, host, p->bytes) != DY_OK || PR.T->upload(p->t, host, p->bytes) != DY_OK) {
        printf("Bail out! upload of %zu bytes failed: %s\n", p->bytes, err_msg());
        exit(1);
    }
}

static void pb_free(pb *p)
{
    PR.R->free(p->r);
    PR.T->free(p->t);
    p->r = p->t = NULL;
}

static void pr_begin(void)
{
    PR.bad = 0;
    PR.worst = 0;
}

static void pr_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pr_diag(const char *fmt, ...)
{
    if (PR.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* Records a failure that is not an element mismatch (a wrong count, a bad status). */
static void pr_note_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pr_note_fail(const char *fmt, ...)
{
    PR.bad++;
    if (PR.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    printf("#   ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* Host arrays: got vs ref under the tolerance rule.  NaN equals NaN, an infinity
 * equals the same infinity.  Prints the first 5 mismatches; returns their count. */
static size_t pr_cmp_host(const char *what, const float *got, const float *ref, size_t n, pr_tol t)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(ref[i])) ss += (double)ref[i] * ref[i];
    double rms = n ? sqrt(ss / (double)n) : 0;
    double atol = (t.atol_rms * rms + t.atol) * PR.tol_scale, rtol = t.rtol * PR.tol_scale;
    size_t bad = 0, worst_i = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double x = got[i], r = ref[i], lim = atol + rtol * fabs(r);
        int ok;
        if (isnan(r) || isnan(x)) ok = isnan(r) && isnan(x);
        else if (isinf(r) || isinf(x)) ok = x == r;
        else {
            double d = fabs(x - r);
            ok = d <= lim;
            double q = lim > 0 ? d / lim : (d > 0 ? INFINITY : 0);
            if (q > worst) worst = q, worst_i = i;
        }
        if (ok) continue;
        if (bad == 0) PR.first_bad = i;
        if (bad < 5) pr_note_fail("%s: mismatch at [%zu]: %.9g, ref %.9g (|diff| %.3g > %.3g)", what, i, x, r,
                                  fabs(x - r), lim);
        bad++;
    }
    if (bad > 5) pr_note_fail("%s: %zu mismatches of %zu in all", what, bad, n);
    if (worst > PR.worst) PR.worst = worst;
    if (worst > 0 && !bad && PR.T != PR.R)
        pr_diag("%s %s: worst |diff| is %.3f of the tolerance (at [%zu])", PR.tname, what, worst, worst_i);
    return bad;
}

/* Downloads both sides of a float pair and compares them. */
static size_t pr_cmp_f32(const char *what, const pf *p, pr_tol t)
{
    float *g = pr_hmalloc(p->n * sizeof(float)), *r = pr_hmalloc(p->n * sizeof(float));
    size_t bad;
    if (PR.T->download(g, p->t, p->n * sizeof(float)) != DY_OK ||
        PR.R->download(r, p->r, p->n * sizeof(float)) != DY_OK) {
        pr_note_fail("%s: download failed: %s", what, err_msg());
        bad = 1;
    } else {
        bad = pr_cmp_host(what, g, r, p->n, t);
    }
    free(g);
    free(r);
    return bad;
}

/* Bit-exact comparison of binary16 or binary32 words (NaN payloads aside). */
static size_t pr_cmp_bits(const char *what, const pb *p, size_t word)
{
    unsigned char *g = pr_hmalloc(p->bytes), *r = pr_hmalloc(p->bytes);
    size_t bad = 0, n = p->bytes / word;
    if (PR.T->download(g, p->t, p->bytes) != DY_OK || PR.R->download(r, p->r, p->bytes) != DY_OK) {
        pr_note_fail("%s: download failed: %s", what, err_msg());
        free(g);
        free(r);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t a = 0, b = 0;
        memcpy(&a, g + i * word, word);
        memcpy(&b, r + i * word, word);
        int nan_a = word == 2 ? (a & 0x7c00) == 0x7c00 && (a & 0x3ff) : (a & 0x7f800000u) == 0x7f800000u && (a & 0x7fffffu);
        int nan_b = word == 2 ? (b & 0x7c00) == 0x7c00 && (b & 0x3ff) : (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu);
        if (a == b || (nan_a && nan_b)) continue;
        if (bad == 0) PR.first_bad = i;
        if (bad < 5) pr_note_fail("%s: mismatch at [%zu]: 0x%0*x, ref 0x%0*x", what, i, (int)word * 2, a, (int)word * 2, b);
        bad++;
    }
    if (bad > 5) pr_note_fail("%s: %zu mismatches of %zu in all", what, bad, n);
    free(g);
    free(r);
    return bad;
}

/* Ends a check: one TAP line (or a quiet count).  A sticky error in the backend under
 * test fails the check and is printed with its message. */
static int pr_end(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int pr_end(const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (PR.T->status() != DY_OK) pr_note_fail("sticky status after the op: %s", err_msg());
    int ok = PR.bad == 0;
    if (PR.quiet) {
        PR.quiet_fails += !ok;
        return ok;
    }
    TAP_OK(ok, "%s: %s", PR.tname, name);
    return ok;
}

#endif
