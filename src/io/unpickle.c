/* unpickle.c -- the restricted unpickler of unpickle.h: a pickle stack machine that
 * builds plain values, an allow-list of globals that it interprets instead of calling,
 * and the bounds that keep a hostile file from exhausting memory or the C stack.
 *
 * The allow-list is what YOLOv5 v7.0 checkpoints (train.py's last.pt/best.pt, the
 * released yolov5?.pt) and plain state_dicts saved by torch 1.6-2.x refer to, found
 * by listing the GLOBAL opcodes of real files (tests/io/make_pt_fixtures.py makes
 * some).  Nothing else gets past GLOBAL/STACK_GLOBAL: not os.system, builtins.eval,
 * posix.system, subprocess.*, nor a module class that YOLOv5 does not define.
 */
#include "io/unpickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the allow-list -------------------------------------------------------------- */
enum {
    G_REBUILD_TENSOR = 1, /* torch._utils._rebuild_tensor_v2 */
    G_REBUILD_PARAM,      /* torch._utils._rebuild_parameter(_with_state) */
    G_ORDERED_DICT,       /* collections.OrderedDict */
    G_SET,                /* builtins.set / frozenset: nn.Module._non_persistent_buffers_set */
    G_ENCODE,             /* _codecs.encode: how protocol 2 writes bytes (inside numpy arrays) */
    G_STORAGE,            /* torch.<Type>Storage: only inside a persistent id */
    G_OPAQUE,             /* numpy array/scalar/dtype reconstruction: kept as opaque values */
    G_CLASS               /* a module class: instances are attribute dictionaries */
};

typedef struct {
    const char *module, *name;
    int kind;
    int dtype; /* G_STORAGE */
} pk_allowed;

static const pk_allowed allowed[] = {
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR, 0},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAM, 0},
    {"torch._utils", "_rebuild_parameter_with_state", G_REBUILD_PARAM, 0},
    {"collections", "OrderedDict", G_ORDERED_DICT, 0},
    {"__builtin__", "set", G_SET, 0},
    {"builtins", "set", G_SET, 0},
    {"__builtin__", "frozenset", G_SET, 0},
    {"builtins", "frozenset", G_SET, 0},
    {"_codecs", "encode", G_ENCODE, 0},
    {"torch", "HalfStorage", G_STORAGE, PK_F16},
    {"torch", "BFloat16Storage", G_STORAGE, PK_BF16},
    {"torch", "FloatStorage", G_STORAGE, PK_F32},
    {"torch", "DoubleStorage", G_STORAGE, PK_F64},
    {"torch", "LongStorage", G_STORAGE, PK_I64},
    {"torch", "IntStorage", G_STORAGE, PK_I32},
    {"torch", "ShortStorage", G_STORAGE, PK_I16},
    {"torch", "CharStorage", G_STORAGE, PK_I8},
    {"torch", "ByteStorage", G_STORAGE, PK_U8},
    {"torch", "BoolStorage", G_STORAGE, PK_BOOLEAN},
    {"numpy.core.multiarray", "_reconstruct", G_OPAQUE, 0},
    {"numpy.core.multiarray", "scalar", G_OPAQUE, 0},
    {"numpy._core.multiarray", "_reconstruct", G_OPAQUE, 0},
    {"numpy._core.multiarray", "scalar", G_OPAQUE, 0},
    {"numpy", "ndarray", G_OPAQUE, 0},
    {"numpy", "dtype", G_OPAQUE, 0},
    {"models.yolo", "DetectionModel", G_CLASS, 0},
    {"models.yolo", "Model", G_CLASS, 0},
    {"models.yolo", "Detect", G_CLASS, 0},
    {"models.common", "Conv", G_CLASS, 0},
    {"models.common", "C3", G_CLASS, 0},
    {"models.common", "Bottleneck", G_CLASS, 0},
    {"models.common", "SPPF", G_CLASS, 0},
    {"models.common", "SPP", G_CLASS, 0},
    {"models.common", "Concat", G_CLASS, 0},
    {"models.common", "Focus", G_CLASS, 0},
    {"torch.nn.modules.conv", "Conv2d", G_CLASS, 0},
    {"torch.nn.modules.batchnorm", "BatchNorm2d", G_CLASS, 0},
    {"torch.nn.modules.activation", "SiLU", G_CLASS, 0},
    {"torch.nn.modules.container", "Sequential", G_CLASS, 0},
    {"torch.nn.modules.container", "ModuleList", G_CLASS, 0},
    {"torch.nn.modules.pooling", "MaxPool2d", G_CLASS, 0},
    {"torch.nn.modules.upsampling", "Upsample", G_CLASS, 0},
    {"torch.nn.modules.linear", "Identity", G_CLASS, 0},
};

static const pk_allowed *find_allowed(const char *module, const char *name)
{
    /* The yolov5 PyPI package names its modules yolov5.models.*; same classes. */
    if (!strncmp(module, "yolov5.models.", 14)) module += 7;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (!strcmp(allowed[i].module, module) && !strcmp(allowed[i].name, name)) return &allowed[i];
    return NULL;
}

/* ---- arena ------------------------------------------------------------------------ */
typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    max_align_t data[];
} chunk;

struct pk_doc {
    chunk *chunks;
    size_t total;
    pk_value *root;
};

static void *arena_alloc(pk_doc *d, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (n > PK_MAX_ARENA || d->total + n > PK_MAX_ARENA) return NULL;
    chunk *c = d->chunks;
    if (!c || c->size - c->used < n) {
        size_t sz = n > (1u << 20) ? n : (1u << 20);
        c = malloc(sizeof *c + sz);
        if (!c) return NULL;
        c->next = d->chunks, c->used = 0, c->size = sz;
        d->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    d->total += n;
    memset(p, 0, n);
    return p;
}

void pk_doc_free(pk_doc *d)
{
    if (!d) return;
    for (chunk *c = d->chunks, *nx; c; c = nx) nx = c->next, free(c);
    free(d);
}

const pk_value *pk_doc_root(const pk_doc *d) { return d->root; }

/* ---- parser state ----------------------------------------------------------------- */
typedef struct {
    pk_doc *doc;
    const uint8_t *p, *end, *start;
    const char *what;
    pk_value **stack;
    size_t sp;
    size_t marks[PK_MAX_DEPTH];
    int nmarks;
    pk_value **memo;
    size_t nmemo, nset;
    size_t op_at; /* offset of the current opcode, for messages */
} pk_vm;

static dy_status fail(pk_vm *vm, dy_status code, const char *fmt, const char *detail)
{
    return err_set(code, "%s: pickle offset %zu: %s%s", vm->what, vm->op_at, fmt, detail ? detail : "");
}

#define OOM(vm) fail((vm), DY_ENOMEM, "out of memory (or over the unpickler's size limit)", NULL)

static pk_value *new_value(pk_vm *vm, pk_type t)
{
    pk_value *v = arena_alloc(vm->doc, sizeof *v);
    if (v) v->type = t;
    return v;
}

static dy_status push(pk_vm *vm, pk_value *v)
{
    if (!v) return OOM(vm);
    if (vm->sp >= PK_MAX_STACK) return fail(vm, DY_ERANGE, "stack deeper than the limit", NULL);
    vm->stack[vm->sp++] = v;
    return DY_OK;
}

static dy_status pop(pk_vm *vm, pk_value **v)
{
    size_t floor = vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
    if (vm->sp <= floor) return fail(vm, DY_EFORMAT, "stack underflow", NULL);
    *v = vm->stack[--vm->sp];
    return DY_OK;
}

static dy_status top(pk_vm *vm, pk_value **v)
{
    size_t floor = vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
    if (vm->sp <= floor) return fail(vm, DY_EFORMAT, "stack underflow", NULL);
    *v = vm->stack[vm->sp - 1];
    return DY_OK;
}

/* Items pushed since the last MARK: [*first, sp); the mark is popped. */
static dy_status pop_mark(pk_vm *vm, size_t *first)
{
    if (!vm->nmarks) return fail(vm, DY_EFORMAT, "no MARK on the stack", NULL);
    *first = vm->marks[--vm->nmarks];
    return DY_OK;
}

static dy_status take(pk_vm *vm, size_t n, const uint8_t **out)
{
    if ((size_t)(vm->end - vm->p) < n) return fail(vm, DY_ECORRUPT, "truncated pickle", NULL);
    *out = vm->p;
    vm->p += n;
    return DY_OK;
}

static uint64_t le(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

static dy_status append_item(pk_vm *vm, pk_value *c, pk_value *item)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        pk_value **it = arena_alloc(vm->doc, cap * sizeof *it);
        if (!it) return OOM(vm);
        if (c->n) memcpy(it, c->items, c->n * sizeof *it);
        c->items = it, c->cap = cap; /* the old array stays in the arena */
    }
    c->items[c->n++] = item;
    return DY_OK;
}

static pk_value *new_string(pk_vm *vm, pk_type t, const uint8_t *s, size_t n)
{
    pk_value *v = new_value(vm, t);
    char *buf = v ? arena_alloc(vm->doc, n + 1) : NULL;
    if (!buf) return NULL;
    memcpy(buf, s, n);
    v->s = buf, v->len = n;
    return v;
}

/* A sized string or bytes opcode: nb length bytes, then the data. */
static dy_status op_sized(pk_vm *vm, pk_type t, int nb)
{
    const uint8_t *b = NULL, *s = NULL;
    DY_TRY(take(vm, (size_t)nb, &b));
    uint64_t n = le(b, nb);
    if (n > (uint64_t)(vm->end - vm->p)) return fail(vm, DY_ECORRUPT, "string longer than the pickle", NULL);
    DY_TRY(take(vm, (size_t)n, &s));
    return push(vm, new_string(vm, t, s, (size_t)n));
}

static dy_status memo_put(pk_vm *vm, uint64_t idx, pk_value *v)
{
    if (idx >= PK_MAX_MEMO) return fail(vm, DY_ERANGE, "memo index over the limit", NULL);
    if (idx >= vm->nmemo) {
        size_t n = vm->nmemo ? vm->nmemo : 1024;
        while (n <= idx) n *= 2;
        pk_value **m = realloc(vm->memo, n * sizeof *m);
        if (!m) return OOM(vm);
        memset(m + vm->nmemo, 0, (n - vm->nmemo) * sizeof *m);
        vm->memo = m, vm->nmemo = n;
    }
    if (!vm->memo[idx]) vm->nset++;
    vm->memo[idx] = v;
    return DY_OK;
}

static dy_status memo_get(pk_vm *vm, uint64_t idx)
{
    if (idx >= vm->nmemo || !vm->memo[idx]) return fail(vm, DY_EFORMAT, "memo reference to an unset entry", NULL);
    return push(vm, vm->memo[idx]);
}

/* ---- globals and calls ------------------------------------------------------------ */
static dy_status op_global(pk_vm *vm, const char *module, const char *name)
{
    const pk_allowed *a = find_allowed(module, name);
    if (!a)
        return err_set(DY_EUNSUPPORTED,
                       "%s: pickle offset %zu: refused global %.120s.%.120s (not on the allow-list of a YOLOv5 "
                       "checkpoint; nothing was called)",
                       vm->what, vm->op_at, module, name);
    pk_value *v = new_value(vm, PK_GLOBAL);
    if (!v) return OOM(vm);
    size_t lm = strlen(module), ln = strlen(name);
    char *s = arena_alloc(vm->doc, lm + ln + 2);
    if (!s) return OOM(vm);
    memcpy(s, module, lm), s[lm] = '.', memcpy(s + lm + 1, name, ln + 1);
    v->s = s, v->len = lm + ln + 1, v->kind = a->kind, v->i = a->dtype;
    return push(vm, v);
}

static int is_int(const pk_value *v) { return v && (v->type == PK_INT || v->type == PK_BOOL); }

static dy_status rebuild_tensor(pk_vm *vm, const pk_value *args, pk_value **out)
{
    if (args->n < 4 || args->items[0]->type != PK_STORAGE || !is_int(args->items[1]) ||
        args->items[2]->type != PK_TUPLE || args->items[3]->type != PK_TUPLE)
        return fail(vm, DY_EFORMAT, "_rebuild_tensor_v2 with arguments that are not (storage, offset, size, stride, ...)",
                    NULL);
    const pk_value *size = args->items[2], *stride = args->items[3];
    if (size->n != stride->n || size->n > PK_MAX_NDIM)
        return fail(vm, DY_EFORMAT, "tensor with a rank over 8 or sizes and strides of different ranks", NULL);
    pk_tensor *t = arena_alloc(vm->doc, sizeof *t);
    pk_value *v = new_value(vm, PK_TENSOR);
    if (!t || !v) return OOM(vm);
    t->storage = args->items[0]->storage;
    t->offset = args->items[1]->i;
    t->ndim = (int)size->n;
    t->numel = 1;
    int64_t last = t->offset; /* highest element index used */
    if (t->offset < 0) return fail(vm, DY_ERANGE, "tensor with a negative storage offset", NULL);
    for (int k = 0; k < t->ndim; k++) {
        if (!is_int(size->items[k]) || !is_int(stride->items[k]))
            return fail(vm, DY_EFORMAT, "tensor size or stride that is not an integer", NULL);
        int64_t n = size->items[k]->i, s = stride->items[k]->i;
        if (n < 0 || s < 0) return fail(vm, DY_ERANGE, "tensor with a negative size or stride", NULL);
        if (n && t->numel > INT64_MAX / n) return fail(vm, DY_ERANGE, "tensor whose element count overflows", NULL);
        t->shape[k] = n, t->stride[k] = s;
        t->numel *= n;
        if (n && s && (n - 1) > (INT64_MAX - last) / s)
            return fail(vm, DY_ERANGE, "tensor whose extent overflows", NULL);
        if (n) last += (n - 1) * s;
    }
    t->extent = t->numel ? last + 1 : 0;
    if (t->extent > t->storage->numel) {
        char msg[200];
        snprintf(msg, sizeof msg, " (offset %lld, %lld elements reached, storage %s holds %lld)",
                 (long long)t->offset, (long long)t->extent, t->storage->key, (long long)t->storage->numel);
        return fail(vm, DY_ERANGE, "tensor reaches beyond its storage", msg);
    }
    v->tensor = t;
    *out = v;
    return DY_OK;
}

/* REDUCE and NEWOBJ: what an allowed callable would have produced. */
static dy_status call(pk_vm *vm, pk_value *fn, pk_value *args, pk_value **out)
{
    if (fn->type != PK_GLOBAL) return fail(vm, DY_EFORMAT, "call of something that is not a global", NULL);
    if (args->type != PK_TUPLE) return fail(vm, DY_EFORMAT, "call arguments that are not a tuple: ", fn->s);
    switch (fn->kind) {
    case G_REBUILD_TENSOR: return rebuild_tensor(vm, args, out);
    case G_REBUILD_PARAM:
        if (args->n < 1 || args->items[0]->type != PK_TENSOR)
            return fail(vm, DY_EFORMAT, "_rebuild_parameter of something that is not a tensor", NULL);
        *out = args->items[0];
        return DY_OK;
    case G_ORDERED_DICT:
        if (args->n && !(args->n == 1 && args->items[0]->type == PK_LIST && args->items[0]->n == 0))
            return fail(vm, DY_EFORMAT, "OrderedDict with initial items", NULL);
        return (*out = new_value(vm, PK_DICT)) ? DY_OK : OOM(vm);
    case G_SET:
        if (args->n > 1 || (args->n == 1 && args->items[0]->type != PK_LIST))
            return fail(vm, DY_EFORMAT, "set of something that is not a list", NULL);
        *out = args->n ? args->items[0] : new_value(vm, PK_LIST);
        return *out ? DY_OK : OOM(vm);
    case G_ENCODE:
        if (args->n < 1 || args->items[0]->type != PK_STR)
            return fail(vm, DY_EFORMAT, "_codecs.encode of something that is not a string", NULL);
        *out = new_string(vm, PK_BYTES, (const uint8_t *)args->items[0]->s, args->items[0]->len);
        return *out ? DY_OK : OOM(vm);
    case G_OPAQUE: return (*out = new_value(vm, PK_OPAQUE)) ? DY_OK : OOM(vm);
    case G_CLASS:
        if ((*out = new_value(vm, PK_OBJECT))) (*out)->s = fn->s, (*out)->len = fn->len;
        return *out ? DY_OK : OOM(vm);
    default: return fail(vm, DY_EFORMAT, "call of a global that is not callable here: ", fn->s);
    }
}

static dy_status op_build(pk_vm *vm)
{
    pk_value *state = NULL, *obj = NULL;
    DY_TRY(pop(vm, &state));
    DY_TRY(top(vm, &obj));
    if (obj->type == PK_OPAQUE || obj->type == PK_TENSOR) return DY_OK; /* numpy internals; tensor hooks */
    if (obj->type != PK_OBJECT && obj->type != PK_DICT)
        return fail(vm, DY_EFORMAT, "BUILD on a value that is not an object", NULL);
    /* (dict, slots) from objects with __slots__; plain dict otherwise. */
    if (state->type == PK_TUPLE && state->n == 2) state = state->items[0]->type == PK_DICT ? state->items[0] : state->items[1];
    if (state->type == PK_NONE) return DY_OK;
    if (state->type != PK_DICT) return fail(vm, DY_EFORMAT, "object state that is not a dictionary", NULL);
    obj->attrs = state;
    return DY_OK;
}

static dy_status op_persid(pk_vm *vm)
{
    pk_value *pid = NULL;
    DY_TRY(pop(vm, &pid));
    pk_value **it = pid->items;
    if (pid->type != PK_TUPLE || pid->n != 5 || it[0]->type != PK_STR || strcmp(it[0]->s, "storage") ||
        it[1]->type != PK_GLOBAL || it[1]->kind != G_STORAGE || it[2]->type != PK_STR || !is_int(it[4]))
        return fail(vm, DY_EFORMAT, "persistent id that is not ('storage', torch.<T>Storage, key, location, numel)",
                    NULL);
    if (it[4]->i < 0) return fail(vm, DY_ERANGE, "storage with a negative size", NULL);
    if (!it[2]->len || strchr(it[2]->s, '/') || strstr(it[2]->s, ".."))
        return fail(vm, DY_EFORMAT, "storage key that is not a plain name: ", it[2]->s);
    pk_storage *s = arena_alloc(vm->doc, sizeof *s);
    pk_value *v = new_value(vm, PK_STORAGE);
    if (!s || !v) return OOM(vm);
    s->key = it[2]->s, s->dtype = (pk_dtype)it[1]->i, s->numel = it[4]->i;
    v->storage = s;
    return push(vm, v);
}

/* ---- the opcodes -------------------------------------------------------------------- */
static dy_status op_tuple(pk_vm *vm, size_t first)
{
    pk_value *t = new_value(vm, PK_TUPLE);
    if (!t) return OOM(vm);
    for (size_t i = first; i < vm->sp; i++) DY_TRY(append_item(vm, t, vm->stack[i]));
    vm->sp = first;
    return push(vm, t);
}

static dy_status op_tuple_n(pk_vm *vm, size_t n)
{
    size_t floor = vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
    if (vm->sp < floor + n) return fail(vm, DY_EFORMAT, "stack underflow", NULL);
    return op_tuple(vm, vm->sp - n);
}

/* APPEND(S), SETITEM(S), ADDITEMS: items [first, sp) go into the value below them. */
static dy_status fill(pk_vm *vm, size_t first, int pairs)
{
    if (first == 0 || first > vm->sp) return fail(vm, DY_EFORMAT, "stack underflow", NULL);
    size_t floor = vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
    if (first - 1 < floor) return fail(vm, DY_EFORMAT, "stack underflow", NULL);
    pk_value *c = vm->stack[first - 1];
    if ((pairs && c->type != PK_DICT) || (!pairs && c->type != PK_LIST))
        return fail(vm, DY_EFORMAT, pairs ? "SETITEM on a value that is not a dict" : "APPEND on a value that is not a list",
                    NULL);
    if (pairs && (vm->sp - first) % 2) return fail(vm, DY_EFORMAT, "SETITEMS with an odd number of items", NULL);
    for (size_t i = first; i < vm->sp; i++) DY_TRY(append_item(vm, c, vm->stack[i]));
    vm->sp = first;
    return DY_OK;
}

static dy_status op_int(pk_vm *vm, int64_t v)
{
    pk_value *x = new_value(vm, PK_INT);
    if (x) x->i = v;
    return push(vm, x);
}

static dy_status op_long(pk_vm *vm, int nb)
{
    const uint8_t *b = NULL;
    DY_TRY(take(vm, (size_t)nb, &b));
    uint64_t n = le(b, nb);
    if (n > 8) return fail(vm, DY_ERANGE, "integer wider than 64 bits", NULL);
    DY_TRY(take(vm, (size_t)n, &b));
    uint64_t u = n ? le(b, (int)n) : 0;
    if (n && n < 8 && (b[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    return op_int(vm, (int64_t)u);
}

static dy_status op_stack_global(pk_vm *vm)
{
    pk_value *name = NULL, *module = NULL;
    DY_TRY(pop(vm, &name));
    DY_TRY(pop(vm, &module));
    if (name->type != PK_STR || module->type != PK_STR)
        return fail(vm, DY_EFORMAT, "STACK_GLOBAL of values that are not strings", NULL);
    return op_global(vm, module->s, name->s);
}

static dy_status op_text_global(pk_vm *vm)
{
    char parts[2][256];
    for (int k = 0; k < 2; k++) {
        const uint8_t *nl = memchr(vm->p, '\n', (size_t)(vm->end - vm->p));
        if (!nl) return fail(vm, DY_ECORRUPT, "truncated pickle", NULL);
        size_t n = (size_t)(nl - vm->p);
        if (n >= sizeof parts[k]) return fail(vm, DY_EFORMAT, "global name too long", NULL);
        memcpy(parts[k], vm->p, n), parts[k][n] = '\0';
        vm->p = nl + 1;
    }
    return op_global(vm, parts[0], parts[1]);
}

static dy_status op_reduce(pk_vm *vm, int newobj)
{
    pk_value *args = NULL, *fn = NULL, *out = NULL;
    DY_TRY(pop(vm, &args));
    DY_TRY(pop(vm, &fn));
    if (newobj && (fn->type != PK_GLOBAL || (fn->kind != G_CLASS && fn->kind != G_ORDERED_DICT)))
        return fail(vm, DY_EFORMAT, "NEWOBJ of something that is not an allowed class", NULL);
    DY_TRY(call(vm, fn, args, &out));
    return push(vm, out);
}

static dy_status step(pk_vm *vm, int *done)
{
    const uint8_t *b = NULL;
    size_t first = 0;
    pk_value *v = NULL;
    vm->op_at = (size_t)(vm->p - vm->start);
    DY_TRY(take(vm, 1, &b));
    uint8_t op = b[0];
    switch (op) {
    case 0x80: return take(vm, 1, &b) == DY_OK && b[0] >= 2 && b[0] <= 5
                          ? DY_OK
                          : fail(vm, DY_EUNSUPPORTED, "pickle protocol other than 2-5", NULL);
    case 0x95: return take(vm, 8, &b); /* FRAME: only a read-ahead hint */
    case '.': *done = 1; return DY_OK;
    case '(':
        if (vm->nmarks >= PK_MAX_DEPTH) return fail(vm, DY_ERANGE, "nesting deeper than the limit", NULL);
        vm->marks[vm->nmarks++] = vm->sp;
        return DY_OK;
    case '0': return pop(vm, &v);
    case '1': DY_TRY(pop_mark(vm, &first)); vm->sp = first; return DY_OK;
    case '2': DY_TRY(top(vm, &v)); return push(vm, v);
    case 'N': return push(vm, new_value(vm, PK_NONE));
    case 0x88: case 0x89:
        if ((v = new_value(vm, PK_BOOL))) v->i = op == 0x88;
        return push(vm, v);
    case 'J': DY_TRY(take(vm, 4, &b)); return op_int(vm, (int32_t)(uint32_t)le(b, 4));
    case 'K': DY_TRY(take(vm, 1, &b)); return op_int(vm, b[0]);
    case 'M': DY_TRY(take(vm, 2, &b)); return op_int(vm, (int64_t)le(b, 2));
    case 0x8a: return op_long(vm, 1);
    case 0x8b: return op_long(vm, 4);
    case 'G': {
        DY_TRY(take(vm, 8, &b));
        uint64_t u = 0;
        for (int k = 0; k < 8; k++) u = u << 8 | b[k]; /* big-endian */
        if ((v = new_value(vm, PK_FLOAT))) memcpy(&v->f, &u, sizeof v->f);
        return push(vm, v);
    }
    case 'X': return op_sized(vm, PK_STR, 4);
    case 0x8c: return op_sized(vm, PK_STR, 1);
    case 0x8d: return op_sized(vm, PK_STR, 8);
    case 'T': return op_sized(vm, PK_BYTES, 4); /* BINSTRING: bytes as Python 3 reads them */
    case 'U': return op_sized(vm, PK_BYTES, 1);
    case 'B': return op_sized(vm, PK_BYTES, 4);
    case 'C': return op_sized(vm, PK_BYTES, 1);
    case 0x8e: return op_sized(vm, PK_BYTES, 8);
    case '}': return push(vm, new_value(vm, PK_DICT));
    case ']': case 0x8f: return push(vm, new_value(vm, PK_LIST)); /* a set is read as a list */
    case ')': return push(vm, new_value(vm, PK_TUPLE));
    case 't': DY_TRY(pop_mark(vm, &first)); return op_tuple(vm, first);
    case 0x85: return op_tuple_n(vm, 1);
    case 0x86: return op_tuple_n(vm, 2);
    case 0x87: return op_tuple_n(vm, 3);
    case 'l': case 0x91: /* LIST, FROZENSET */
        DY_TRY(pop_mark(vm, &first));
        if (!(v = new_value(vm, PK_LIST))) return OOM(vm);
        for (size_t i = first; i < vm->sp; i++) DY_TRY(append_item(vm, v, vm->stack[i]));
        vm->sp = first;
        return push(vm, v);
    case 'd':
        DY_TRY(pop_mark(vm, &first));
        if ((vm->sp - first) % 2) return fail(vm, DY_EFORMAT, "DICT with an odd number of items", NULL);
        if (!(v = new_value(vm, PK_DICT))) return OOM(vm);
        for (size_t i = first; i < vm->sp; i++) DY_TRY(append_item(vm, v, vm->stack[i]));
        vm->sp = first;
        return push(vm, v);
    case 'a': return vm->sp < 2 ? fail(vm, DY_EFORMAT, "stack underflow", NULL) : fill(vm, vm->sp - 1, 0);
    case 'e': case 0x90: DY_TRY(pop_mark(vm, &first)); return fill(vm, first, 0);
    case 's': return vm->sp < 2 ? fail(vm, DY_EFORMAT, "stack underflow", NULL) : fill(vm, vm->sp - 2, 1);
    case 'u': DY_TRY(pop_mark(vm, &first)); return fill(vm, first, 1);
    case 'h': DY_TRY(take(vm, 1, &b)); return memo_get(vm, b[0]);
    case 'j': DY_TRY(take(vm, 4, &b)); return memo_get(vm, le(b, 4));
    case 'q': DY_TRY(take(vm, 1, &b)); DY_TRY(top(vm, &v)); return memo_put(vm, b[0], v);
    case 'r': DY_TRY(take(vm, 4, &b)); DY_TRY(top(vm, &v)); return memo_put(vm, le(b, 4), v);
    case 0x94: {
        DY_TRY(top(vm, &v));
        return memo_put(vm, vm->nset, v); /* MEMOIZE: index = entries so far (len(memo)) */
    }
    case 'c': return op_text_global(vm);
    case 0x93: return op_stack_global(vm);
    case 'R': return op_reduce(vm, 0);
    case 0x81: return op_reduce(vm, 1);
    case 0x92: { /* NEWOBJ_EX cls args kwargs */
        pk_value *kw = NULL;
        DY_TRY(pop(vm, &kw));
        return op_reduce(vm, 1);
    }
    case 'b': return op_build(vm);
    case 'Q': return op_persid(vm);
    default: {
        char msg[64];
        snprintf(msg, sizeof msg, "0x%02x", op);
        return fail(vm, DY_EUNSUPPORTED, "opcode not allowed in a checkpoint: ", msg);
    }
    }
}

dy_status pk_parse(const void *data, size_t len, const char *what, pk_doc **out)
{
    *out = NULL;
    pk_vm vm = {.p = data, .end = (const uint8_t *)data + len, .start = data, .what = what};
    vm.doc = calloc(1, sizeof *vm.doc);
    vm.stack = malloc(PK_MAX_STACK * sizeof *vm.stack);
    dy_status s = vm.doc && vm.stack ? DY_OK : DY_ERR(DY_ENOMEM, "%s: out of memory", what);
    int done = 0;
    while (s == DY_OK && !done) s = step(&vm, &done);
    if (s == DY_OK && vm.sp != 1) s = fail(&vm, DY_EFORMAT, "STOP with a stack that does not hold one value", NULL);
    if (s == DY_OK) vm.doc->root = vm.stack[0], *out = vm.doc;
    else pk_doc_free(vm.doc);
    free(vm.stack);
    free(vm.memo);
    return s;
}

const pk_value *pk_dict_get(const pk_value *dict, const char *key)
{
    if (!dict || dict->type != PK_DICT) return NULL;
    for (size_t i = 0; i + 1 < dict->n; i += 2)
        if (dict->items[i]->type == PK_STR && !strcmp(dict->items[i]->s, key)) return dict->items[i + 1];
    return NULL;
}

const char *pk_type_name(pk_type t)
{
    static const char *const n[] = {"None", "bool", "int", "float", "str", "bytes", "tuple", "list",
                                    "dict", "global", "object", "storage", "tensor", "opaque"};
    return (unsigned)t < sizeof n / sizeof n[0] ? n[t] : "?";
}

size_t pk_dtype_size(pk_dtype t)
{
    static const size_t sz[] = {2, 2, 4, 8, 8, 4, 2, 1, 1, 1};
    return (unsigned)t < sizeof sz / sizeof sz[0] ? sz[t] : 0;
}

const char *pk_dtype_name(pk_dtype t)
{
    static const char *const n[] = {"f16", "bf16", "f32", "f64", "i64", "i32", "i16", "i8", "u8", "bool"};
    return (unsigned)t < sizeof n / sizeof n[0] ? n[t] : "?";
}
