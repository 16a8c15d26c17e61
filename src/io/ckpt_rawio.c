/* ckpt_rawio.c -- the checkpoint writer's data path for large shared arrays: each rank
 * writes its slab straight into the file at the dataset's address (contiguous layout,
 * allocated at creation, H5Dget_offset) with O_DIRECT pwrite, checksumming each piece
 * while it is hot in the cache.
 *
 * Off by default (DYOLO_CKPT_DIRECT=1 turns it on).  The idea: MPI-IO on a local or
 * NFS file system goes through the page cache, and fsync then writes everything out;
 * O_DIRECT DMAs from our buffer, so the data is copied once less.  On the virtual
 * disks measured so far (benchmarks/ckpt.md) the disk, not the copy, was the limit,
 * and 4 MiB synchronous direct writes were slower than write-back after one fsync;
 * it stays as an option for disks where the page-cache copy is the bottleneck.  HDF5
 * never touches the raw bytes of a contiguous dataset it did not write (no fill
 * values: H5D_FILL_TIME_NEVER), so the file stays an ordinary HDF5 file.
 *
 * O_DIRECT needs the file offset, length and memory address aligned to the logical
 * block size: datasets are aligned to CKPT_RAW_ALIGN (H5Pset_alignment), slabs are
 * multiples of it (ckpt_write.c), data goes through an aligned bounce buffer, and a
 * slab's unaligned tail (or a file system without O_DIRECT, e.g. old tmpfs) uses a
 * normal descriptor with early write-back (sync_file_range) instead.  The caller
 * fsyncs the file afterwards in every case. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "io/ckpt_internal.h"

#define RAW_CHUNK (4u << 20) /* bounce buffer: big enough to stream, small enough for L3 */

struct ckpt_raw {
    int fd_direct, fd_buf;
    void *bounce;
    char path[CKPT_PATH_MAX];
};

/* Opt-in with DYOLO_CKPT_DIRECT=1: on the disks measured so far (benchmarks/ckpt.md)
 * the page-cache path with one fsync was as fast or faster. */
int ckpt_raw_enabled(void)
{
    const char *v = getenv("DYOLO_CKPT_DIRECT");
    return v && !strcmp(v, "1");
}

dy_status ckpt_raw_open(ckpt_raw **out, const char *path)
{
    *out = NULL;
    ckpt_raw *r = calloc(1, sizeof *r);
    if (!r) return DY_ERR(DY_ENOMEM, "raw writer");
    snprintf(r->path, sizeof r->path, "%s", path);
    r->fd_buf = open(path, O_WRONLY);
    if (r->fd_buf < 0) {
        int e = errno;
        free(r);
        return DY_ERR(DY_EIO, "opening %s for writing: %s", path, strerror(e));
    }
    /* EINVAL: the file system has no O_DIRECT; the buffered descriptor does it all. */
    r->fd_direct = open(path, O_WRONLY | O_DIRECT);
    if (posix_memalign(&r->bounce, CKPT_RAW_ALIGN, RAW_CHUNK) != 0) {
        r->bounce = NULL;
        ckpt_raw_close(r);
        return DY_ERR(DY_ENOMEM, "raw writer buffer");
    }
    *out = r;
    return DY_OK;
}

void ckpt_raw_close(ckpt_raw *r)
{
    if (!r) return;
    if (r->fd_direct >= 0) close(r->fd_direct);
    if (r->fd_buf >= 0) close(r->fd_buf);
    free(r->bounce);
    free(r);
}

/* pwrite all of it; 0 or the errno (a short write that makes no progress is a full disk). */
static int pwrite_all(int fd, const char *p, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n == 0 ? ENOSPC : errno;
        p += n, len -= (size_t)n, off += n;
    }
    return 0;
}

/* One piece from the bounce buffer: the aligned part direct (when possible), the
 * rest buffered with write-back started at once so the disk works while we copy. */
static dy_status put(ckpt_raw *r, size_t len, off_t off, const char *what)
{
    size_t direct = r->fd_direct >= 0 && off % CKPT_RAW_ALIGN == 0 ? len / CKPT_RAW_ALIGN * CKPT_RAW_ALIGN : 0;
    int e = direct ? pwrite_all(r->fd_direct, r->bounce, direct, off) : 0;
    if (e == EINVAL) { /* some file systems accept the open and refuse the write: go buffered */
        close(r->fd_direct);
        r->fd_direct = -1;
        direct = 0;
        e = 0;
    }
    if (!e && direct < len) {
        e = pwrite_all(r->fd_buf, (const char *)r->bounce + direct, len - direct, off + (off_t)direct);
        if (!e) (void)sync_file_range(r->fd_buf, off + (off_t)direct, (off_t)(len - direct), SYNC_FILE_RANGE_WRITE);
    }
    if (e) return DY_ERR(DY_EIO, "writing dataset %s to %s at byte %lld: %s", what, r->path, (long long)off, strerror(e));
    return DY_OK;
}

dy_status ckpt_raw_write(ckpt_raw *r, const void *src, size_t len, uint64_t off, const char *what, uint32_t *crc)
{
    const char *p = src;
    while (len) {
        size_t n = len < RAW_CHUNK ? len : RAW_CHUNK;
        memcpy(r->bounce, p, n);
        *crc = crc32c_update(*crc, r->bounce, n);
        DY_TRY(put(r, n, (off_t)off, what));
        p += n, len -= n, off += n;
    }
    return DY_OK;
}
