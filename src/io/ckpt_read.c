/* ckpt_read.c -- opening and verifying a checkpoint.  The whole file is loaded into
 * memory at open: for each shared array every rank reads and checks a contiguous
 * share of the writer's checksum blocks, then the shares are exchanged with
 * MPI_Allgatherv (read bandwidth grows with ranks, as for writing, and any world size
 * can read any checkpoint); rank arrays, texts and tables are small and read whole by
 * every rank.  A checksum mismatch names the file, the dataset and the byte range. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/check.h"
#include "tensor/backend.h"
#include "core/crc32c.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "io/ckpt_internal.h"

typedef struct {
    ckpt_entry pub;
    char name[CKPT_NAME_MAX];
    void *buf;
} rentry;

typedef struct {
    ckpt_attr pub;
    char name[64];
    char *s;
} rattr;

struct ckpt_reader {
    MPI_Comm comm;
    int rank, world;
    char path[CKPT_PATH_MAX];
    rentry *e;
    int ne;
    rattr *a;
    int na;
};

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    ckpt_reader *r = data;
    rattr *a = &r->a[r->na];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->pub.name = a->name;
    hid_t at = H5Aopen(loc, name, H5P_DEFAULT);
    if (at < 0) return -1;
    hid_t t = H5Aget_type(at);
    H5T_class_t c = H5Tget_class(t);
    herr_t rc = 0;
    if (c == H5T_INTEGER) {
        a->pub.type = 0;
        rc = H5Aread(at, H5T_NATIVE_INT64, &a->pub.i);
    } else if (c == H5T_FLOAT) {
        a->pub.type = 1;
        rc = H5Aread(at, H5T_NATIVE_DOUBLE, &a->pub.f);
    } else if (c == H5T_STRING && !H5Tis_variable_str(t)) {
        a->pub.type = 2;
        size_t len = H5Tget_size(t);
        a->s = calloc(len + 1, 1);
        rc = a->s ? H5Aread(at, t, a->s) : -1;
        a->pub.s = a->s;
    } else {
        rc = -1;
    }
    H5Tclose(t);
    H5Aclose(at);
    if (rc < 0) return -1;
    r->na++;
    return 0;
}

static dy_status read_root_attrs(ckpt_reader *r, hid_t file)
{
    H5O_info_t oi;
    H5_CHECK(H5Oget_info(file, &oi), "root object of %s", r->path);
    r->a = calloc((size_t)oi.num_attrs + 1, sizeof *r->a);
    if (!r->a) return DY_ERR(DY_ENOMEM, "attributes");
    hsize_t idx = 0;
    H5_CHECK(H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, r), "reading attributes of %s", r->path);
    const char *schema = NULL;
    int64_t ver = 0;
    if (ckpt_attr_str(r, "schema", &schema) != DY_OK ||
        (strcmp(schema, CKPT_SCHEMA_NAME) && strcmp(schema, CKPT_WEIGHTS_SCHEMA_NAME)))
        return DY_ERR(DY_EFORMAT, "%s is not a dyolo checkpoint (schema attribute \"%s\")", r->path,
                      schema ? schema : "missing");
    DY_TRY(ckpt_attr_int(r, "schema_version", &ver));
    if (ver < 1 || ver > CKPT_SCHEMA_VERSION)
        return DY_ERR(DY_EUNSUPPORTED, "%s: checkpoint schema version %lld; this dyolo reads 1..%d",
                      r->path, (long long)ver, CKPT_SCHEMA_VERSION);
    return DY_OK;
}

static dy_status read_checksums(hid_t dset, const char *what, uint32_t **crcs, hsize_t *ncrc, int64_t *blk)
{
    hid_t at, sp;
    H5_CHECK_ID(at, H5Aopen(dset, "crc32c", H5P_DEFAULT), "%s: missing crc32c attribute", what);
    sp = H5Aget_space(at);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    *ncrc = n > 0 ? (hsize_t)n : 0;
    *crcs = calloc(*ncrc + 1, sizeof **crcs);
    herr_t rc = *crcs ? H5Aread(at, H5T_NATIVE_UINT32, *crcs) : -1;
    H5Aclose(at);
    H5_CHECK(rc, "%s: reading crc32c", what);
    H5_CHECK_ID(at, H5Aopen(dset, "crc32c_block", H5P_DEFAULT), "%s: missing crc32c_block", what);
    rc = H5Aread(at, H5T_NATIVE_INT64, blk);
    H5Aclose(at);
    H5_CHECK(rc, "%s: reading crc32c_block", what);
    return DY_OK;
}

static dy_status check_block(const char *path, const char *what, const void *p, int64_t bytes, uint32_t want, int64_t at)
{
    uint32_t got = crc32c(p, (size_t)bytes);
    if (got != want)
        return DY_ERR(DY_ECORRUPT, "%s: checksum mismatch in dataset %s, bytes %lld..%lld (crc32c %08x, stored %08x)",
                      path, what, (long long)at, (long long)(at + bytes), got, want);
    return DY_OK;
}

/* Read rows [lo, hi) of a 1-D dataset (or everything with lo<0) into buf. */
static dy_status read_range(hid_t dset, hid_t mtype, const char *what, int64_t lo, int64_t hi, void *buf)
{
    if (lo < 0) {
        H5_CHECK(H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), "reading %s", what);
        return DY_OK;
    }
    if (hi <= lo) return DY_OK;
    hid_t fsp = H5Dget_space(dset);
    hsize_t start = (hsize_t)lo, count = (hsize_t)(hi - lo);
    H5Sselect_hyperslab(fsp, H5S_SELECT_SET, &start, NULL, &count, NULL);
    hid_t msp = H5Screate_simple(1, &count, NULL);
    herr_t rc = H5Dread(dset, mtype, msp, fsp, H5P_DEFAULT, buf);
    char m[1024] = "";
    if (rc < 0) check_h5_message(m, sizeof m); /* before the closes reset the error stack */
    H5Sclose(msp);
    H5Sclose(fsp);
    if (rc < 0) return DY_ERR(DY_EIO, "reading %s: %s", what, m);
    return DY_OK;
}

/* Shared array: this rank reads and checks blocks [b0, b1), then all exchange. */
static dy_status load_array(ckpt_reader *r, hid_t dset, rentry *e, const uint32_t *crcs, hsize_t ncrc, int64_t blk)
{
    size_t esz = ckpt_dtype_size(e->pub.dtype);
    int64_t bytes = e->pub.n * (int64_t)esz;
    if (bytes == 0) return DY_OK;
    if (blk <= 0 || blk % (int64_t)esz || (hsize_t)((bytes + blk - 1) / blk) != ncrc)
        return DY_ERR(DY_ECORRUPT, "%s: dataset %s has inconsistent checksum blocks", r->path, e->name);
    int64_t nb = (int64_t)ncrc, b0 = nb * r->rank / r->world, b1 = nb * (r->rank + 1) / r->world;
    int64_t lo = b0 * blk / (int64_t)esz, hi = b1 * blk / (int64_t)esz;
    if (hi > e->pub.n) hi = e->pub.n;
    dy_status s = read_range(dset, ckpt_h5_mem_type(e->pub.dtype), e->name, lo, hi, (char *)e->buf + lo * (int64_t)esz);
    for (int64_t b = b0; b < b1 && s == DY_OK; b++) {
        int64_t off = b * blk, len = off + blk < bytes ? blk : bytes - off;
        s = check_block(r->path, e->name, (char *)e->buf + off, len, crcs[b], off);
    }
    DY_TRY(ckpt_agree(r->comm, s));
    int *cnt = malloc(2 * (size_t)r->world * sizeof *cnt);
    if (!cnt) return DY_ERR(DY_ENOMEM, "gather counts");
    for (int k = 0; k < r->world; k++) {
        int64_t l = nb * k / r->world * blk, h = nb * (k + 1) / r->world * blk;
        if (h > bytes) h = bytes;
        if (l > bytes) l = bytes;
        cnt[k] = (int)(h - l);
        cnt[r->world + k] = (int)l;
        if (h - l > INT_MAX || l > INT_MAX) {
            free(cnt);
            return DY_ERR(DY_EUNSUPPORTED, "%s: dataset %s is too large (%lld bytes) for one MPI exchange; read it with more ranks",
                          r->path, e->name, (long long)bytes);
        }
    }
    int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, e->buf, cnt, cnt + r->world, MPI_BYTE, r->comm);
    free(cnt);
    if (rc != MPI_SUCCESS) return DY_ERR(DY_EMPI, "exchanging dataset %s", e->name);
    return DY_OK;
}

static dy_status load_small(ckpt_reader *r, hid_t dset, rentry *e, const uint32_t *crcs, hsize_t ncrc, int64_t blk,
                            hid_t mtype, int64_t bytes)
{
    DY_TRY(read_range(dset, mtype, e->name, -1, 0, e->buf));
    int64_t nb = e->pub.kind == CKPT_KIND_RANK ? e->pub.rows : 1;
    if ((hsize_t)nb != ncrc || (e->pub.kind == CKPT_KIND_RANK && blk * nb != bytes))
        return DY_ERR(DY_ECORRUPT, "%s: dataset %s has inconsistent checksum blocks", r->path, e->name);
    for (int64_t b = 0; b < nb; b++)
        DY_TRY(check_block(r->path, e->name, (char *)e->buf + b * blk, e->pub.kind == CKPT_KIND_RANK ? blk : bytes, crcs[b], b * blk));
    return DY_OK;
}

static dy_status dset_shape(hid_t dset, const char *what, int *nd, hsize_t dims[2])
{
    hid_t sp = H5Dget_space(dset);
    *nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    dims[0] = dims[1] = 0;
    if (*nd >= 0 && *nd <= 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    if (sp >= 0) H5Sclose(sp);
    if (*nd < 0 || *nd > 2) return DY_ERR(DY_EFORMAT, "dataset %s: unexpected shape", what);
    return DY_OK;
}

static dy_status read_dtype_attr(hid_t dset, const char *what, ckpt_dtype *t)
{
    char buf[16] = {0};
    hid_t at, ty;
    H5_CHECK_ID(at, H5Aopen(dset, "dtype", H5P_DEFAULT), "%s: missing dtype attribute", what);
    ty = H5Aget_type(at);
    herr_t rc = H5Tget_size(ty) < sizeof buf ? H5Aread(at, ty, buf) : -1;
    H5Tclose(ty);
    H5Aclose(at);
    H5_CHECK(rc, "%s: reading dtype", what);
    return ckpt_dtype_parse(buf, t);
}

static dy_status load_entry(ckpt_reader *r, hid_t file, ckpt_kind kind, const char *gname, const char *name)
{
    char what[CKPT_PATH_MAX];
    snprintf(what, sizeof what, "/%s/%s", gname, name);
    rentry *e = &r->e[r->ne];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->pub.name = e->name;
    e->pub.kind = kind;
    e->pub.rows = 1;
    hid_t dset = H5Dopen2(file, what, H5P_DEFAULT), mtype = -1;
    uint32_t *crcs = NULL;
    hsize_t ncrc = 0, dims[2];
    int64_t blk = 0, bytes = 0;
    int nd;
    dy_status s = dset < 0 ? DY_ERR(DY_ECORRUPT, "%s: cannot open dataset %s", r->path, what)
                           : read_checksums(dset, what, &crcs, &ncrc, &blk);
    if (s == DY_OK) s = dset_shape(dset, what, &nd, dims);
    if (s == DY_OK && (kind == CKPT_KIND_ARRAY || kind == CKPT_KIND_RANK)) {
        s = read_dtype_attr(dset, what, &e->pub.dtype);
        e->pub.n = (int64_t)(kind == CKPT_KIND_RANK ? dims[1] : dims[0]);
        e->pub.rows = kind == CKPT_KIND_RANK ? (int64_t)dims[0] : 1;
        bytes = e->pub.n * e->pub.rows * (int64_t)ckpt_dtype_size(e->pub.dtype);
        mtype = H5Tcopy(ckpt_h5_mem_type(e->pub.dtype));
    } else if (s == DY_OK && kind == CKPT_KIND_TEXT) {
        hid_t t = H5Dget_type(dset);
        e->pub.n = (int64_t)H5Tget_size(t);
        H5Tclose(t);
        mtype = ckpt_h5_str_type((size_t)e->pub.n);
        bytes = e->pub.n;
    } else if (s == DY_OK) {
        e->pub.n = (int64_t)dims[0];
        mtype = ckpt_h5_table_type();
        bytes = e->pub.n * (int64_t)sizeof(ckpt_table_row);
    }
    if (s == DY_OK && !(e->buf = calloc((size_t)bytes + 1, 1))) s = DY_ERR(DY_ENOMEM, "%s: %lld bytes", what, (long long)bytes);
    e->pub.data = e->buf;
    r->ne++;
    if (kind == CKPT_KIND_ARRAY) {
        s = ckpt_agree(r->comm, s);
        if (s == DY_OK) s = load_array(r, dset, e, crcs, ncrc, blk);
    } else if (s == DY_OK) {
        /* The text checksum covers the characters, not the padding NUL. */
        if (kind == CKPT_KIND_TEXT) {
            s = read_range(dset, mtype, what, -1, 0, e->buf);
            if (s == DY_OK) s = check_block(r->path, what, e->buf, (int64_t)strlen(e->buf), crcs[0], 0);
        } else {
            s = load_small(r, dset, e, crcs, ncrc, blk, mtype, bytes);
        }
    }
    free(crcs);
    if (mtype >= 0) H5Tclose(mtype);
    if (dset >= 0) H5Dclose(dset);
    return s;
}

static dy_status load_group(ckpt_reader *r, hid_t file, ckpt_kind kind, const char *gname)
{
    hid_t g = H5Gopen2(file, gname, H5P_DEFAULT);
    dy_status s = g < 0 ? DY_ERR(DY_EFORMAT, "%s: missing group /%s", r->path, gname) : DY_OK;
    H5G_info_t gi = {0};
    if (s == DY_OK && H5Gget_info(g, &gi) < 0) s = DY_ERR(DY_EHDF5, "%s: group /%s", r->path, gname);
    DY_TRY(ckpt_agree(r->comm, s));
    rentry *ne = realloc(r->e, (size_t)(r->ne + (int)gi.nlinks + 1) * sizeof *ne);
    if (!ne) s = DY_ERR(DY_ENOMEM, "entries");
    else r->e = ne;
    for (hsize_t i = 0; i < gi.nlinks && s == DY_OK; i++) {
        char name[CKPT_NAME_MAX];
        if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0) {
            s = DY_ERR(DY_EHDF5, "%s: listing /%s", r->path, gname);
            break;
        }
        s = ckpt_agree(r->comm, load_entry(r, file, kind, gname, name));
    }
    H5Gclose(g);
    return ckpt_agree(r->comm, s);
}

dy_status ckpt_reader_open(ckpt_reader **out, const char *path, MPI_Comm comm)
{
    *out = NULL;
    ckpt_reader *r = calloc(1, sizeof *r);
    if (!r) return DY_ERR(DY_ENOMEM, "checkpoint reader");
    MPI_Comm_dup(comm, &r->comm);
    MPI_Comm_set_errhandler(r->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(r->comm, &r->rank);
    MPI_Comm_size(r->comm, &r->world);
    snprintf(r->path, sizeof r->path, "%s", path);
    /* Checkpoints have always been written in the checksummed 1.8+ format
     * (ckpt_fapl); anything else is not dyolo's and never reaches HDF5's parser.
     * Every rank checks the same bytes; the agreement keeps the H5Fopen collective. */
    dy_status s = ckpt_agree(r->comm, fs_check_hdf5_checksummed(path, "checkpoint", "not a dyolo checkpoint"));
    if (s != DY_OK) {
        ckpt_reader_close(r);
        return s;
    }
    hid_t fapl = ckpt_fapl(r->comm), file = -1;
    if (fapl >= 0) file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (file < 0) {
        char m[1024];
        check_h5_message(m, sizeof m); /* before any other HDF5 call resets the stack */
        s = DY_ERR(access(path, F_OK) ? DY_ENOENT : DY_ECORRUPT, "opening %s: %s", path, m);
    }
    if (fapl >= 0) H5Pclose(fapl);
    if (s == DY_OK) s = read_root_attrs(r, file);
    s = ckpt_agree(r->comm, s);
    static const char *const groups[] = {"arrays", "rank", "text", "tables"};
    for (int k = 0; k < 4 && s == DY_OK; k++) s = load_group(r, file, (ckpt_kind)k, groups[k]);
    if (file >= 0) H5Fclose(file);
    /* r->e moved while growing: point the public names at their final place. */
    for (int i = 0; i < r->ne; i++) r->e[i].pub.name = r->e[i].name;
    s = ckpt_agree(r->comm, s);
    if (s != DY_OK) {
        ckpt_reader_close(r);
        return s;
    }
    *out = r;
    return DY_OK;
}

void ckpt_reader_close(ckpt_reader *r)
{
    if (!r) return;
    for (int i = 0; i < r->ne; i++) free(r->e[i].buf);
    for (int i = 0; i < r->na; i++) free(r->a[i].s);
    free(r->e);
    free(r->a);
    MPI_Comm_free(&r->comm);
    free(r);
}

const char *ckpt_reader_path(const ckpt_reader *r) { return r->path; }
int ckpt_reader_nentries(const ckpt_reader *r) { return r->ne; }
const ckpt_entry *ckpt_reader_entry(const ckpt_reader *r, int i) { return &r->e[i].pub; }
int ckpt_reader_nattrs(const ckpt_reader *r) { return r->na; }
const ckpt_attr *ckpt_reader_attr(const ckpt_reader *r, int i) { return &r->a[i].pub; }

const ckpt_entry *ckpt_find_kind(const ckpt_reader *r, const char *name, ckpt_kind kind)
{
    for (int i = 0; i < r->ne; i++)
        if (r->e[i].pub.kind == kind && !strcmp(r->e[i].name, name)) return &r->e[i].pub;
    return NULL;
}

const ckpt_entry *ckpt_find(const ckpt_reader *r, const char *name)
{
    for (int i = 0; i < r->ne; i++)
        if (!strcmp(r->e[i].name, name)) return &r->e[i].pub;
    return NULL;
}

static dy_status get_common(const ckpt_reader *r, const char *name, ckpt_kind kind, ckpt_dtype t, int64_t n,
                            const ckpt_entry **e)
{
    *e = ckpt_find_kind(r, name, kind);
    if (!*e) return DY_ERR(DY_ENOENT, "%s: no %s \"%s\"", r->path, kind == CKPT_KIND_RANK ? "rank array" : "array", name);
    if ((*e)->dtype != t || (*e)->n != n)
        return DY_ERR(DY_EINVAL, "%s: array %s is %s[%lld], asked for %s[%lld]", r->path, name,
                      ckpt_dtype_name((*e)->dtype), (long long)(*e)->n, ckpt_dtype_name(t), (long long)n);
    return DY_OK;
}

dy_status ckpt_get(const ckpt_reader *r, const char *name, ckpt_dtype t, void *dst, int64_t n)
{
    const ckpt_entry *e;
    DY_TRY(get_common(r, name, CKPT_KIND_ARRAY, t, n, &e));
    memcpy(dst, e->data, (size_t)n * ckpt_dtype_size(t));
    return DY_OK;
}

dy_status ckpt_get_f32_on(const ckpt_reader *r, const tn_backend *be, const char *name, float *dst, int64_t n)
{
    if (be->host_mem) return ckpt_get(r, name, CKPT_F32, dst, n);
    float *h = malloc(sizeof(float) * ((size_t)(n > 0 ? n : 0) + 1));
    if (!h) return DY_ERR(DY_ENOMEM, "checkpoint %s: out of memory for %s", ckpt_reader_path(r), name);
    dy_status s = ckpt_get(r, name, CKPT_F32, h, n);
    if (s == DY_OK) s = be->upload(dst, h, sizeof(float) * (size_t)n);
    free(h);
    return s;
}

dy_status ckpt_get_row(const ckpt_reader *r, const char *name, ckpt_dtype t, int row, void *dst, int64_t n)
{
    const ckpt_entry *e;
    DY_TRY(get_common(r, name, CKPT_KIND_RANK, t, n, &e));
    if (row < 0 || row >= e->rows)
        return DY_ERR(DY_ERANGE, "%s: rank array %s has %lld rows (saved by %lld ranks), asked for row %d", r->path,
                      name, (long long)e->rows, (long long)e->rows, row);
    size_t rb = (size_t)n * ckpt_dtype_size(t);
    memcpy(dst, (const char *)e->data + (size_t)row * rb, rb);
    return DY_OK;
}

const char *ckpt_text(const ckpt_reader *r, const char *name)
{
    const ckpt_entry *e = ckpt_find_kind(r, name, CKPT_KIND_TEXT);
    return e ? e->data : NULL;
}

static const rattr *find_attr(const ckpt_reader *r, const char *name, int type)
{
    for (int i = 0; i < r->na; i++)
        if (!strcmp(r->a[i].name, name) && r->a[i].pub.type == type) return &r->a[i];
    return NULL;
}

dy_status ckpt_attr_int(const ckpt_reader *r, const char *name, int64_t *out)
{
    const rattr *a = find_attr(r, name, 0);
    if (!a) return DY_ERR(DY_ENOENT, "%s: no integer attribute \"%s\"", r->path, name);
    *out = a->pub.i;
    return DY_OK;
}

dy_status ckpt_attr_float(const ckpt_reader *r, const char *name, double *out)
{
    const rattr *a = find_attr(r, name, 1);
    if (!a) return DY_ERR(DY_ENOENT, "%s: no float attribute \"%s\"", r->path, name);
    *out = a->pub.f;
    return DY_OK;
}

dy_status ckpt_attr_str(const ckpt_reader *r, const char *name, const char **out)
{
    const rattr *a = find_attr(r, name, 2);
    if (!a) return DY_ERR(DY_ENOENT, "%s: no string attribute \"%s\"", r->path, name);
    *out = a->s;
    return DY_OK;
}
