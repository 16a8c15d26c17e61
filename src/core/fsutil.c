/* fsutil.c -- implementation of fsutil.h. */
#include "core/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

dy_status fs_read_file(const char *path, const char *what, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return DY_ERR(errno == ENOENT ? DY_ENOENT : DY_EIO, "cannot open %s \"%s\": %s", what, path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    char *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *nb = realloc(b, cap * 2);
            if (!nb) free(b);
            b = nb;
            cap *= 2;
        }
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (!b) return DY_ERR(DY_ENOMEM, "out of memory reading %s \"%s\"", what, path);
    if (err) {
        free(b);
        return DY_ERR(DY_EIO, "cannot read %s \"%s\": %s", what, path, strerror(err));
    }
    b[n] = '\0';
    *buf = b;
    if (len) *len = n;
    return DY_OK;
}

dy_status fs_mkdir_p(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return DY_ERR(DY_EINVAL, "directory name too long: %.200s...", dir);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return DY_ERR(DY_EIO, "cannot create directory \"%s\": %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    return DY_OK;
}
