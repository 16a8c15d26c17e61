/* ckpt_write.c -- the checkpoint writer: collects arrays, texts, tables and
 * attributes, then writes them collectively with parallel HDF5 and publishes the file
 * atomically (DIR/NAME.tmp -> close + fsync on every rank -> rank 0 renames and
 * replaces DIR/latest).  Shared arrays are cut into one slab per rank (a multiple of
 * CKPT_RAW_ALIGN bytes); each rank writes its own slab independently (disjoint
 * contiguous ranges need no two-phase aggregation, and an I/O error on one rank then
 * cannot strand the others inside a collective write) and checksums it; the checksums
 * are exchanged so every rank writes the same attribute.  Data goes through
 * H5Dwrite (independent MPI-IO), or with DYOLO_CKPT_DIRECT=1 for large arrays the
 * O_DIRECT path of ckpt_rawio.c.  Statuses are agreed after every dataset, so a failure on any rank stops
 * all ranks at the same point.
 * The commit may run in a background thread (ckpt_commit_async); HDF5 calls then
 * hold the process-wide HDF5 lock (core/h5lock.h), released while raw data is
 * written and while ranks agree. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fault.h"
#include "core/crc32c.h"
#include "core/h5lock.h"
#include "core/log.h"
#include "core/timer.h"
#include "dyolo_config.h"
#include "io/ckpt_internal.h"

typedef struct {
    char name[CKPT_NAME_MAX];
    ckpt_kind kind;
    ckpt_dtype t;
    int64_t n;        /* elements (text: bytes without NUL; table: rows) */
    const void *data; /* owned or borrowed */
    void *owned;
    int pinned;       /* borrowed, and stable until ckpt_wait: never copied */
} wentry;

typedef struct {
    char name[64];
    int type; /* 0 int, 1 float, 2 string */
    int64_t i;
    double f;
    char *s;
} wattr;

struct ckpt_writer {
    MPI_Comm comm;
    int rank, world, thread_multiple, best, pointers, keep;
    char dir[CKPT_PATH_MAX], name[256], path[CKPT_PATH_MAX], tmp[CKPT_PATH_MAX];
    wentry *e;
    int ne, cap;
    wattr *a;
    int na, acap;
    pthread_t thread;
    int thread_running;
    atomic_int done;
    dy_status result;
    char result_msg[2048];
    double seconds;
    ckpt_raw *raw; /* direct data path during a commit, NULL when off */
};

dy_status ckpt_writer_begin(ckpt_writer **out, const char *dir, const char *name, MPI_Comm comm)
{
    *out = NULL;
    if (!name || !*name || strchr(name, '/') || !strcmp(name, "latest") || !strcmp(name, "best"))
        return DY_ERR(DY_EINVAL, "bad checkpoint name \"%s\"", name ? name : "");
    ckpt_writer *w = calloc(1, sizeof *w);
    if (!w) return DY_ERR(DY_ENOMEM, "checkpoint writer");
    if (MPI_Comm_dup(comm, &w->comm) != MPI_SUCCESS) {
        free(w);
        return DY_ERR(DY_EMPI, "MPI_Comm_dup for the checkpoint writer failed");
    }
    MPI_Comm_set_errhandler(w->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(w->comm, &w->rank);
    MPI_Comm_size(w->comm, &w->world);
    int level = 0;
    MPI_Query_thread(&level);
    w->thread_multiple = level == MPI_THREAD_MULTIPLE;
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    snprintf(w->name, sizeof w->name, "%s", name);
    snprintf(w->path, sizeof w->path, "%s/%s", dir, name);
    snprintf(w->tmp, sizeof w->tmp, "%s/%s.tmp", dir, name);
    atomic_store(&w->done, 1);
    w->pointers = 1;
    *out = w;
    /* Built-in root attributes; "created" is the snapshot time. */
    char when[64], build[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(build, sizeof build, "gcc %s, HDF5 %d.%d.%d, %s, cuda %s", __VERSION__, H5_VERS_MAJOR,
             H5_VERS_MINOR, H5_VERS_RELEASE, DY_MPI_VERSION_CONFIGURED,
#ifdef DY_HAVE_CUDA
             "yes"
#else
             "no"
#endif
    );
    dy_status s = ckpt_attr_set_str(w, "schema", CKPT_SCHEMA_NAME);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "schema_version", CKPT_SCHEMA_VERSION);
    if (s == DY_OK) s = ckpt_attr_set_str(w, "dyolo_version", PACKAGE_VERSION);
    if (s == DY_OK) s = ckpt_attr_set_str(w, "build", build);
    if (s == DY_OK) s = ckpt_attr_set_str(w, "created", when);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "created_unix", (int64_t)now);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "world_size", w->world);
    if (s != DY_OK) {
        ckpt_writer_free(w);
        *out = NULL;
    }
    return s;
}

static dy_status add_entry(ckpt_writer *w, const char *name, ckpt_kind kind, ckpt_dtype t,
                           const void *data, int64_t n, size_t bytes, int copy)
{
    if (!name || !*name || strlen(name) >= CKPT_NAME_MAX || strchr(name, '/'))
        return DY_ERR(DY_EINVAL, "bad checkpoint dataset name \"%s\"", name ? name : "");
    if (n < 0 || t >= CKPT_NDTYPES || (n > 0 && !data))
        return DY_ERR(DY_EINVAL, "checkpoint dataset %s: bad type, length or data", name);
    for (int i = 0; i < w->ne; i++)
        if (w->e[i].kind == kind && !strcmp(w->e[i].name, name))
            return DY_ERR(DY_EINVAL, "checkpoint dataset %s added twice", name);
    if (w->ne == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        wentry *e = realloc(w->e, (size_t)cap * sizeof *e);
        if (!e) return DY_ERR(DY_ENOMEM, "checkpoint entries");
        w->e = e;
        w->cap = cap;
    }
    wentry *e = &w->e[w->ne];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kind = kind;
    e->t = t;
    e->n = n;
    e->data = data;
    if (copy) {
        e->owned = malloc(bytes ? bytes : 1);
        if (!e->owned) return DY_ERR(DY_ENOMEM, "snapshot of %s (%zu bytes)", name, bytes);
        if (bytes) memcpy(e->owned, data, bytes);
        e->data = e->owned;
    }
    w->ne++;
    return DY_OK;
}

dy_status ckpt_add_array(ckpt_writer *w, const char *name, ckpt_dtype t, const void *data, int64_t n)
{
    return add_entry(w, name, CKPT_KIND_ARRAY, t, data, n, (size_t)n * ckpt_dtype_size(t), 1);
}

dy_status ckpt_add_array_ref(ckpt_writer *w, const char *name, ckpt_dtype t, const void *data,
                             int64_t n)
{
    return add_entry(w, name, CKPT_KIND_ARRAY, t, data, n, 0, 0);
}

dy_status ckpt_add_array_pinned(ckpt_writer *w, const char *name, ckpt_dtype t, const void *data,
                                int64_t n)
{
    DY_TRY(add_entry(w, name, CKPT_KIND_ARRAY, t, data, n, 0, 0));
    w->e[w->ne - 1].pinned = 1;
    return DY_OK;
}

dy_status ckpt_add_rank_array(ckpt_writer *w, const char *name, ckpt_dtype t, const void *data,
                              int64_t n)
{
    return add_entry(w, name, CKPT_KIND_RANK, t, data, n, (size_t)n * ckpt_dtype_size(t), 1);
}

dy_status ckpt_add_text(ckpt_writer *w, const char *name, const char *text)
{
    if (!text) text = "";
    size_t len = strlen(text);
    return add_entry(w, name, CKPT_KIND_TEXT, CKPT_U8, text, (int64_t)len, len + 1, 1);
}

dy_status ckpt_add_table(ckpt_writer *w, const char *name, const ckpt_table_row *rows, int64_t n)
{
    DY_TRY(add_entry(w, name, CKPT_KIND_TABLE, CKPT_U8, rows, n, (size_t)n * sizeof *rows, 1));
    /* Normalise padding so the checksum does not depend on bytes after the NULs. */
    ckpt_table_row *r = w->e[w->ne - 1].owned;
    for (int64_t i = 0; i < n; i++) {
        ckpt_table_row c = r[i];
        memset(&r[i], 0, sizeof r[i]);
        snprintf(r[i].name, sizeof r[i].name, "%.*s", CKPT_NAME_MAX - 1, c.name);
        snprintf(r[i].shape, sizeof r[i].shape, "%.*s", CKPT_SHAPE_MAX - 1, c.shape);
        r[i].offset = c.offset;
        r[i].count = c.count;
    }
    return DY_OK;
}

static dy_status add_attr(ckpt_writer *w, const char *name, int type, int64_t i, double f,
                          const char *s)
{
    if (!name || !*name || strlen(name) >= 64) return DY_ERR(DY_EINVAL, "bad attribute name");
    wattr *a = NULL;
    for (int k = 0; k < w->na; k++)
        if (!strcmp(w->a[k].name, name)) a = &w->a[k];
    if (!a) {
        if (w->na == w->acap) {
            int cap = w->acap ? 2 * w->acap : 16;
            wattr *n = realloc(w->a, (size_t)cap * sizeof *n);
            if (!n) return DY_ERR(DY_ENOMEM, "checkpoint attributes");
            w->a = n;
            w->acap = cap;
        }
        a = &w->a[w->na++];
        memset(a, 0, sizeof *a);
        snprintf(a->name, sizeof a->name, "%s", name);
    }
    free(a->s);
    a->s = NULL;
    a->type = type;
    a->i = i;
    a->f = f;
    if (s && !(a->s = strdup(s))) return DY_ERR(DY_ENOMEM, "attribute %s", name);
    return DY_OK;
}

dy_status ckpt_attr_set_int(ckpt_writer *w, const char *name, int64_t v) { return add_attr(w, name, 0, v, 0, NULL); }
dy_status ckpt_attr_set_float(ckpt_writer *w, const char *name, double v) { return add_attr(w, name, 1, 0, v, NULL); }
dy_status ckpt_attr_set_str(ckpt_writer *w, const char *name, const char *v) { return add_attr(w, name, 2, 0, 0, v ? v : ""); }
void ckpt_writer_set_best(ckpt_writer *w, int best) { w->best = best; }
void ckpt_writer_set_pointers(ckpt_writer *w, int update) { w->pointers = update; }
void ckpt_writer_set_keep(ckpt_writer *w, int keep) { w->keep = keep; }
double ckpt_writer_seconds(const ckpt_writer *w) { return w->seconds; }
const char *ckpt_writer_path(const ckpt_writer *w) { return w->path; }

/* ---- HDF5 pieces -------------------------------------------------------------- */

static dy_status h5_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                         const void *v)
{
    hid_t sp, at;
    if (n == 0) {
        H5_CHECK_ID(sp, H5Screate(H5S_SCALAR), "attribute %s", name);
    } else {
        H5_CHECK_ID(sp, H5Screate_simple(1, &n, NULL), "attribute %s", name);
    }
    at = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(sp);
    H5_CHECK(at, "creating attribute %s", name);
    herr_t rc = H5Awrite(at, mtype, v);
    H5Aclose(at);
    H5_CHECK(rc, "writing attribute %s", name);
    return DY_OK;
}

static dy_status h5_attr_str(hid_t loc, const char *name, const char *s)
{
    hid_t t;
    H5_CHECK_ID(t, ckpt_h5_str_type(strlen(s) + 1), "string type for %s", name);
    dy_status st = h5_attr(loc, name, t, t, 0, s);
    H5Tclose(t);
    return st;
}

static dy_status h5_attr_i64(hid_t loc, const char *name, int64_t v)
{
    return h5_attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &v);
}

static dy_status write_root_attrs(ckpt_writer *w, hid_t file)
{
    for (int i = 0; i < w->na; i++) {
        wattr *a = &w->a[i];
        if (a->type == 0) DY_TRY(h5_attr_i64(file, a->name, a->i));
        else if (a->type == 1) DY_TRY(h5_attr(file, a->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &a->f));
        else DY_TRY(h5_attr_str(file, a->name, a->s));
    }
    return DY_OK;
}

/* Which part of entry e this rank writes: element range [*lo, *hi), and the
 * checksum block size in elements (one block per writer rank). */
static void my_slab(const ckpt_writer *w, const wentry *e, int64_t *lo, int64_t *hi, int64_t *blk)
{
    if (e->kind == CKPT_KIND_ARRAY) {
        /* Slabs of whole CKPT_RAW_ALIGN blocks keep every rank's O_DIRECT write aligned. */
        int64_t align = CKPT_RAW_ALIGN / (int64_t)ckpt_dtype_size(e->t);
        int64_t b = (e->n + w->world - 1) / w->world;
        b = b < 1 ? align : (b + align - 1) / align * align;
        *blk = b;
        *lo = b * w->rank < e->n ? b * w->rank : e->n;
        *hi = *lo + b < e->n ? *lo + b : e->n;
    } else if (e->kind == CKPT_KIND_RANK) {
        *blk = e->n;
        *lo = e->n * w->rank;
        *hi = *lo + e->n;
    } else { /* text and tables are small: rank 0 writes them whole */
        *blk = e->n;
        *lo = 0;
        *hi = w->rank == 0 ? e->n : 0;
    }
}

static dy_status create_dset(ckpt_writer *w, hid_t grp, const wentry *e, hid_t *dset, hid_t *ftype)
{
    hsize_t dims[2] = {(hsize_t)e->n, 0};
    int rank = 1;
    hid_t sp;
    *ftype = -1;
    if (e->kind == CKPT_KIND_RANK) {
        dims[0] = (hsize_t)w->world;
        dims[1] = (hsize_t)e->n;
        rank = 2;
    }
    if (e->kind == CKPT_KIND_TEXT) {
        H5_CHECK_ID(*ftype, ckpt_h5_str_type((size_t)e->n + 1), "text type");
        H5_CHECK_ID(sp, H5Screate(H5S_SCALAR), "text space");
    } else {
        if (e->kind == CKPT_KIND_TABLE) {
            H5_CHECK_ID(*ftype, ckpt_h5_table_type(), "table type");
        } else {
            H5_CHECK_ID(*ftype, H5Tcopy(ckpt_h5_file_type(e->t)), "type");
        }
        H5_CHECK_ID(sp, H5Screate_simple(rank, dims, NULL), "space");
    }
    /* Contiguous, allocated now (its address is known for the direct path) and never
     * filled: every byte is written by us, so fill values would be a second write. */
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl < 0 || H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 || H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0) {
        if (dcpl >= 0) H5Pclose(dcpl);
        H5Sclose(sp);
        return DY_ERR(DY_EHDF5, "dataset creation properties for %s", e->name);
    }
    *dset = H5Dcreate2(grp, e->name, *ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5_CHECK(*dset, "creating dataset %s", e->name);
    return DY_OK;
}

/* Independent write of this rank's part [lo, hi) of e. */
static dy_status write_part(ckpt_writer *w, hid_t dset, hid_t ftype, const wentry *e, int64_t lo,
                            int64_t hi)
{
    if (hi <= lo && !(e->kind == CKPT_KIND_TEXT && w->rank == 0)) return DY_OK;
    hid_t fsp = -1, msp = -1, mtype = e->kind == CKPT_KIND_ARRAY || e->kind == CKPT_KIND_RANK ? ckpt_h5_mem_type(e->t) : ftype;
    const char *src = (const char *)e->data;
    herr_t rc;
    if (e->kind == CKPT_KIND_TEXT) {
        rc = H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, src);
    } else {
        H5_CHECK_ID(fsp, H5Dget_space(dset), "space of %s", e->name);
        hsize_t start[2] = {(hsize_t)lo, 0}, count[2] = {(hsize_t)(hi - lo), 0};
        size_t esz = e->kind == CKPT_KIND_TABLE ? sizeof(ckpt_table_row) : ckpt_dtype_size(e->t);
        if (e->kind == CKPT_KIND_RANK) {
            start[0] = (hsize_t)w->rank;
            count[0] = 1;
            count[1] = (hsize_t)e->n;
            src = (const char *)e->data; /* the row is this rank's own data */
        } else {
            src += (size_t)lo * esz;
        }
        H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL);
        hsize_t mcount = (hsize_t)(hi - lo);
        msp = H5Screate_simple(1, &mcount, NULL);
        rc = H5Dwrite(dset, mtype, msp, fsp, H5P_DEFAULT, src);
    }
    char m[1024] = "";
    if (rc < 0) check_h5_message(m, sizeof m); /* before the closes reset the error stack */
    if (e->kind != CKPT_KIND_TEXT) {
        H5Sclose(msp);
        H5Sclose(fsp);
    }
    if (rc < 0) return DY_ERR(DY_EIO, "writing dataset %s: %s", e->name, m);
    return DY_OK;
}

static const char *group_of(ckpt_kind k)
{
    static const char *const g[] = {"arrays", "rank", "text", "tables"};
    return g[k];
}

static int use_raw(const ckpt_writer *w, const wentry *e)
{
    return w->raw && e->kind == CKPT_KIND_ARRAY && e->n * (int64_t)ckpt_dtype_size(e->t) >= CKPT_RAW_MIN;
}

/* Create, write, checksum one entry; the status is agreed across ranks before the
 * (collective) checksum attributes are written.  The HDF5 lock is held for HDF5
 * calls only: not during raw writes or while waiting for other ranks. */
static dy_status write_entry(ckpt_writer *w, hid_t file, const wentry *e, uint32_t *crcs)
{
    int64_t lo, hi, blk;
    my_slab(w, e, &lo, &hi, &blk);
    size_t esz = e->kind == CKPT_KIND_TABLE ? sizeof(ckpt_table_row) : ckpt_dtype_size(e->t);
    if (e->kind == CKPT_KIND_TEXT) esz = 1;
    const char *src = (const char *)e->data + (e->kind == CKPT_KIND_RANK ? 0 : (size_t)lo * esz);
    uint32_t crc = 0;
    haddr_t addr = HADDR_UNDEF;
    h5lock_acquire();
    hid_t grp = H5Gopen2(file, group_of(e->kind), H5P_DEFAULT), dset = -1, ftype = -1;
    dy_status s = grp < 0 ? DY_ERR(DY_EHDF5, "opening group /%s", group_of(e->kind)) : DY_OK;
    if (s == DY_OK) s = create_dset(w, grp, e, &dset, &ftype);
    if (s == DY_OK && use_raw(w, e)) addr = H5Dget_offset(dset);
    if (s == DY_OK && addr == HADDR_UNDEF) {
        s = write_part(w, dset, ftype, e, lo, hi);
        crc = crc32c(src, (size_t)(hi - lo) * esz);
    }
    h5lock_release();
    if (s == DY_OK && addr != HADDR_UNDEF)
        s = ckpt_raw_write(w->raw, src, (size_t)(hi - lo) * esz, (uint64_t)addr + (uint64_t)lo * esz, e->name, &crc);
    if (s == DY_OK) s = fault_at("checkpoint"); /* tests: as a failed write of this rank's slab */
    s = ckpt_agree(w->comm, s);
    if (s == DY_OK && MPI_Allgather(&crc, 1, MPI_UINT32_T, crcs, 1, MPI_UINT32_T, w->comm) != MPI_SUCCESS)
        s = DY_ERR(DY_EMPI, "exchanging checksums of %s", e->name);
    h5lock_acquire();
    if (s == DY_OK) {
        /* Blocks in order; ranks past the end of a short array hold no block. */
        hsize_t nblk = e->kind == CKPT_KIND_ARRAY ? (hsize_t)((e->n + blk - 1) / blk) : e->kind == CKPT_KIND_RANK ? (hsize_t)w->world : 1;
        if (nblk == 0) nblk = 1;
        int64_t blk_bytes = blk * (int64_t)esz;
        s = h5_attr(dset, "crc32c", H5T_STD_U32LE, H5T_NATIVE_UINT32, nblk, crcs);
        if (s == DY_OK) s = h5_attr_i64(dset, "crc32c_block", blk_bytes);
        if (s == DY_OK && (e->kind == CKPT_KIND_ARRAY || e->kind == CKPT_KIND_RANK))
            s = h5_attr_str(dset, "dtype", ckpt_dtype_name(e->t));
    }
    if (dset >= 0) H5Dclose(dset);
    if (ftype >= 0) H5Tclose(ftype);
    if (grp >= 0) H5Gclose(grp);
    h5lock_release();
    return ckpt_agree(w->comm, s);
}

static dy_status write_contents(ckpt_writer *w, hid_t file)
{
    h5lock_acquire();
    dy_status s = write_root_attrs(w, file);
    for (int k = 0; k < 4 && s == DY_OK; k++) {
        hid_t g = H5Gcreate2(file, group_of((ckpt_kind)k), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) s = DY_ERR(DY_EHDF5, "creating group /%s", group_of((ckpt_kind)k));
        else H5Gclose(g);
    }
    h5lock_release();
    s = ckpt_agree(w->comm, s);
    /* The optional direct path: every rank opens its own descriptors. */
    if (s == DY_OK && ckpt_raw_enabled()) s = ckpt_raw_open(&w->raw, w->tmp);
    s = ckpt_agree(w->comm, s);
    uint32_t *crcs = malloc((size_t)w->world * sizeof *crcs);
    if (!crcs) s = DY_ERR(DY_ENOMEM, "checksum list");
    s = ckpt_agree(w->comm, s);
    for (int i = 0; i < w->ne && s == DY_OK; i++) s = write_entry(w, file, &w->e[i], crcs);
    free(crcs);
    ckpt_raw_close(w->raw);
    w->raw = NULL;
    return s;
}

/* Rank 0: rename the finished file into place and update the pointers, with ONE
 * directory fsync for all renames (each fsync is a journal commit, 5-40 ms here).
 * `latest` is written without fsync of its own: it is advisory -- resume picks the
 * newest checkpoint that verifies by name and only warns when `latest` disagrees or
 * is unreadable.  `best` decides what retention keeps, so it is synced. */
static dy_status publish(ckpt_writer *w)
{
    if (rename(w->tmp, w->path) != 0)
        return DY_ERR(DY_EIO, "renaming %s to %s: %s", w->tmp, w->path, strerror(errno));
    char text[300];
    snprintf(text, sizeof text, "%s\n", w->name);
    if (w->pointers) DY_TRY(ckpt_write_file_renamed(w->dir, "latest", text, 0));
    if (w->pointers && w->best) DY_TRY(ckpt_write_file_renamed(w->dir, "best", text, 1));
    DY_TRY(ckpt_fsync_dir(w->dir));
    /* The new checkpoint is safe: failing to delete old ones is only worth a warning. */
    if (w->pointers && w->keep > 0 && ckpt_retain(w->dir, w->keep) != DY_OK)
        log_warn("checkpoint retention: %s", err_msg());
    return DY_OK;
}

static double estimate_bytes(const ckpt_writer *w)
{
    double b = 65536; /* headers, attributes, checksums */
    for (int i = 0; i < w->ne; i++) {
        const wentry *e = &w->e[i];
        if (e->kind == CKPT_KIND_ARRAY) b += (double)e->n * (double)ckpt_dtype_size(e->t);
        else if (e->kind == CKPT_KIND_RANK) b += (double)e->n * (double)ckpt_dtype_size(e->t) * w->world;
        else if (e->kind == CKPT_KIND_TEXT) b += (double)e->n + 1;
        else b += (double)e->n * (double)sizeof(ckpt_table_row);
    }
    return b;
}

static double free_bytes(const char *dir)
{
    struct statvfs sv;
    return statvfs(dir, &sv) == 0 ? (double)sv.f_bavail * (double)sv.f_frsize : -1;
}

/* Rank 0, before writing: fail early (and clearly) when the checkpoint cannot fit.
 * DYOLO_TEST_SKIP_SPACE_CHECK=1 lets tests hit a full disk in the middle of a write. */
static dy_status space_check(const ckpt_writer *w)
{
    double need = estimate_bytes(w), have = free_bytes(w->dir);
    if (getenv("DYOLO_TEST_SKIP_SPACE_CHECK") || have < 0 || have >= need) return DY_OK;
    return DY_ERR(DY_EIO, "%s: No space left on device: the checkpoint needs about %.1f MB, the filesystem of %s has %.1f MB free",
                  w->tmp, need / 1e6, w->dir, have / 1e6);
}

static dy_status commit_impl(ckpt_writer *w)
{
    double t0 = timer_now();
    dy_status s = w->rank == 0 ? ckpt_mkdir_p(w->dir) : DY_OK;
    if (s == DY_OK && w->rank == 0 && unlink(w->tmp) != 0 && errno != ENOENT)
        s = DY_ERR(DY_EIO, "removing stale %s: %s", w->tmp, strerror(errno));
    if (s == DY_OK && w->rank == 0) s = space_check(w);
    DY_TRY_CTX(ckpt_agree(w->comm, s), "checkpoint %s", w->path);
    h5lock_acquire();
    hid_t fapl = ckpt_fapl(w->comm), file = -1;
    if (fapl >= 0) file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (file < 0) {
        char m[1024];
        check_h5_message(m, sizeof m);
        s = DY_ERR(DY_EIO, "creating %s: %s", w->tmp, m);
    }
    if (fapl >= 0) H5Pclose(fapl);
    h5lock_release();
    s = ckpt_agree(w->comm, s);
    double t1 = timer_now();
    if (s == DY_OK) s = write_contents(w, file);
    double t2 = timer_now();
    if (s == DY_OK) ckpt_pause_hook(w->rank);
    /* After a failed write (a full disk) free the data blocks first, so that the
     * close can still write its metadata: a file HDF5 failed to close crashes the
     * library's clean-up at exit. */
    if (s != DY_OK && file >= 0) {
        if (w->rank == 0 && truncate(w->tmp, 0) != 0) log_debug("truncating %s: %s", w->tmp, strerror(errno));
        MPI_Barrier(w->comm);
    }
    /* No H5Fflush: its MPI_File_sync would be a second fsync, and the close writes
     * metadata again anyway; the fsync below makes everything durable once. */
    h5lock_acquire();
    if (file >= 0 && H5Fclose(file) < 0 && s == DY_OK) {
        char m[1024];
        check_h5_message(m, sizeof m);
        s = DY_ERR(DY_EIO, "closing %s: %s", w->tmp, m);
    }
    h5lock_release();
    double t3 = timer_now();
    /* Each rank syncs what it wrote through its own descriptor's node. */
    if (s == DY_OK) s = ckpt_fsync_path(w->tmp);
    s = ckpt_agree(w->comm, s);
    double t4 = timer_now();
    if (s == DY_OK && w->rank == 0) s = publish(w);
    if (s != DY_OK && w->rank == 0) {
        unlink(w->tmp);
        /* I/O layers often report a full disk as a short write with no errno: say it. */
        double have = free_bytes(w->dir);
        if (have >= 0 && have < estimate_bytes(w) && !strstr(err_msg(), "No space left")) {
            char old[2048];
            snprintf(old, sizeof old, "%s", err_msg());
            err_set(s, "%s (No space left on device: %.1f MB free on the filesystem of %s, %.1f MB needed)", old,
                    have / 1e6, w->dir, estimate_bytes(w) / 1e6);
        }
    }
    s = ckpt_agree(w->comm, s);
    w->seconds = timer_now() - t0;
    log_debug("checkpoint %s: create %.3f s, write+crc %.3f s, close %.3f s, fsync %.3f s, publish %.3f s",
              w->path, t1 - t0, t2 - t1, t3 - t2, t4 - t3, w->seconds - (t4 - t0));
    if (s != DY_OK) return err_wrap(s, "writing checkpoint %s (previous checkpoints untouched)", w->path);
    return DY_OK;
}

dy_status ckpt_commit(ckpt_writer *w)
{
    if (!atomic_load(&w->done)) return DY_ERR(DY_EINVAL, "checkpoint %s: commit already running", w->path);
    return commit_impl(w);
}

static void *commit_thread(void *arg)
{
    ckpt_writer *w = arg;
    /* Signals go to the training thread, whose handlers only set a flag. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    w->result = commit_impl(w);
    if (w->result != DY_OK) snprintf(w->result_msg, sizeof w->result_msg, "%s", err_msg());
    atomic_store(&w->done, 1);
    return NULL;
}

dy_status ckpt_commit_async(ckpt_writer *w)
{
    if (!atomic_load(&w->done)) return DY_ERR(DY_EINVAL, "checkpoint %s: commit already running", w->path);
    if (!w->thread_multiple) {
        log_warn("MPI_THREAD_MULTIPLE not available: writing checkpoint %s synchronously", w->path);
        w->result = commit_impl(w);
        if (w->result != DY_OK) snprintf(w->result_msg, sizeof w->result_msg, "%s", err_msg());
        return DY_OK;
    }
    /* The caller continues as soon as we return: borrowed arrays become snapshots. */
    for (int i = 0; i < w->ne; i++) {
        wentry *e = &w->e[i];
        size_t bytes = (size_t)e->n * ckpt_dtype_size(e->t);
        if (e->owned || e->pinned || !bytes) continue;
        if (!(e->owned = malloc(bytes))) return DY_ERR(DY_ENOMEM, "snapshot of %s (%zu bytes)", e->name, bytes);
        memcpy(e->owned, e->data, bytes);
        e->data = e->owned;
    }
    atomic_store(&w->done, 0);
    int rc = pthread_create(&w->thread, NULL, commit_thread, w);
    if (rc != 0) {
        atomic_store(&w->done, 1);
        return DY_ERR(DY_EIO, "starting the checkpoint writer thread: %s", strerror(rc));
    }
    w->thread_running = 1;
    return DY_OK;
}

int ckpt_poll(const ckpt_writer *w) { return atomic_load(&w->done); }

dy_status ckpt_wait(ckpt_writer *w)
{
    if (w->thread_running) {
        pthread_join(w->thread, NULL);
        w->thread_running = 0;
    }
    if (w->result != DY_OK) return err_set(w->result, "%s", w->result_msg);
    return DY_OK;
}

void ckpt_writer_free(ckpt_writer *w)
{
    if (!w) return;
    if (w->thread_running) (void)ckpt_wait(w);
    for (int i = 0; i < w->ne; i++) free(w->e[i].owned);
    for (int i = 0; i < w->na; i++) free(w->a[i].s);
    free(w->e);
    free(w->a);
    MPI_Comm_free(&w->comm);
    free(w);
}
