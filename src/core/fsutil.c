/* fsutil.c -- implementation of fsutil.h. */
#include "core/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Creates, writes and removes a probe file in dir; 0 or the errno. */
static int probe_dir(const char *dir)
{
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.dyolo-write-test.%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return errno ? errno : EIO;
    ssize_t w = write(fd, "x", 1);
    int e = w == 1 ? 0 : (errno ? errno : EIO);
    close(fd);
    unlink(probe);
    return e;
}

dy_status fs_check_writable(const char *dir, const char *what)
{
    int e = probe_dir(dir);
    return e ? DY_ERR(DY_EIO, "%s \"%s\" cannot take files: %s", what, dir, strerror(e)) : DY_OK;
}

dy_status fs_check_file_writable(const char *path, const char *what)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    DY_TRY_CTX(fs_mkdir_p(dir), "%s \"%s\"", what, path);
    if (access(path, F_OK) == 0 && access(path, W_OK) != 0)
        return DY_ERR(DY_EIO, "%s \"%s\" exists and is not writable: %s", what, path, strerror(errno));
    int e = probe_dir(dir);
    return e ? DY_ERR(DY_EIO, "%s \"%s\" cannot be written: its folder \"%s\" takes no files: %s", what, path, dir,
                      strerror(e))
             : DY_OK;
}

dy_status fs_check_hdf5_checksummed(const char *path, const char *what, const char *hint)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char b[9];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return DY_ERR(errno == ENOENT ? DY_ENOENT : DY_EIO, "cannot open %s %s: %s", what, path, strerror(errno));
    ssize_t got = pread(fd, b, sizeof b, 0);
    int err = got < 0 ? errno : 0;
    close(fd);
    if (got < 0) return DY_ERR(DY_EIO, "cannot read %s %s: %s", what, path, strerror(err));
    if (got < (ssize_t)sizeof b || memcmp(b, sig, sizeof sig))
        return DY_ERR(DY_EFORMAT, "%s %s is not an HDF5 file (no HDF5 signature at its start)", what, path);
    if (b[8] < 2)
        return DY_ERR(DY_EFORMAT, "%s %s has an HDF5 superblock of version %d, the format without metadata "
                      "checksums, which dyolo does not parse: %s", what, path, b[8], hint);
    return DY_OK;
}
