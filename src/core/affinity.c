/* affinity.c -- implementation of affinity.h on Linux (sched_getaffinity /
 * sched_setaffinity; the node's allowed CPUs from cgroup v2's cpuset.cpus.effective,
 * else every online CPU). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_SET */
#endif
#include "core/affinity.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int aff_plan(const int *allowed, int nallowed, int cur, int local_rank, int local_size, int threads, int *out,
             int *nout)
{
    *nout = 0;
    if (threads < 1 || cur >= threads || nallowed <= cur) return 0;
    if (local_size < 1) local_size = 1;
    if (local_rank < 0 || local_rank >= local_size) local_rank = 0;
    int per = threads;
    if ((long)per * local_size > nallowed) per = nallowed / local_size; /* oversubscribed: share evenly */
    if (per <= cur) return 0;
    for (int i = 0; i < per; i++) out[i] = allowed[local_rank * per + i];
    *nout = per;
    return 1;
}

int aff_cpus(int *ids, int max)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set)) ids[n++] = c;
    return n;
}

dy_status aff_apply(const int *ids, int n)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < CPU_SETSIZE) CPU_SET(ids[i], &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        return DY_ERR(DY_EIO, "sched_setaffinity: %s", strerror(errno));
    return DY_OK;
}

/* "0-3,8" -> ids; returns the count. */
static int parse_list(const char *s, int *ids, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *e;
        long a = strtol(s, &e, 10), b;
        if (e == s || a < 0) break;
        b = a;
        if (*e == '-') {
            const char *s2 = e + 1;
            b = strtol(s2, &e, 10);
            if (e == s2 || b < a) break;
        }
        for (long c = a; c <= b && n < max; c++) ids[n++] = (int)c;
        if (*e != ',') break;
        s = e + 1;
    }
    return n;
}

int aff_allowed(int *ids, int max)
{
    FILE *f = fopen("/sys/fs/cgroup/cpuset.cpus.effective", "r");
    char line[4096];
    int n = 0;
    if (f) {
        if (fgets(line, sizeof line, f)) n = parse_list(line, ids, max);
        fclose(f);
    }
    if (n > 0) return n;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    for (long i = 0; i < c && n < max; i++) ids[n++] = (int)i;
    return n;
}

int aff_threads(void)
{
    int ids[AFF_MAX];
    int n = aff_cpus(ids, AFF_MAX);
    if (n > 0) return n;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

int aff_default_threads(int local_ranks)
{
    int ids[AFF_MAX];
    int n = aff_allowed(ids, AFF_MAX) / (local_ranks > 0 ? local_ranks : 1);
    return n > 0 ? n : 1;
}

void aff_format(const int *ids, int n, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < n && o < len; i++) {
        int j = i;
        while (j + 1 < n && ids[j + 1] == ids[j] + 1) j++;
        int w = j > i ? snprintf(buf + o, len - o, "%s%d-%d", o ? "," : "", ids[i], ids[j])
                      : snprintf(buf + o, len - o, "%s%d", o ? "," : "", ids[i]);
        if (w < 0) break;
        o += (size_t)w;
        i = j;
    }
}
