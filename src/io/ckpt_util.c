/* ckpt_util.c -- small pieces the checkpoint writer, reader and directory code share:
 * element types and their HDF5 types, the file-access property list, fsync of files
 * and directories, atomic pointer files, collective agreement on a status, and the
 * test hook that pauses a write. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"
#include "core/log.h"
#include "io/ckpt_internal.h"
#include "core/fsutil.h"
#include "dist/dist.h"

static const char *const dtype_names[CKPT_NDTYPES] = {"f32", "f16", "i64", "u8", "u32"};
static const size_t dtype_sizes[CKPT_NDTYPES] = {4, 2, 8, 1, 4};

const char *ckpt_dtype_name(ckpt_dtype t) { return t < CKPT_NDTYPES ? dtype_names[t] : "?"; }
size_t ckpt_dtype_size(ckpt_dtype t) { return t < CKPT_NDTYPES ? dtype_sizes[t] : 0; }

dy_status ckpt_dtype_parse(const char *s, ckpt_dtype *out)
{
    for (int i = 0; i < CKPT_NDTYPES; i++)
        if (!strcmp(s, dtype_names[i])) {
            *out = (ckpt_dtype)i;
            return DY_OK;
        }
    return DY_ERR(DY_EFORMAT, "unknown element type \"%s\"", s);
}

hid_t ckpt_h5_file_type(ckpt_dtype t)
{
    switch (t) {
    case CKPT_F32: return H5T_IEEE_F32LE;
    case CKPT_F16: return H5T_STD_U16LE; /* half-precision bits; "dtype" says f16 */
    case CKPT_I64: return H5T_STD_I64LE;
    case CKPT_U8: return H5T_STD_U8LE;
    default: return H5T_STD_U32LE;
    }
}

hid_t ckpt_h5_mem_type(ckpt_dtype t)
{
    switch (t) {
    case CKPT_F32: return H5T_NATIVE_FLOAT;
    case CKPT_F16: return H5T_NATIVE_UINT16;
    case CKPT_I64: return H5T_NATIVE_INT64;
    case CKPT_U8: return H5T_NATIVE_UINT8;
    default: return H5T_NATIVE_UINT32;
    }
}

hid_t ckpt_h5_str_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, len ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

hid_t ckpt_h5_table_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(ckpt_table_row));
    hid_t name = ckpt_h5_str_type(CKPT_NAME_MAX), shape = ckpt_h5_str_type(CKPT_SHAPE_MAX);
    if (t < 0 || name < 0 || shape < 0 ||
        H5Tinsert(t, "name", offsetof(ckpt_table_row, name), name) < 0 ||
        H5Tinsert(t, "offset", offsetof(ckpt_table_row, offset), H5T_STD_I64LE) < 0 ||
        H5Tinsert(t, "count", offsetof(ckpt_table_row, count), H5T_STD_I64LE) < 0 ||
        H5Tinsert(t, "shape", offsetof(ckpt_table_row, shape), shape) < 0) {
        if (t >= 0) H5Tclose(t);
        t = -1;
    }
    if (name >= 0) H5Tclose(name);
    if (shape >= 0) H5Tclose(shape);
    return t;
}

hid_t ckpt_fapl(MPI_Comm comm)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return fapl;
    /* v1.8+ object headers and superblock carry HDF5's own metadata checksums, so a
     * flipped byte in an attribute or header is caught by HDF5 itself. */
    /* Large datasets aligned for the writer's O_DIRECT path (ckpt_rawio.c). */
    if (H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_alignment(fapl, CKPT_RAW_MIN, CKPT_RAW_ALIGN) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

dy_status ckpt_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    SYS_CHECK(fd >= 0, DY_EIO, "opening %s for fsync", path);
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        SYS_CHECK(0, DY_EIO, "fsync of %s", path);
    }
    SYS_CHECK(close(fd) == 0, DY_EIO, "closing %s", path);
    return DY_OK;
}

dy_status ckpt_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    SYS_CHECK(fd >= 0, DY_EIO, "opening directory %s for fsync", dir);
    /* Some filesystems refuse fsync on directories (EINVAL): nothing more to do there. */
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        errno = e;
        SYS_CHECK(0, DY_EIO, "fsync of directory %s", dir);
    }
    close(fd);
    return DY_OK;
}

dy_status ckpt_mkdir_p(const char *dir) { return fs_mkdir_p(dir); }

dy_status ckpt_write_file_renamed(const char *dir, const char *name, const char *text, int sync)
{
    char tmp[CKPT_PATH_MAX], dst[CKPT_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    SYS_CHECK(fd >= 0, DY_EIO, "creating %s", tmp);
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int ok = n == (ssize_t)len && (!sync || fsync(fd) == 0);
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        errno = n >= 0 && n != (ssize_t)len ? ENOSPC : e;
        SYS_CHECK(0, DY_EIO, "writing %s", tmp);
    }
    if (rename(tmp, dst) != 0) {
        e = errno;
        unlink(tmp);
        return DY_ERR(DY_EIO, "renaming %s to %s: %s", tmp, dst, strerror(e));
    }
    return DY_OK;
}

dy_status ckpt_read_pointer(const char *dir, const char *name, char *buf, size_t len)
{
    char path[CKPT_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return DY_ERR(DY_ENOENT, "%s does not exist", path);
        SYS_CHECK(0, DY_EIO, "opening %s", path);
    }
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    if (!n || strchr(buf, '/')) return DY_ERR(DY_EFORMAT, "%s: not a checkpoint name", path);
    return DY_OK;
}

dy_status ckpt_resolve_pointer(const char *path, char *out, size_t len)
{
    snprintf(out, len, "%s", path);
    FILE *f = fopen(path, "rb");
    char buf[300] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    /* Not a small text file (an HDF5 file, unreadable, too long): opening it reports. */
    if (n == 0 || n >= sizeof buf - 1 || memcmp(buf, "\x89HDF", 4) == 0 || memchr(buf, 0, n)) return DY_OK;
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = '\0';
    if (!n || strchr(buf, '\n') || strchr(buf, '/')) return DY_OK;
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(out, len, "%.*s/%s", (int)(slash - path), path, buf);
    else snprintf(out, len, "%s", buf);
    if (access(out, F_OK) != 0)
        return DY_ERR(DY_ENOENT, "%s names %s, which does not exist (%s)", path, buf, strerror(errno));
    return DY_OK;
}

void ckpt_pause_hook(int rank)
{
    const char *v = getenv(CKPT_PAUSE_ENV);
    double s = v ? atof(v) : 0;
    if (s <= 0) return;
    log_msg(LOG_WARN, "test hook: rank %d (pid %ld) pausing %.1f s inside a checkpoint write", rank,
            (long)getpid(), s);
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

dy_status ckpt_agree(MPI_Comm comm, dy_status s)
{
    return dist_agree(comm, s);
}

void ckpt_name_for_step(int64_t step, char *buf, size_t len)
{
    snprintf(buf, len, "ckpt-%012lld.h5", (long long)step);
}
