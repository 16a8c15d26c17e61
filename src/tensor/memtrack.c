/* memtrack.c -- implementation of memtrack.h: a pointer -> size hash table with
 * linear probing; a backend allocates a few hundred buffers at most, so the table
 * stays tiny and the lock uncontended. */
#include "tensor/memtrack.h"

#include <stdint.h>
#include <stdlib.h>

static char tomb_mark;
#define TOMB ((void *)&tomb_mark)

static size_t slot_of(const void *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static int put(void **keys, size_t *sizes, size_t cap, void *p, size_t bytes)
{
    for (size_t i = slot_of(p, cap), k = 0; k < cap; k++, i = (i + 1) & (cap - 1))
        if (!keys[i] || keys[i] == TOMB) {
            keys[i] = p;
            sizes[i] = bytes;
            return 0;
        }
    return -1;
}

/* Rehash, dropping tombstones; the table doubles only when live entries need it. */
static int grow(tn_memtrack *t)
{
    size_t live = 0;
    for (size_t i = 0; i < t->cap; i++) live += t->keys[i] && t->keys[i] != TOMB;
    size_t cap = !t->cap ? 256 : 4 * (live + 1) > t->cap ? 2 * t->cap : t->cap;
    void **k = calloc(cap, sizeof *k);
    size_t *s = calloc(cap, sizeof *s);
    if (!k || !s) {
        free(k);
        free(s);
        return -1;
    }
    size_t used = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->keys[i] && t->keys[i] != TOMB) {
            put(k, s, cap, t->keys[i], t->sizes[i]);
            used++;
        }
    free(t->keys);
    free(t->sizes);
    t->keys = k;
    t->sizes = s;
    t->cap = cap;
    t->used = used;
    return 0;
}

int tn_memtrack_add(tn_memtrack *t, void *p, size_t bytes)
{
    if (!p) return 0;
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    /* keep the load (tombstones included) under 1/2 so probes stay short */
    if (2 * (t->used + 1) > t->cap) rc = grow(t);
    if (rc == 0) rc = put(t->keys, t->sizes, t->cap, p, bytes);
    if (rc == 0) {
        t->used++;
        t->in_use += bytes;
        if (t->in_use > t->peak) t->peak = t->in_use;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

size_t tn_memtrack_remove(tn_memtrack *t, void *p)
{
    if (!p) return 0;
    size_t bytes = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = t->cap ? slot_of(p, t->cap) : 0, k = 0; k < t->cap; k++, i = (i + 1) & (t->cap - 1)) {
        if (!t->keys[i]) break;
        if (t->keys[i] == p) {
            bytes = t->sizes[i];
            t->keys[i] = TOMB; /* stays counted in used until the next grow */
            t->in_use -= bytes;
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return bytes;
}

void tn_memtrack_stats(tn_memtrack *t, size_t *in_use, size_t *peak)
{
    pthread_mutex_lock(&t->mu);
    if (in_use) *in_use = t->in_use;
    if (peak) *peak = t->peak;
    pthread_mutex_unlock(&t->mu);
}

void tn_memtrack_reset_peak(tn_memtrack *t)
{
    pthread_mutex_lock(&t->mu);
    t->peak = t->in_use;
    pthread_mutex_unlock(&t->mu);
}

void tn_memtrack_clear(tn_memtrack *t)
{
    pthread_mutex_lock(&t->mu);
    free(t->keys);
    free(t->sizes);
    t->keys = NULL;
    t->sizes = NULL;
    t->cap = t->used = t->in_use = t->peak = 0;
    pthread_mutex_unlock(&t->mu);
}
