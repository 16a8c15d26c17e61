/* shard_read.c -- opening shard files with parallel HDF5 (MPI-IO driver) and reading
 * samples.  All metadata (offsets, sizes, labels, CRCs) is read into memory at open, so
 * that reading a sample is one hyperslab read of its payload bytes, done with
 * independent I/O because each rank reads different samples.  Called only from one
 * thread per rank (parallel HDF5 is not thread-safe); payload reads take the HDF5
 * lock (core/h5lock.h) because an asynchronous checkpoint may be written meanwhile.
 * Open and close are collective and must not overlap such a write.  The class table's
 * CRC and every sample's sizes, letterbox and boxes are checked at open; a sample's
 * CRC (all it stores) when its payload is read.  Before any of that, a manifest's
 * recorded size and whole-file CRC-32C of each shard are checked, so a corrupt
 * shard never reaches HDF5's own parser (which 1.10.8 does not harden). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/check.h"
#include "core/fsutil.h"
#include "core/h5lock.h"
#include "core/log.h"
#include "data/shard.h"

typedef struct {
    char path[512];
    hid_t file, data;   /* images/data kept open */
    int64_t first, n;
    uint64_t data_len;
} shard_file;

struct shard_set {
    shard_file *files;
    int nfiles;
    int64_t n;
    int32_t *file_of;    /* n */
    uint64_t *pay_off;   /* n+1 per file, stored per sample: start and end */
    uint64_t *pay_end;
    uint32_t *crc;
    int32_t *size;       /* 2n */
    float *lb;           /* 3n */
    int64_t *source_id;
    int64_t *box_off;    /* n+1, into the global box arrays */
    float *box;
    int32_t *cls;
    uint8_t *flags;
    char **names;
    int nclass;
    char *sname;         /* source file names, flat */
    uint64_t *sname_off; /* n+1 into sname */
    uint64_t nsname;
    int raw, imgsz;
};

/* 1 when dataset d's stored elements are esize bytes, as every shard writer stores
 * them: a corrupt element size made HDF5's H5Dread allocate a 4 GB conversion buffer
 * for a 12-byte dataset (fuzz_shard, regressions/fuzz_shard/classes-huge-shape.h5). */
static int type_size_is(hid_t d, size_t esize)
{
    hid_t t = H5Dget_type(d);
    size_t sz = t < 0 ? 0 : H5Tget_size(t);
    if (t >= 0) H5Tclose(t);
    return sz == esize;
}

/* Read a whole 1-D/2-D dataset; *rows gets its first dimension. */
static dy_status read_all(hid_t f, const char *path, const char *name, hid_t mtype, size_t esize, int cols,
                          void **out, hsize_t *rows)
{
    hid_t d, sp;
    hsize_t dims[2] = {0, 1}, fsz = 0;
    *out = NULL;
    H5_CHECK_ID(d, H5Dopen2(f, name, H5P_DEFAULT), "%.480s: opening dataset %s", path, name);
    /* Every failure below closes the dataset and frees the buffer: an open handle
     * keeps the whole file open (found by tests/fuzz/fuzz_shard). */
    dy_status s = DY_OK;
    sp = H5Dget_space(d);
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_dims(sp, dims, NULL);
    if (nd < 0) s = DY_ERR(DY_EHDF5, "%s: dataset %s: cannot read its shape", path, name);
    else if (nd != (cols > 1 ? 2 : 1) || (cols > 1 && dims[1] != (hsize_t)cols))
        s = DY_ERR(DY_EFORMAT, "%s: dataset %s has the wrong shape", path, name);
    else if (!type_size_is(d, esize))
        s = DY_ERR(DY_EFORMAT, "%s: dataset %s does not have %zu-byte elements", path, name, esize);
    /* Shards are stored uncompressed, so no dataset holds more bytes than the file: a
     * corrupt shape cannot make us allocate gigabytes (fuzz_shard: a 15 KB file
     * whose classes/name_data claimed 4 GB). */
    else if (H5Fget_filesize(f, &fsz) < 0 || dims[0] > fsz / ((hsize_t)cols * esize))
        s = DY_ERR(DY_ECORRUPT, "%s: dataset %s claims %llu rows, more than the %llu-byte file holds", path, name,
                   (unsigned long long)dims[0], (unsigned long long)fsz);
    else if (!(*out = malloc((size_t)(dims[0] ? dims[0] : 1) * (size_t)cols * esize)))
        s = DY_ERR(DY_ENOMEM, "%s: out of memory for %s", path, name);
    else if (dims[0] && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
        s = DY_ERR(DY_ECORRUPT, "%s: cannot read dataset %s", path, name);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    if (s != DY_OK) {
        free(*out);
        *out = NULL;
        return s;
    }
    *rows = dims[0];
    return DY_OK;
}

static dy_status read_attr_i64(hid_t f, const char *path, const char *name, int64_t *v)
{
    hid_t a;
    H5_CHECK_ID(a, H5Aopen(f, name, H5P_DEFAULT), "%.480s: attribute %s", path, name);
    herr_t rc = H5Aread(a, H5T_NATIVE_INT64, v);
    H5Aclose(a); /* also on failure: an open attribute keeps the file open */
    if (rc < 0) return DY_ERR(DY_EFORMAT, "%s: cannot read attribute %s as an integer", path, name);
    return DY_OK;
}

static dy_status read_attr_str(hid_t f, const char *path, const char *name, char *buf, size_t n)
{
    hid_t a, t, mt;
    H5_CHECK_ID(a, H5Aopen(f, name, H5P_DEFAULT), "%.480s: attribute %s", path, name);
    /* Handles are closed on every path: an open one keeps the file open. */
    t = H5Aget_type(a);
    size_t sz = t < 0 ? 0 : H5Tget_size(t);
    mt = sz > 0 && sz < n ? H5Tcopy(H5T_C_S1) : -1;
    memset(buf, 0, n);
    herr_t rc = mt >= 0 && H5Tset_size(mt, sz) >= 0 ? H5Aread(a, mt, buf) : -1;
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    if (sz == 0 || sz >= n) return DY_ERR(DY_EFORMAT, "%s: attribute %s too long", path, name);
    if (rc < 0) return DY_ERR(DY_EFORMAT, "%s: cannot read attribute %s as a string", path, name);
    buf[n - 1] = 0;
    return DY_OK;
}

static dy_status grow_arrays(shard_set *s, int64_t n, int64_t nbox)
{
#define RE(p, k) (((p) = realloc((p), (size_t)(k) * sizeof *(p))) != NULL)
    int ok = RE(s->file_of, n + 1) && RE(s->pay_off, n + 1) && RE(s->pay_end, n + 1) && RE(s->crc, n + 1) &&
             RE(s->size, 2 * n + 2) && RE(s->lb, 3 * n + 3) && RE(s->source_id, n + 1) && RE(s->box_off, n + 1) &&
             RE(s->box, 4 * nbox + 4) && RE(s->cls, nbox + 1) && RE(s->flags, nbox + 1);
#undef RE
    return ok ? DY_OK : DY_ERR(DY_ENOMEM, "out of memory for shard metadata");
}

static dy_status read_classes(shard_set *s, hid_t f, const char *path)
{
    uint8_t *data;
    uint64_t *off;
    hsize_t nd, no;
    DY_TRY(read_all(f, path, "classes/name_data", H5T_NATIVE_UINT8, 1, 1, (void **)&data, &nd));
    dy_status st = read_all(f, path, "classes/name_offset", H5T_NATIVE_UINT64, 8, 1, (void **)&off, &no);
    if (st != DY_OK) {
        free(data);
        return st;
    }
    s->nclass = no ? (int)no - 1 : 0;
    s->names = calloc((size_t)s->nclass + 1, sizeof(char *));
    if (!s->names) st = DY_ERR(DY_ENOMEM, "out of memory");
    for (int k = 0; st == DY_OK && k < s->nclass; k++) {
        if (off[k] > off[k + 1] || off[k + 1] > nd) st = DY_ERR(DY_ECORRUPT, "%s: bad class name offsets", path);
        else if (!(s->names[k] = malloc(off[k + 1] - off[k] + 1))) st = DY_ERR(DY_ENOMEM, "out of memory");
        else {
            memcpy(s->names[k], data + off[k], off[k + 1] - off[k]);
            s->names[k][off[k + 1] - off[k]] = 0;
        }
    }
    free(data);
    free(off);
    if (st != DY_OK) return st;
    int64_t *src = NULL, want = 0;
    hsize_t ns = 0;
    DY_TRY(read_all(f, path, "classes/source_id", H5T_NATIVE_INT64, 8, 1, (void **)&src, &ns));
    st = read_attr_i64(f, path, "classes_crc32c", &want);
    uint32_t got = ns == (hsize_t)s->nclass ? shard_class_crc(s->names, src, s->nclass) : ~(uint32_t)want;
    free(src);
    if (st == DY_OK && got != (uint32_t)want)
        st = DY_ERR(DY_ECORRUPT, "%s: the class table (names, source ids) fails its CRC-32C check", path);
    return st;
}

/* Values no packer writes (a CRC can match a hand-made file): refused at open, naming
 * the file and the sample, so that they never reach the loader or the evaluator. */
static dy_status check_meta(const char *p, int64_t i, const int32_t sz[2], const float lb[3], const float *box,
                            const int32_t *cls, int nbox, int nclass)
{
    if (sz[0] < 1 || sz[1] < 1)
        return DY_ERR(DY_ECORRUPT, "%s: sample %lld: original size %dx%d is not positive", p, (long long)i, sz[0], sz[1]);
    if (!(lb[0] > 0 && lb[0] < 1e6f) || !(fabsf(lb[1]) < 1e6f) || !(fabsf(lb[2]) < 1e6f))
        return DY_ERR(DY_ECORRUPT, "%s: sample %lld: bad letterbox (scale %g, pad %g, %g)", p, (long long)i, lb[0], lb[1],
                      lb[2]);
    for (int k = 0; k < nbox; k++) {
        const float *b = box + 4 * k;
        if (!(b[0] >= 0 && b[0] <= 1 && b[1] >= 0 && b[1] <= 1 && b[2] > 0 && b[2] <= 1 && b[3] > 0 && b[3] <= 1))
            return DY_ERR(DY_ECORRUPT, "%s: sample %lld: box %d [%g %g %g %g] is not normalized", p, (long long)i, k, b[0],
                          b[1], b[2], b[3]);
        if (cls[k] < 0 || cls[k] >= nclass)
            return DY_ERR(DY_ECORRUPT, "%s: sample %lld: box %d has class %d of %d", p, (long long)i, k, cls[k], nclass);
    }
    return DY_OK;
}

/* Per-sample and label arrays of one file, appended to the global arrays.  Every
 * array's length is checked against the sample (n) or box (m) count before it is
 * indexed, and all buffers are freed on every path (a corrupt shard must be an
 * error, not an overread or a leak: found by tests/fuzz/fuzz_shard). */
static dy_status load_meta(shard_set *s, shard_file *sf)
{
    hid_t f = sf->file;
    const char *p = sf->path;
    uint64_t *po = NULL, *bo = NULL, *no = NULL;
    uint32_t *crc = NULL;
    int32_t *sz = NULL, *cls = NULL;
    float *lb = NULL, *box = NULL;
    int64_t *id = NULL;
    uint8_t *fl = NULL, *nd = NULL;
    hsize_t n1 = 0, n = 0, m = 0, nnd = 0, xs = 0, xl = 0, xi = 0, xb = 0, xc = 0, xf = 0, xn = 0;
    dy_status st = read_all(f, p, "images/offset", H5T_NATIVE_UINT64, 8, 1, (void **)&po, &n1);
    if (st == DY_OK) st = read_all(f, p, "images/crc32c", H5T_NATIVE_UINT32, 4, 1, (void **)&crc, &n);
    if (st == DY_OK && n1 != n + 1)
        st = DY_ERR(DY_ECORRUPT, "%s: images/offset has %llu entries for %llu samples", p, (unsigned long long)n1,
                    (unsigned long long)n);
    if (st == DY_OK) st = read_all(f, p, "images/orig_size", H5T_NATIVE_INT32, 4, 2, (void **)&sz, &xs);
    if (st == DY_OK) st = read_all(f, p, "images/letterbox", H5T_NATIVE_FLOAT, 4, 3, (void **)&lb, &xl);
    if (st == DY_OK) st = read_all(f, p, "images/source_id", H5T_NATIVE_INT64, 8, 1, (void **)&id, &xi);
    if (st == DY_OK) st = read_all(f, p, "labels/offset", H5T_NATIVE_UINT64, 8, 1, (void **)&bo, &xb);
    if (st == DY_OK) st = read_all(f, p, "labels/box", H5T_NATIVE_FLOAT, 4, 4, (void **)&box, &m);
    if (st == DY_OK) st = read_all(f, p, "labels/class", H5T_NATIVE_INT32, 4, 1, (void **)&cls, &xc);
    if (st == DY_OK) st = read_all(f, p, "labels/flags", H5T_NATIVE_UINT8, 1, 1, (void **)&fl, &xf);
    if (st == DY_OK) st = read_all(f, p, "images/name_data", H5T_NATIVE_UINT8, 1, 1, (void **)&nd, &nnd);
    if (st == DY_OK) st = read_all(f, p, "images/name_offset", H5T_NATIVE_UINT64, 8, 1, (void **)&no, &xn);
    if (st == DY_OK && (xs != n || xl != n || xi != n || xb != n + 1 || xc != m || xf != m))
        st = DY_ERR(DY_ECORRUPT, "%s: per-sample or per-box arrays disagree in length", p);
    if (st == DY_OK && (xn != n + 1 || no[n] != nnd))
        st = DY_ERR(DY_ECORRUPT, "%s: images/name_offset does not match", p);
    if (st == DY_OK && (bo[n] != m || po[n] != sf->data_len))
        st = DY_ERR(DY_ECORRUPT, "%s: offsets do not match the data sizes", p);
    for (hsize_t i = 0; st == DY_OK && i < n; i++)
        if (po[i] > po[i + 1] || bo[i] > bo[i + 1] || no[i] > no[i + 1])
            st = DY_ERR(DY_ECORRUPT, "%s: offsets of sample %llu are not increasing", p, (unsigned long long)i);
        else
            st = check_meta(p, (int64_t)i, &sz[2 * i], &lb[3 * i], box + 4 * bo[i], cls + bo[i], (int)(bo[i + 1] - bo[i]),
                            s->nclass);
    if (st == DY_OK) {
        char *ns = realloc(s->sname, s->nsname + nnd + 1);
        if (ns) s->sname = ns;
        uint64_t *nso = realloc(s->sname_off, sizeof(uint64_t) * (size_t)(s->n + (int64_t)n + 1));
        if (nso) s->sname_off = nso;
        if (!ns || !nso) st = DY_ERR(DY_ENOMEM, "out of memory for sample names");
    }
    int64_t g = s->n, gb = g ? s->box_off[g] : 0;
    if (st == DY_OK) st = grow_arrays(s, g + (int64_t)n, gb + (int64_t)m);
    if (st == DY_OK) {
        memcpy(s->sname + s->nsname, nd, nnd);
        for (hsize_t i = 0; i <= n; i++) s->sname_off[s->n + (int64_t)i] = s->nsname + no[i];
        s->nsname += nnd;
        for (hsize_t i = 0; i < n; i++) {
            s->file_of[g + i] = (int32_t)(sf - s->files);
            s->pay_off[g + i] = po[i], s->pay_end[g + i] = po[i + 1], s->crc[g + i] = crc[i];
            memcpy(&s->size[2 * (g + i)], &sz[2 * i], 8);
            memcpy(&s->lb[3 * (g + i)], &lb[3 * i], 12);
            s->source_id[g + i] = id[i];
            s->box_off[g + i] = gb + (int64_t)bo[i];
        }
        s->box_off[g + n] = gb + (int64_t)m;
        memcpy(s->box + 4 * gb, box, m * 16);
        memcpy(s->cls + gb, cls, m * 4);
        memcpy(s->flags + gb, fl, m);
        sf->first = g, sf->n = (int64_t)n;
        s->n += (int64_t)n;
    }
    free(po), free(bo), free(crc), free(sz), free(cls), free(lb), free(box), free(id), free(fl), free(nd), free(no);
    return st;
}

static dy_status open_file(shard_set *s, shard_file *sf, MPI_Comm comm, int first)
{
    /* Only checksummed HDF5 metadata reaches HDF5's parser (fs_check_hdf5_checksummed).
     * Every rank reads the same bytes, but one MPI_MIN keeps a rank whose read failed
     * from leaving the others in the collective H5Fopen. */
    dy_status pre = fs_check_hdf5_checksummed(sf->path, "shard",
                                              "it was packed by a dyolo older than shard schema 3; pack the dataset again");
    int ok = pre == DY_OK, all_ok;
    MPI_CHECK(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm));
    if (!ok) return pre;
    if (!all_ok) return DY_ERR(DY_EIO, "shard %.480s: another rank could not read its header", sf->path);
    hid_t fapl;
    H5_CHECK_ID(fapl, H5Pcreate(H5P_FILE_ACCESS), "file access list");
    H5_CHECK(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL), "MPI-IO driver");
    sf->file = H5Fopen(sf->path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    H5_CHECK_ID(sf->file, sf->file, "cannot open shard %.480s (missing, truncated or not HDF5)", sf->path);
    int64_t ver, imgsz;
    char enc[16];
    DY_TRY(read_attr_i64(sf->file, sf->path, "schema_version", &ver));
    if (ver == 1) /* its CRCs did not cover sizes, letterbox, ids or class names */
        return DY_ERR(DY_EFORMAT, "%s: shard schema version 1 is no longer read (its checksums do not cover all "
                      "metadata): pack the dataset again with this dyolo", sf->path);
    if (ver == 2) /* only an edited file: schema 2 was never written in the checksummed format */
        return DY_ERR(DY_EFORMAT, "%s: shard schema version 2 is no longer read: pack the dataset again", sf->path);
    if (ver != SHARD_SCHEMA_VERSION)
        return DY_ERR(DY_EFORMAT, "%s: shard schema version %lld, this dyolo reads %d", sf->path, (long long)ver,
                      SHARD_SCHEMA_VERSION);
    DY_TRY(read_attr_str(sf->file, sf->path, "encoding", enc, sizeof enc));
    DY_TRY(read_attr_i64(sf->file, sf->path, "imgsz", &imgsz));
    int raw = !strcmp(enc, "raw");
    if (!first && (raw != s->raw || imgsz != s->imgsz))
        return DY_ERR(DY_EFORMAT, "%s: encoding %s/%lld differs from the first shard's", sf->path, enc, (long long)imgsz);
    s->raw = raw, s->imgsz = (int)imgsz;
    hid_t sp;
    H5_CHECK_ID(sf->data, H5Dopen2(sf->file, "images/data", H5P_DEFAULT), "%.480s: images/data", sf->path);
    H5_CHECK_ID(sp, H5Dget_space(sf->data), "%.480s: images/data", sf->path);
    hsize_t dims[1];
    int nd = H5Sget_simple_extent_ndims(sp);
    if (nd == 1) nd = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if (nd != 1) return DY_ERR(DY_EFORMAT, "%s: images/data is not a 1-D array", sf->path);
    if (!type_size_is(sf->data, 1)) return DY_ERR(DY_EFORMAT, "%s: images/data is not an array of bytes", sf->path);
    sf->data_len = dims[0];
    if (first) DY_TRY(read_classes(s, sf->file, sf->path));
    return load_meta(s, sf);
}

/* One manifest's shard list: paths relative to the manifest's folder, and (packs
 * since the whole-file check) each file's byte size and CRC-32C. */
typedef struct {
    char **path;
    uint64_t *size;
    uint32_t *crc;
    int n;
    int checked; /* every entry has size_bytes and crc32c */
} manifest;

static void manifest_free(manifest *m)
{
    ds_free_strings(m->path, m->path ? m->n : 0);
    free(m->size), free(m->crc);
    memset(m, 0, sizeof *m);
}

/* "size_bytes" (an integer) and "crc32c" (8 hex digits) of entry e: 1 when both are
 * there and well-formed, 0 when both are absent, -1 otherwise. */
static int manifest_check_fields(const cJSON *e, uint64_t *size, uint32_t *crc)
{
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(e, "size_bytes");
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(e, "crc32c");
    if (!sz && !cr) return 0;
    if (!cJSON_IsNumber(sz) || !cJSON_IsString(cr)) return -1;
    double v = sz->valuedouble;
    /* 2^53: the largest size a JSON number (a double) holds exactly. */
    if (!(v >= 0 && v <= 9007199254740992.0) || v != floor(v)) return -1;
    const char *h = cr->valuestring;
    if (strlen(h) != 8 || strspn(h, "0123456789abcdefABCDEF") != 8) return -1;
    *size = (uint64_t)v;
    *crc = (uint32_t)strtoul(h, NULL, 16);
    return 1;
}

/* Read a manifest.  Every failure names the manifest and frees what it made. */
static dy_status manifest_read(const char *man, manifest *m)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(man, "rb");
    SYS_CHECK(f, DY_ENOENT, "cannot open manifest %.480s", man);
    char *text = malloc(1 << 22);
    size_t len = text ? fread(text, 1, (1 << 22) - 1, f) : 0;
    fclose(f);
    if (!text) return DY_ERR(DY_ENOMEM, "out of memory");
    text[len] = 0;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shards");
    if (!cJSON_IsArray(sh)) {
        cJSON_Delete(j);
        return DY_ERR(DY_EFORMAT, "%s: not a dyolo manifest (no \"shards\" array)", man);
    }
    char dir[4096], tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", man);
    snprintf(dir, sizeof dir, "%s", dirname(tmp));
    int n = cJSON_GetArraySize(sh);
    m->path = calloc((size_t)n + 1, sizeof(char *));
    m->size = calloc((size_t)n + 1, sizeof(uint64_t));
    m->crc = calloc((size_t)n + 1, sizeof(uint32_t));
    m->n = n;
    dy_status st = m->path && m->size && m->crc ? DY_OK : DY_ERR(DY_ENOMEM, "out of memory");
    int with = 0;
    for (int i = 0; st == DY_OK && i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(sh, i);
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(e, "file");
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, cJSON_IsString(fn) ? fn->valuestring : "?");
        if (!(m->path[i] = ds_strdup(p))) st = DY_ERR(DY_ENOMEM, "out of memory");
        int k = manifest_check_fields(e, &m->size[i], &m->crc[i]);
        if (k < 0)
            st = DY_ERR(DY_EFORMAT, "%s: shard %d: \"size_bytes\" must be an integer and \"crc32c\" 8 hex digits",
                        man, i);
        with += k > 0;
    }
    /* All or none: a manifest where some shards lost their CRCs was edited by hand. */
    if (st == DY_OK && with != 0 && with != n)
        st = DY_ERR(DY_EFORMAT, "%s: %d of %d shards have \"size_bytes\"/\"crc32c\" (all or none must)", man, with, n);
    cJSON_Delete(j);
    if (st != DY_OK) {
        manifest_free(m);
        return st;
    }
    m->checked = n > 0 && with == n;
    if (!m->checked && n > 0)
        log_warn("%s has no shard sizes or CRCs (packed by an older dyolo): the shards are not verified "
                 "before HDF5 reads them; pack the dataset again to add them",
                 man);
    return DY_OK;
}

/* Check every shard of m before HDF5 parses it.  Sizes on every rank (one stat each);
 * whole-file CRCs split over the ranks, so each byte is read once per job.  One
 * MPI_Allreduce (MINLOC over the first failing shard) makes every rank fail
 * together: none may go on to the collective H5Fopen while another returns.  On
 * failure every rank returns the finding rank's message. */
static dy_status manifest_verify(const char *man, const manifest *m, MPI_Comm comm)
{
    int rank, size;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    MPI_CHECK(MPI_Comm_size(comm, &size));
    int bad = INT_MAX;
    dy_status st = DY_OK;
    for (int i = 0; i < m->n && st == DY_OK; i++) {
        struct stat sb;
        if (stat(m->path[i], &sb) != 0)
            st = DY_ERR(DY_ENOENT, "cannot open shard %.480s: %s (listed in %.480s)", m->path[i], strerror(errno), man);
        else if ((uint64_t)sb.st_size != m->size[i])
            st = DY_ERR(DY_ECORRUPT, "%.480s: %lld bytes, but %.480s says %llu: the shard was truncated or changed "
                        "after packing; not opened", m->path[i], (long long)sb.st_size, man,
                        (unsigned long long)m->size[i]);
        if (st != DY_OK) bad = i;
    }
    for (int i = rank; i < m->n && st == DY_OK; i += size) {
        uint32_t crc;
        uint64_t len;
        st = shard_file_crc(m->path[i], &crc, &len);
        if (st == DY_OK && (crc != m->crc[i] || len != m->size[i]))
            st = DY_ERR(DY_ECORRUPT, "%.480s: whole-file CRC-32C is %08x, but %.480s says %08x: the shard is "
                        "corrupt or was changed after packing; not opened", m->path[i], crc, man, m->crc[i]);
        if (st != DY_OK) bad = i;
    }
    struct {
        int v, r;
    } mine = {bad, rank}, first;
    MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_2INT, MPI_MINLOC, comm));
    if (first.v == INT_MAX) return DY_OK;
    /* Failure path only: every rank gets the finder's message (file, both CRCs), as
     * mpirun may kill the finder before it prints once another rank has exited. */
    char why[1536] = "";
    if (rank == first.r) snprintf(why, sizeof why, "%s", err_msg());
    MPI_CHECK(MPI_Bcast(why, (int)sizeof why, MPI_CHAR, first.r, comm));
    if (rank == first.r) return st;
    return err_set(bad == first.v ? st : DY_ECORRUPT, "%s (found by rank %d)", why, first.r);
}

static int is_manifest(const char *p)
{
    size_t n = strlen(p);
    return n > 5 && !strcmp(p + n - 5, ".json");
}

dy_status shard_open(shard_set **out, const char *const *paths, int npaths, MPI_Comm comm)
{
    manifest m = {0};
    int n = npaths;
    if (npaths == 1 && is_manifest(paths[0])) {
        DY_TRY(manifest_read(paths[0], &m));
        n = m.n;
        dy_status v = m.checked ? manifest_verify(paths[0], &m, comm) : DY_OK;
        if (v != DY_OK) {
            manifest_free(&m);
            return v;
        }
    }
    if (n < 1) {
        manifest_free(&m);
        return DY_ERR(DY_EINVAL, "no shard files given");
    }
    shard_set *s = calloc(1, sizeof *s);
    if (s) s->files = calloc((size_t)n, sizeof(shard_file));
    if (!s || !s->files) {
        free(s);
        manifest_free(&m);
        return DY_ERR(DY_ENOMEM, "out of memory");
    }
    dy_status st = DY_OK;
    for (int i = 0; i < n && st == DY_OK; i++) {
        snprintf(s->files[i].path, sizeof s->files[i].path, "%s", m.path ? m.path[i] : paths[i]);
        s->files[i].file = s->files[i].data = -1;
        s->nfiles = i + 1;
        st = open_file(s, &s->files[i], comm, i == 0);
    }
    manifest_free(&m);
    if (st != DY_OK) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", err_msg());
        shard_close(s);
        return err_set(st, "%s", msg);
    }
    *out = s;
    return DY_OK;
}

dy_status shard_close(shard_set *s)
{
    if (!s) return DY_OK;
    for (int i = 0; i < s->nfiles; i++) {
        if (s->files[i].data >= 0) H5Dclose(s->files[i].data);
        if (s->files[i].file >= 0) H5Fclose(s->files[i].file);
    }
    free(s->files), free(s->file_of), free(s->pay_off), free(s->pay_end), free(s->crc), free(s->size);
    free(s->lb), free(s->source_id), free(s->box_off), free(s->box), free(s->cls), free(s->flags);
    if (s->names) ds_free_strings(s->names, s->nclass);
    free(s->sname), free(s->sname_off);
    free(s);
    return DY_OK;
}

int64_t shard_count(const shard_set *s) { return s->n; }
int shard_encoding_raw(const shard_set *s) { return s->raw; }
int shard_imgsz(const shard_set *s) { return s->imgsz; }
int shard_nclass(const shard_set *s) { return s->nclass; }
const char *shard_class_name(const shard_set *s, int c) { return c >= 0 && c < s->nclass ? s->names[c] : "?"; }

void shard_sample_get(const shard_set *s, int64_t i, shard_sample *o)
{
    int64_t b = s->box_off[i];
    o->index = i;
    o->orig_w = s->size[2 * i], o->orig_h = s->size[2 * i + 1];
    memcpy(o->lb, &s->lb[3 * i], sizeof o->lb);
    o->source_id = s->source_id[i];
    o->nbox = (int)(s->box_off[i + 1] - b);
    o->box = s->box + 4 * b, o->cls = s->cls + b, o->flags = s->flags + b;
    o->payload_len = (size_t)(s->pay_end[i] - s->pay_off[i]);
}

size_t shard_sample_name(const shard_set *s, int64_t i, char *buf, size_t n)
{
    size_t len = (size_t)(s->sname_off[i + 1] - s->sname_off[i]);
    if (n) {
        size_t c = len < n - 1 ? len : n - 1;
        memcpy(buf, s->sname + s->sname_off[i], c);
        buf[c] = 0;
    }
    return len;
}

const char *shard_file_path(const shard_set *s, int k, int64_t *first, int64_t *n)
{
    if (k < 0 || k >= s->nfiles) return NULL;
    if (first) *first = s->files[k].first;
    if (n) *n = s->files[k].n;
    return s->files[k].path;
}

/* The HDF5 part of a payload read; the caller holds the HDF5 lock (core/h5lock.h),
 * as an asynchronous checkpoint writer may be in HDF5 at the same time. */
static dy_status read_payload_h5(shard_file *sf, hsize_t off, hsize_t cnt, uint8_t *buf, int64_t i)
{
    hid_t fs, ms;
    H5_CHECK_ID(fs, H5Dget_space(sf->data), "%.480s: images/data", sf->path);
    H5_CHECK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL), "%.480s: selecting sample", sf->path);
    H5_CHECK_ID(ms, H5Screate_simple(1, &cnt, NULL), "memory space");
    H5_CHECK(H5Dread(sf->data, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, buf), "%.480s: reading sample %lld", sf->path,
             (long long)i);
    H5_CHECK(H5Sclose(ms), "closing space");
    H5_CHECK(H5Sclose(fs), "closing space");
    return DY_OK;
}

dy_status shard_read_payload(shard_set *s, int64_t i, uint8_t **buf, size_t *cap, size_t *len)
{
    if (i < 0 || i >= s->n) return DY_ERR(DY_ERANGE, "sample %lld out of range (0..%lld)", (long long)i, (long long)s->n - 1);
    shard_file *sf = &s->files[s->file_of[i]];
    hsize_t off = s->pay_off[i], cnt = s->pay_end[i] - s->pay_off[i];
    if (cnt > *cap) {
        uint8_t *nb = realloc(*buf, cnt);
        if (!nb) return DY_ERR(DY_ENOMEM, "out of memory reading sample %lld", (long long)i);
        *buf = nb, *cap = cnt;
    }
    h5lock_acquire();
    dy_status st = read_payload_h5(sf, off, cnt, *buf, i);
    h5lock_release();
    DY_TRY(st);
    shard_sample m;
    shard_sample_get(s, i, &m);
    int32_t sz[2] = {m.orig_w, m.orig_h};
    uint32_t c = shard_sample_crc(*buf, cnt, m.box, m.cls, m.flags, m.nbox, sz, m.lb, m.source_id,
                                  s->sname + s->sname_off[i], (size_t)(s->sname_off[i + 1] - s->sname_off[i]));
    if (c != s->crc[i])
        return DY_ERR(DY_ECORRUPT, "%s: sample %lld (local %lld) fails its CRC-32C check (stored %08x, computed %08x)",
                      sf->path, (long long)i, (long long)(i - sf->first), s->crc[i], c);
    *len = cnt;
    return DY_OK;
}
