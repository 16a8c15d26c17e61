/* memtrack.h -- accounting of a backend's own allocations: bytes in use now and the
 * most in use since the last reset, so that a training step can report its peak
 * device memory (bench step, summary.json) the same way on every backend.  Both the
 * CPU backend (backend_cpu_mem.c) and the CUDA backend (cuda/backend_cuda.cu) record
 * every alloc and free here; the backend table exposes it as mem_stats and
 * mem_reset_peak.  One tracker per backend; thread-safe.
 *
 * defines: tn_memtrack, tn_memtrack_add, tn_memtrack_remove, tn_memtrack_stats,
 *          tn_memtrack_reset_peak, tn_memtrack_clear */
#ifndef DY_TENSOR_MEMTRACK_H
#define DY_TENSOR_MEMTRACK_H

#include <pthread.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    pthread_mutex_t mu;
    void **keys;     /* open addressing; NULL = empty, TN_MT_TOMB = deleted */
    size_t *sizes;
    size_t cap, used, in_use, peak;
} tn_memtrack;

#define TN_MEMTRACK_INIT {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0, 0, 0}

/* Records p (bytes).  Returns 0, or -1 when the table cannot grow (the allocation is
 * then simply not counted: accounting never fails an allocation). */
int tn_memtrack_add(tn_memtrack *t, void *p, size_t bytes);
/* Forgets p; returns its size (0 when it was not recorded). */
size_t tn_memtrack_remove(tn_memtrack *t, void *p);
void tn_memtrack_stats(tn_memtrack *t, size_t *in_use, size_t *peak);
/* The peak restarts from what is in use now. */
void tn_memtrack_reset_peak(tn_memtrack *t);
/* Forgets everything (the backend closed); the tracker can be used again. */
void tn_memtrack_clear(tn_memtrack *t);

#ifdef __cplusplus
}
#endif

#endif
