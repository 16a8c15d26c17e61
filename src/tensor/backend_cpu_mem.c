/* backend_cpu_mem.c -- the memory and completion half of the CPU backend: host
 * allocations (zero-filled, 64-byte aligned for the AVX2 kernels), copies, and
 * events that are complete as soon as they exist, since every CPU op has finished
 * when it returns.  The CPU backend never fails asynchronously, so its status is OK.
 *
 * defines: tn_cpu_alloc, tn_cpu_free, tn_cpu_upload, tn_cpu_download, tn_cpu_copy,
 *          tn_cpu_memset0, tn_cpu_mem_stats, tn_cpu_mem_reset_peak, tn_cpu_status,
 *          tn_cpu_event_* , tn_cpu_stream, tn_cpu_host_alloc, tn_cpu_host_free,
 *          tn_cpu_upload_async, tn_cpu_stream_wait */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/cpu_kernels.h"
#include "tensor/memtrack.h"

static tn_memtrack cpu_mem = TN_MEMTRACK_INIT;

struct tn_event {
    int unused; /* a CPU event carries no state */
};

/* 64-byte aligned host memory of at least `bytes` (64 at least); *size: its size. */
static dy_status aligned_alloc64(size_t bytes, void **out, size_t *size, const char *what)
{
    *out = NULL;
    size_t n = (bytes + 63) & ~(size_t)63;
    if (n < bytes) return DY_ERR(DY_ENOMEM, "cpu backend: %s of %zu bytes overflows", what, bytes);
    if (n == 0) n = 64;
    int e = posix_memalign(out, 64, n);
    if (e != 0) {
        *out = NULL;
        return DY_ERR(DY_ENOMEM, "cpu backend: out of memory allocating %.1f MB of %s: %s", (double)bytes / 1e6,
                      what, strerror(e));
    }
    *size = n;
    return DY_OK;
}

dy_status tn_cpu_alloc(size_t bytes, void **out)
{
    size_t n = 0;
    DY_TRY(aligned_alloc64(bytes, out, &n, "backend memory"));
    memset(*out, 0, n);
    (void)tn_memtrack_add(&cpu_mem, *out, n);
    return DY_OK;
}

void tn_cpu_free(void *p)
{
    (void)tn_memtrack_remove(&cpu_mem, p);
    free(p);
}

void tn_cpu_mem_stats(size_t *in_use, size_t *peak) { tn_memtrack_stats(&cpu_mem, in_use, peak); }
void tn_cpu_mem_reset_peak(void) { tn_memtrack_reset_peak(&cpu_mem); }

dy_status tn_cpu_upload(void *dst, const void *src, size_t bytes)
{
    if (bytes && dst != src) memcpy(dst, src, bytes);
    return DY_OK;
}

dy_status tn_cpu_download(void *dst, const void *src, size_t bytes)
{
    if (bytes && dst != src) memcpy(dst, src, bytes);
    return DY_OK;
}

void tn_cpu_copy(void *dst, const void *src, size_t bytes)
{
    if (bytes && dst != src) memmove(dst, src, bytes);
}

void tn_cpu_memset0(void *p, size_t bytes)
{
    if (bytes) memset(p, 0, bytes);
}

dy_status tn_cpu_status(void) { return DY_OK; }

dy_status tn_cpu_event_create(tn_event **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? DY_OK : DY_ERR(DY_ENOMEM, "cpu backend: out of memory for an event");
}

void tn_cpu_event_destroy(tn_event *e) { free(e); }
void tn_cpu_event_record(tn_event *e) { (void)e; }
dy_status tn_cpu_event_wait(tn_event *e)
{
    (void)e;
    return DY_OK;
}
int tn_cpu_event_done(tn_event *e)
{
    (void)e;
    return 1;
}
void *tn_cpu_stream(void) { return NULL; }

/* Input staging on the CPU: plain aligned memory, copies that are done on return. */
dy_status tn_cpu_host_alloc(size_t bytes, void **out)
{
    size_t n = 0;
    return aligned_alloc64(bytes, out, &n, "input staging");
}

void tn_cpu_host_free(void *p) { free(p); }

dy_status tn_cpu_upload_async(void *dst, const void *src, size_t bytes, tn_event *after, tn_event *done)
{
    (void)after, (void)done;
    return tn_cpu_upload(dst, src, bytes);
}

void tn_cpu_stream_wait(tn_event *e) { (void)e; }
