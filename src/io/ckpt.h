/* ckpt.h -- collective parallel-HDF5 checkpoints: write, atomic publish, verify, read.
 *
 * A checkpoint holds
 *   - shared arrays: flat 1-D arrays that are identical on every rank (DDP replicas:
 *     parameters, EMA, momentum, BN buffers).  Each rank writes a disjoint slab, so
 *     write bandwidth grows with the number of ranks;
 *   - rank arrays: [world][n] datasets, one row per rank (RNG and loader state);
 *   - text: long strings (effective config JSON, metrics history);
 *   - name tables: (name, offset, count, shape) rows that describe a flat array;
 *   - root attributes: scalars and short strings (step, epoch, best fitness...).
 * Every dataset carries CRC-32C checksums (one per writer slab) verified on load; the
 * HDF5 metadata is checksummed by HDF5 itself (v2 object headers).  The layout is in
 * src/io/SCHEMA.md.
 *
 * Publishing is atomic: data goes to DIR/NAME.tmp, every rank flushes and fsyncs,
 * rank 0 renames it to DIR/NAME and replaces DIR/latest (write, fsync, rename, fsync
 * the directory).  Every call that takes a communicator is collective and returns
 * the same status on every rank (with the failing rank's message), so no rank is
 * left waiting in a collective when another fails.
 *
 * Threads: parallel HDF5 is not thread-safe.  During an asynchronous commit only the
 * writer thread may call HDF5 on this rank; the caller may keep using MPI (the writer
 * uses its own duplicate of the communicator; needs MPI_THREAD_MULTIPLE).
 *
 * defines: ckpt_dtype, ckpt_dtype_name, ckpt_dtype_size, ckpt_writer, ckpt_writer_begin,
 *          ckpt_add_array, ckpt_add_array_ref, ckpt_add_array_pinned, ckpt_add_rank_array, ckpt_add_text,
 *          ckpt_add_table, ckpt_attr_set_int, ckpt_attr_set_float, ckpt_attr_set_str,
 *          ckpt_writer_set_best, ckpt_writer_set_pointers, ckpt_writer_set_keep, ckpt_commit, ckpt_commit_async, ckpt_poll, ckpt_wait, ckpt_writer_free,
 *          ckpt_reader, ckpt_entry, ckpt_reader_open, ckpt_reader_close, ckpt_find,
 *          ckpt_get, ckpt_get_f32_on, ckpt_get_row, ckpt_text, ckpt_attr_int, ckpt_attr_float,
 *          ckpt_attr_str, ckpt_reader_nentries, ckpt_reader_entry, ckpt_reader_nattrs,
 *          ckpt_reader_attr, ckpt_table_row, ckpt_agree, ckpt_name_for_step,
 *          ckpt_find_kind, ckpt_list, ckpt_listing, ckpt_resume_auto, ckpt_retain, ckpt_resolve_pointer, ckpt_export,
 *          CKPT_SCHEMA_NAME, CKPT_SCHEMA_VERSION, CKPT_PAUSE_ENV
 */
#ifndef DY_IO_CKPT_H
#define DY_IO_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "core/err.h"

#define CKPT_SCHEMA_NAME "dyolo-checkpoint"
#define CKPT_WEIGHTS_SCHEMA_NAME "dyolo-weights"
#define CKPT_SCHEMA_VERSION 1
/* Test hook: seconds to sleep inside a write, after the data and before the flush. */
#define CKPT_PAUSE_ENV "DYOLO_TEST_PAUSE_IN_CKPT_WRITE"
#define CKPT_NAME_MAX 96
#define CKPT_SHAPE_MAX 32

/* Element types.  F16 is stored as 16-bit unsigned integers (IEEE half bits). */
typedef enum { CKPT_F32 = 0, CKPT_F16, CKPT_I64, CKPT_U8, CKPT_U32, CKPT_NDTYPES } ckpt_dtype;
const char *ckpt_dtype_name(ckpt_dtype t);
size_t ckpt_dtype_size(ckpt_dtype t);

/* One row of a name table: the slice [offset, offset+count) of a flat array. */
typedef struct {
    char name[CKPT_NAME_MAX];
    int64_t offset;
    int64_t count;
    char shape[CKPT_SHAPE_MAX]; /* e.g. "16x3x3x3" */
} ckpt_table_row;

/* ---- writing ------------------------------------------------------------------ */
typedef struct ckpt_writer ckpt_writer;

/* Collective over comm (which is duplicated).  The file will be DIR/NAME. */
dy_status ckpt_writer_begin(ckpt_writer **out, const char *dir, const char *name, MPI_Comm comm);
/* Shared array, same n and contents on every rank; copied now (a snapshot). */
dy_status ckpt_add_array(ckpt_writer *w, const char *name, ckpt_dtype t, const void *data, int64_t n);
/* Same without the copy: data must stay unchanged until ckpt_commit returns
 * (ckpt_commit_async copies borrowed arrays before it returns). */
dy_status ckpt_add_array_ref(ckpt_writer *w, const char *name, ckpt_dtype t, const void *data,
                             int64_t n);
/* Not copied even by ckpt_commit_async: data must stay unchanged until ckpt_wait
 * returns (for callers that keep their own reusable snapshot). */
dy_status ckpt_add_array_pinned(ckpt_writer *w, const char *name, ckpt_dtype t, const void *data,
                                int64_t n);
/* This rank's row of a [world][n] dataset (n equal on all ranks); copied. */
dy_status ckpt_add_rank_array(ckpt_writer *w, const char *name, ckpt_dtype t, const void *data,
                              int64_t n);
/* A text (JSON...) of any length, same on every rank; rank 0's copy is written. */
dy_status ckpt_add_text(ckpt_writer *w, const char *name, const char *text);
/* A name table describing a flat array; copied. */
dy_status ckpt_add_table(ckpt_writer *w, const char *name, const ckpt_table_row *rows, int64_t n);
dy_status ckpt_attr_set_int(ckpt_writer *w, const char *name, int64_t v);
dy_status ckpt_attr_set_float(ckpt_writer *w, const char *name, double v);
dy_status ckpt_attr_set_str(ckpt_writer *w, const char *name, const char *v);
/* Mark this checkpoint the best so far (kept by ckpt_retain, pointed to by DIR/best). */
void ckpt_writer_set_best(ckpt_writer *w, int best);
/* 0: do not touch DIR/latest and DIR/best (exports and other single files). */
void ckpt_writer_set_pointers(ckpt_writer *w, int update);
/* keep > 0: after publishing, rank 0 runs ckpt_retain(dir, keep) (failures only warn). */
void ckpt_writer_set_keep(ckpt_writer *w, int keep);

/* Write, flush, fsync and publish (collective).  On failure the .tmp is removed, DIR/
 * latest and older checkpoints are untouched, and every rank returns the error. */
dy_status ckpt_commit(ckpt_writer *w);
/* Same from a background thread; the caller continues and must not call HDF5 until
 * ckpt_wait.  Falls back to a synchronous commit without MPI_THREAD_MULTIPLE. */
dy_status ckpt_commit_async(ckpt_writer *w);
/* Local, non-blocking: 1 once this rank's writer thread has finished. */
int ckpt_poll(const ckpt_writer *w);
/* Join the writer thread; returns the commit's collective status. */
dy_status ckpt_wait(ckpt_writer *w);
/* Frees everything (waits for an async commit first). */
void ckpt_writer_free(ckpt_writer *w);
/* Seconds spent in the last commit (on this rank) and bytes this rank wrote. */
double ckpt_writer_seconds(const ckpt_writer *w);
const char *ckpt_writer_path(const ckpt_writer *w);

/* ---- reading ------------------------------------------------------------------ */
typedef enum { CKPT_KIND_ARRAY = 0, CKPT_KIND_RANK, CKPT_KIND_TEXT, CKPT_KIND_TABLE } ckpt_kind;

typedef struct {
    const char *name;
    ckpt_kind kind;
    ckpt_dtype dtype;  /* arrays */
    int64_t n;         /* elements per row (text: bytes incl. NUL; table: rows) */
    int64_t rows;      /* rank arrays: world size at save time; else 1 */
    const void *data;  /* rows*n elements, text, or ckpt_table_row[] */
} ckpt_entry;

typedef struct {
    const char *name;
    int type; /* 0 int, 1 float, 2 string */
    int64_t i;
    double f;
    const char *s;
} ckpt_attr;

typedef struct ckpt_reader ckpt_reader;

/* Collective: opens PATH, reads every dataset (each rank reads and checks a share of
 * each shared array, then they are exchanged) and verifies all checksums.  Any
 * rank's failure is every rank's error, naming the file and dataset.  The whole
 * file is held in memory on every rank until ckpt_reader_close. */
dy_status ckpt_reader_open(ckpt_reader **out, const char *path, MPI_Comm comm);
void ckpt_reader_close(ckpt_reader *r);
const char *ckpt_reader_path(const ckpt_reader *r);
const ckpt_entry *ckpt_find(const ckpt_reader *r, const char *name);
/* By name and kind: an array and its name table may share a name. */
const ckpt_entry *ckpt_find_kind(const ckpt_reader *r, const char *name, ckpt_kind kind);
/* Copy a shared array (type and length must match). */
dy_status ckpt_get(const ckpt_reader *r, const char *name, ckpt_dtype t, void *dst, int64_t n);
/* The same for an f32 array into a compute backend's memory dst: straight in on a
 * host-memory backend, else through a host buffer and an upload (tensor/backend.h). */
struct tn_backend;
dy_status ckpt_get_f32_on(const ckpt_reader *r, const struct tn_backend *be, const char *name, float *dst,
                          int64_t n);
/* Copy row `row` of a rank array. */
dy_status ckpt_get_row(const ckpt_reader *r, const char *name, ckpt_dtype t, int row, void *dst,
                       int64_t n);
const char *ckpt_text(const ckpt_reader *r, const char *name); /* NULL if absent */
dy_status ckpt_attr_int(const ckpt_reader *r, const char *name, int64_t *out);
dy_status ckpt_attr_float(const ckpt_reader *r, const char *name, double *out);
dy_status ckpt_attr_str(const ckpt_reader *r, const char *name, const char **out);
int ckpt_reader_nentries(const ckpt_reader *r);
const ckpt_entry *ckpt_reader_entry(const ckpt_reader *r, int i);
int ckpt_reader_nattrs(const ckpt_reader *r);
const ckpt_attr *ckpt_reader_attr(const ckpt_reader *r, int i);

/* ---- run directory ------------------------------------------------------------ */
/* Collective agreement: dist_agree (every rank gets the failing rank's error,
 * prefixed "rank N: "). */
dy_status ckpt_agree(MPI_Comm comm, dy_status s);
/* "ckpt-000000001234.h5": names sort by step. */
void ckpt_name_for_step(int64_t step, char *buf, size_t len);

typedef struct {
    char name[256];
    int is_latest, is_best, is_tmp;
} ckpt_listing;
/* Checkpoints in DIR (ckpt-*.h5 and leftover ckpt-*.h5.tmp), newest name first. Local. */
dy_status ckpt_list(const char *dir, ckpt_listing **out, int *n);
/* Collective: open the newest checkpoint in DIR that verifies (by name, i.e. step),
 * warning about and skipping corrupt or partial ones and when it is not the one
 * DIR/latest names.  *out is NULL (and
 * DY_OK) when DIR holds no checkpoint at all; DY_ECORRUPT when none verifies. */
dy_status ckpt_resume_auto(const char *dir, MPI_Comm comm, ckpt_reader **out);
/* Rank-0 work (call on one rank): keep the newest `keep` checkpoints plus DIR/best;
 * remove leftover .tmp files. */
dy_status ckpt_retain(const char *dir, int keep);
/* A run's `latest` and `best` are text files naming a checkpoint beside them: PATH
 * itself when it is not such a pointer (an HDF5 file, say), else the file it names;
 * DY_ENOENT naming both when that file does not exist.  For val, detect and ckpt. */
dy_status ckpt_resolve_pointer(const char *path, char *out, size_t len);
/* Weights-only file from a checkpoint: EMA weights when present (else the model's),
 * buffers, their name tables and the config.  Collective over comm; rank 0 writes. */
dy_status ckpt_export(const char *ckpt_path, const char *out_path, MPI_Comm comm);

/* `dyolo bench ckpt` (src/io/bench_ckpt.c). */

#endif
