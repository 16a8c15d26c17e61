/* metrics.h -- JSON-lines metrics writer (one JSON object per line, flushed).
 * Training and benchmarks append records; each gets a "time" field (UNIX seconds).
 * A JSON-lines file survives a crash up to the last complete line, which is why it
 * is used instead of one JSON document.
 * defines: metrics_writer, metrics_open, metrics_write, metrics_close */
#ifndef DY_CORE_METRICS_H
#define DY_CORE_METRICS_H

#include <cjson/cJSON.h>

#include "core/err.h"

typedef struct metrics_writer metrics_writer;

dy_status metrics_open(metrics_writer **out, const char *path, int append);
/* Adds "time" to obj (if absent) and writes it as one line; obj stays owned by caller. */
dy_status metrics_write(metrics_writer *w, cJSON *obj);
dy_status metrics_close(metrics_writer *w);

#endif
