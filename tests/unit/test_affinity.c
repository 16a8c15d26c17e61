/* test_affinity.c -- the rank-binding decision of core/affinity.h (aff_plan), the CPU
 * list format, and a real re-bind of this process: a test that a launcher's one-core
 * binding no longer leaves a rank's compute threads on one core. */
#include <stdio.h>
#include <string.h>

#include "core/affinity.h"
#include "tests/tap.h"

static int same(const int *a, const int *b, int n)
{
    return memcmp(a, b, sizeof(int) * (size_t)n) == 0;
}

int main(void)
{
    int all8[8] = {0, 1, 2, 3, 4, 5, 6, 7}, out[AFF_MAX], n = 0;
    char buf[64];

    /* Open MPI's default for 1-2 ranks: one core each */
    TAP_OK(aff_plan(all8, 2, 1, 0, 1, 2, out, &n) == 1 && n == 2 && same(out, all8, 2),
           "1 rank bound to 1 of 2 CPUs, 2 threads: moves to CPUs 0-1");
    int want1[4] = {4, 5, 6, 7};
    TAP_OK(aff_plan(all8, 8, 1, 1, 2, 4, out, &n) == 1 && n == 4 && same(out, want1, 4),
           "local rank 1 of 2, 4 threads on 8 CPUs: its own block 4-7");
    TAP_OK(aff_plan(all8, 2, 1, 1, 2, 1, out, &n) == 0, "2 ranks x 1 thread on 2 CPUs, one core each: kept");
    TAP_OK(aff_plan(all8, 8, 8, 0, 1, 4, out, &n) == 0, "a mask already wide enough: kept");
    TAP_OK(aff_plan(all8, 4, 1, 3, 4, 2, out, &n) == 0, "4 ranks x 2 threads on 4 CPUs: a block of 1 is no better: kept");
    TAP_OK(aff_plan(all8, 6, 1, 1, 2, 4, out, &n) == 1 && n == 3 && out[0] == 3 && out[2] == 5,
           "oversubscribed (2 x 4 threads on 6 CPUs): even blocks of 3, rank 1 on 3-5");
    int gaps[5] = {0, 1, 2, 8, 10};
    aff_format(gaps, 5, buf, sizeof buf);
    TAP_OK(!strcmp(buf, "0-2,8,10"), "CPU list format: %s", buf);

    int cur[AFF_MAX], allowed[AFF_MAX];
    int nc = aff_cpus(cur, AFF_MAX), na = aff_allowed(allowed, AFF_MAX);
    TAP_OK(nc >= 1 && na >= nc, "this process may run on %d CPU(s) of %d allowed", nc, na);
    if (na >= 2) {
        int one = allowed[0];
        int ok = aff_apply(&one, 1) == DY_OK && aff_cpus(cur, AFF_MAX) == 1 && aff_threads() == 1;
        ok = ok && aff_plan(allowed, na, 1, 0, 1, 2, out, &n) == 1 && aff_apply(out, n) == DY_OK;
        TAP_OK(ok && aff_cpus(cur, AFF_MAX) == 2 && aff_threads() == 2,
               "bound to one CPU like mpirun does, then re-bound to two: the default thread count follows");
    } else {
        printf("ok %d - re-bind # SKIP: only %d CPU allowed here\n", ++tap_n, na);
    }
    return tap_done();
}
