/* metrics.c -- implementation of metrics.h. */
#include "core/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct metrics_writer {
    FILE *f;
    char path[1024];
};

dy_status metrics_open(metrics_writer **out, const char *path, int append)
{
    metrics_writer *w = calloc(1, sizeof *w);
    if (!w) return DY_ERR(DY_ENOMEM, "metrics: out of memory");
    w->f = fopen(path, append ? "a" : "w");
    if (!w->f) {
        int e = errno;
        free(w);
        return DY_ERR(DY_EIO, "cannot open metrics file \"%s\": %s", path, strerror(e));
    }
    snprintf(w->path, sizeof w->path, "%s", path);
    *out = w;
    return DY_OK;
}

dy_status metrics_write(metrics_writer *w, cJSON *obj)
{
    if (!cJSON_GetObjectItemCaseSensitive(obj, "time")) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        cJSON_AddNumberToObject(obj, "time", (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec);
    }
    char *s = cJSON_PrintUnformatted(obj);
    if (!s) return DY_ERR(DY_ENOMEM, "metrics: cannot serialize record");
    int bad = fprintf(w->f, "%s\n", s) < 0 || fflush(w->f) != 0;
    int e = errno;
    cJSON_free(s);
    if (bad) return DY_ERR(DY_EIO, "writing metrics file \"%s\": %s", w->path, strerror(e));
    return DY_OK;
}

dy_status metrics_close(metrics_writer *w)
{
    if (!w) return DY_OK;
    int bad = fclose(w->f) != 0;
    int e = errno;
    dy_status s = bad ? DY_ERR(DY_EIO, "closing metrics file \"%s\": %s", w->path, strerror(e)) : DY_OK;
    free(w);
    return s;
}
