/* pk_walk.h -- shared by fuzz_pickle and fuzz_pt: walks what the restricted unpickler
 * (src/io/unpickle.h) built, touching every byte a consumer may read (strings up to
 * their length, tensor shapes and strides, storage keys), so ASan sees any value the
 * parser left inconsistent.  Memo references make the tree a graph, possibly cyclic
 * and exponentially shared, so the walk is bounded in depth (PK_MAX_DEPTH, as the
 * unpickler's own walkers are) and in visits.  Each storage key met is handed to a
 * callback (fuzz_pt writes a zero-filled entry for it).
 * defines: pkw_walk */
#ifndef DY_TESTS_FUZZ_PK_WALK_H
#define DY_TESTS_FUZZ_PK_WALK_H

#include <string.h>

#include "io/unpickle.h"

typedef void (*pkw_storage_fn)(const pk_storage *st, void *ctx);

static unsigned pkw_sink; /* keeps the reads from being optimised away */

static void pkw_storage(const pk_storage *st, pkw_storage_fn fn, void *ctx)
{
    pkw_sink += (unsigned)strlen(st->key) + (unsigned)pk_dtype_size(st->dtype) + (unsigned)st->numel;
    if (fn) fn(st, ctx);
}

static void pkw_visit(const pk_value *v, int depth, long *budget, pkw_storage_fn fn, void *ctx)
{
    if (!v || depth > PK_MAX_DEPTH || --*budget < 0) return;
    pkw_sink += (unsigned)v->type + (unsigned)v->kind;
    if ((v->type == PK_STR || v->type == PK_BYTES) && v->s) {
        for (size_t i = 0; i < v->len; i++) pkw_sink += (unsigned char)v->s[i];
        if (v->s[v->len] != '\0') __builtin_trap(); /* promised NUL-terminated */
    }
    if ((v->type == PK_GLOBAL || v->type == PK_OBJECT) && v->s) pkw_sink += (unsigned)strlen(v->s);
    if (v->type == PK_STORAGE && v->storage) pkw_storage(v->storage, fn, ctx);
    if (v->type == PK_TENSOR && v->tensor) {
        const pk_tensor *t = v->tensor;
        if (t->ndim < 0 || t->ndim > PK_MAX_NDIM) __builtin_trap();
        for (int d = 0; d < t->ndim; d++) pkw_sink += (unsigned)(t->shape[d] + t->stride[d]);
        if (t->storage) pkw_storage(t->storage, fn, ctx);
    }
    if (v->type == PK_DICT && v->n % 2) __builtin_trap(); /* keys and values interleaved */
    if (v->type == PK_TUPLE || v->type == PK_LIST || v->type == PK_DICT)
        for (size_t i = 0; i < v->n; i++) pkw_visit(v->items[i], depth + 1, budget, fn, ctx);
    if (v->type == PK_OBJECT) pkw_visit(v->attrs, depth + 1, budget, fn, ctx);
}

/* Walk doc's tree: at most 200000 values visited. */
static inline void pkw_walk(const pk_doc *doc, pkw_storage_fn fn, void *ctx)
{
    long budget = 200000;
    const pk_value *root = pk_doc_root(doc);
    pkw_visit(root, 0, &budget, fn, ctx);
    /* What pt_import looks up first. */
    static const char *const keys[] = {"model", "ema", "epoch", "opt", "names"};
    for (int i = 0; i < 5; i++) (void)pk_dict_get(root, keys[i]);
}

#endif
