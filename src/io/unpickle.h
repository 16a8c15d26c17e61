/* unpickle.h -- a restricted Python unpickler for PyTorch checkpoints (data.pkl of a
 * .pt zip archive): it turns the pickle into a tree of plain values and never calls
 * anything.
 *
 * torch.load runs the pickle virtual machine, which imports and calls whatever the
 * file names (os.system included): opening an untrusted .pt with it executes code.
 * This unpickler knows only the opcodes of protocols 2-5 that data files use and an
 * allow-list of globals, the callables and classes that a YOLOv5 checkpoint or a
 * state_dict refers to (src/io/unpickle.c lists them); every other global is refused
 * with an error naming it.  Allowed callables are *interpreted*: a tensor rebuild
 * becomes a pk_tensor record, a module class a plain attribute dictionary
 * (PK_OBJECT), an OrderedDict a PK_DICT, numpy arrays opaque values.
 *
 * Everything is bounded: the input length, stack and memo sizes, nesting depth, the
 * total memory of the tree, tensor ranks, shapes (non-negative, no overflow).
 * Values live in one arena freed with pk_doc_free; memo references may make the
 * graph cyclic, so walkers must bound their depth (PK_MAX_DEPTH).
 *
 * defines: pk_type, pk_value, pk_tensor, pk_storage, pk_dtype, pk_doc, pk_parse,
 *          pk_doc_free, pk_doc_root, pk_dict_get, pk_type_name, pk_dtype_size, PK_MAX_*
 */
#ifndef DY_IO_UNPICKLE_H
#define DY_IO_UNPICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define PK_MAX_DEPTH 200          /* MARK nesting while parsing; walkers' recursion */
#define PK_MAX_STACK (1 << 18)    /* values on the VM stack */
#define PK_MAX_MEMO (1 << 22)     /* memo index */
#define PK_MAX_ARENA ((size_t)1 << 30) /* bytes of values and strings */
#define PK_MAX_NDIM 8

typedef enum {
    PK_NONE = 0, PK_BOOL, PK_INT, PK_FLOAT, PK_STR, PK_BYTES, PK_TUPLE, PK_LIST, PK_DICT,
    PK_GLOBAL,  /* a reference to an allowed class or function */
    PK_OBJECT,  /* an instance of an allowed class: its attributes (BUILD state) */
    PK_STORAGE, /* a persistent id ('storage', type, key, location, numel) */
    PK_TENSOR,  /* torch._utils._rebuild_tensor_v2(...) */
    PK_OPAQUE   /* numpy data and other allowed values dyolo does not read */
} pk_type;

typedef enum { PK_F16 = 0, PK_BF16, PK_F32, PK_F64, PK_I64, PK_I32, PK_I16, PK_I8, PK_U8, PK_BOOLEAN } pk_dtype;

typedef struct pk_value pk_value;

typedef struct {
    const char *key; /* archive entry data/<key> */
    pk_dtype dtype;
    int64_t numel;   /* elements, as the persistent id says */
} pk_storage;

typedef struct {
    const pk_storage *storage;
    int64_t offset;  /* elements */
    int ndim;
    int64_t shape[PK_MAX_NDIM], stride[PK_MAX_NDIM];
    int64_t numel;   /* product of shape, checked against overflow */
    int64_t extent;  /* 1 + highest element index used (offset included); 0 if empty */
} pk_tensor;

struct pk_value {
    pk_type type;
    int64_t i;          /* BOOL, INT */
    double f;           /* FLOAT */
    const char *s;      /* STR, BYTES (len bytes, NUL-terminated); GLOBAL, OBJECT: "module.name" */
    size_t len;
    pk_value **items;   /* TUPLE, LIST: n items; DICT: n/2 pairs, keys and values interleaved */
    size_t n, cap;
    pk_value *attrs;    /* OBJECT: its state dictionary (NULL before BUILD) */
    int kind;           /* GLOBAL: which allowed global (unpickle.c) */
    pk_storage *storage;
    pk_tensor *tensor;
};

typedef struct pk_doc pk_doc;

/* Parse a whole pickle (up to its STOP).  `what` names the input in messages. */
dy_status pk_parse(const void *data, size_t len, const char *what, pk_doc **out);
void pk_doc_free(pk_doc *d);
const pk_value *pk_doc_root(const pk_doc *d);

/* Value of key `key` (a string) in a PK_DICT, else NULL. */
const pk_value *pk_dict_get(const pk_value *dict, const char *key);
const char *pk_type_name(pk_type t);
size_t pk_dtype_size(pk_dtype t);
const char *pk_dtype_name(pk_dtype t);

#endif
