/* shard_write.c -- collective writing of shard files and the manifest.  Shard k holds
 * the global samples [N*k/S, N*(k+1)/S); every rank takes part in every shard,
 * writing the rows it owns (possibly none) with H5FD_MPIO_COLLECTIVE transfers.
 * Files are written under a temporary name and renamed by rank 0 once complete, so
 * a reader never sees a half-written shard.  The manifest, written last by rank 0,
 * records each shard's byte size and whole-file CRC-32C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/check.h"
#include "data/pack_internal.h"
#include "dyolo_config.h"

static const char *const format_names[] = {"yolo", "coco", "voc"};

typedef struct {
    hsize_t n, pay, box, name; /* this rank's rows in the current shard */
} counts4;

static dy_status write_rows(hid_t f, const char *name, hid_t ftype, hid_t mtype, int cols, hsize_t total,
                            hsize_t off, hsize_t cnt, const void *buf)
{
    int nd = cols > 1 ? 2 : 1;
    hsize_t dims[2] = {total, (hsize_t)cols}, start[2] = {off, 0}, count[2] = {cnt, (hsize_t)cols};
    hsize_t mdims[2] = {cnt ? cnt : 1, (hsize_t)cols};
    hid_t space, ms, d, x;
    H5_CHECK_ID(space, H5Screate_simple(nd, dims, NULL), "dataspace for %s", name);
    H5_CHECK_ID(d, H5Dcreate2(f, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "creating %s", name);
    if (total == 0) { /* no boxes or no classes: an empty dataset has no storage to write to */
        H5_CHECK(H5Sclose(space), "closing space");
        H5_CHECK(H5Dclose(d), "closing %s", name);
        return DY_OK;
    }
    H5_CHECK_ID(ms, H5Screate_simple(nd, mdims, NULL), "memory space for %s", name);
    if (cnt) H5_CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL), "selecting %s", name);
    else {
        H5_CHECK(H5Sselect_none(space), "selecting %s", name);
        H5_CHECK(H5Sselect_none(ms), "selecting %s", name);
    }
    H5_CHECK_ID(x, H5Pcreate(H5P_DATASET_XFER), "transfer list");
    H5_CHECK(H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE), "collective transfer");
    H5_CHECK(H5Dwrite(d, mtype, ms, space, x, buf), "writing %s", name);
    H5_CHECK(H5Pclose(x), "closing transfer list");
    H5_CHECK(H5Sclose(ms), "closing space");
    H5_CHECK(H5Sclose(space), "closing space");
    H5_CHECK(H5Dclose(d), "closing %s", name);
    return DY_OK;
}

static dy_status attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t, sp, a;
    H5_CHECK_ID(t, H5Tcopy(H5T_C_S1), "string type");
    H5_CHECK(H5Tset_size(t, strlen(value) + 1), "string size");
    H5_CHECK_ID(sp, H5Screate(H5S_SCALAR), "scalar space");
    H5_CHECK_ID(a, H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT), "attribute %s", name);
    H5_CHECK(H5Awrite(a, t, value), "writing attribute %s", name);
    H5_CHECK(H5Aclose(a), "closing attribute");
    H5_CHECK(H5Sclose(sp), "closing space");
    H5_CHECK(H5Tclose(t), "closing type");
    return DY_OK;
}

static dy_status attr_i64(hid_t obj, const char *name, int64_t v)
{
    hid_t sp, a;
    H5_CHECK_ID(sp, H5Screate(H5S_SCALAR), "scalar space");
    H5_CHECK_ID(a, H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT), "attribute %s", name);
    H5_CHECK(H5Awrite(a, H5T_NATIVE_INT64, &v), "writing attribute %s", name);
    H5_CHECK(H5Aclose(a), "closing attribute");
    H5_CHECK(H5Sclose(sp), "closing space");
    return DY_OK;
}

/* Prefix sums over this rank's samples: payload bytes, boxes, name bytes. */
typedef struct {
    uint64_t *pay, *box, *name; /* n+1 each */
} prefix;

static dy_status make_prefix(const pack_part *p, prefix *x)
{
    x->pay = calloc(p->n + 1, 8), x->box = calloc(p->n + 1, 8), x->name = calloc(p->n + 1, 8);
    if (!x->pay || !x->box || !x->name) return DY_ERR(DY_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        x->pay[i + 1] = x->pay[i] + (uint64_t)p->meta[i].pay_len;
        x->box[i + 1] = x->box[i] + (uint64_t)p->meta[i].nbox;
        x->name[i + 1] = x->name[i] + (uint64_t)p->meta[i].name_len;
    }
    return DY_OK;
}

typedef struct {
    const pack_opts *o;
    const ds_list *l;
    const pack_part *p;
    const prefix *x;
    const pack_summary *sum;
    MPI_Comm comm;
    int rank, size;
    int64_t my0;        /* global index of this rank's first sample */
    char created[40];
} wctx;

/* Per-sample arrays for local rows [a, b): offsets rebased to the shard. */
static dy_status write_samples(wctx *c, hid_t f, size_t a, size_t b, const counts4 *tot, const counts4 *off,
                               int last)
{
    size_t n = b - a, n1 = n + (size_t)last;
    uint64_t *po = malloc(8 * (n1 + 1)), *bo = malloc(8 * (n1 + 1)), *no = malloc(8 * (n1 + 1));
    uint32_t *crc = malloc(4 * (n + 1));
    int32_t *sz = malloc(8 * (n + 1));
    float *lb = malloc(12 * (n + 1));
    int64_t *id = malloc(8 * (n + 1));
    if (!po || !bo || !no || !crc || !sz || !lb || !id) return DY_ERR(DY_ENOMEM, "out of memory");
    for (size_t j = 0; j < n1; j++) {
        po[j] = off->pay + c->x->pay[a + j] - c->x->pay[a];
        bo[j] = off->box + c->x->box[a + j] - c->x->box[a];
        no[j] = off->name + c->x->name[a + j] - c->x->name[a];
    }
    for (size_t j = 0; j < n; j++) {
        const pack_meta *m = &c->p->meta[a + j];
        crc[j] = m->crc, sz[2 * j] = m->size[0], sz[2 * j + 1] = m->size[1], id[j] = m->source_id;
        memcpy(&lb[3 * j], m->lb, 12);
    }
    const pack_part *p = c->p;
    const uint64_t *x = c->x->pay;
    DY_TRY(write_rows(f, "images/data", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, tot->pay, off->pay, x[b] - x[a],
                      p->payload + x[a]));
    DY_TRY(write_rows(f, "images/offset", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, tot->n + 1, off->n, n1, po));
    DY_TRY(write_rows(f, "images/crc32c", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1, tot->n, off->n, n, crc));
    DY_TRY(write_rows(f, "images/orig_size", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, tot->n, off->n, n, sz));
    DY_TRY(write_rows(f, "images/letterbox", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, tot->n, off->n, n, lb));
    DY_TRY(write_rows(f, "images/source_id", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, tot->n, off->n, n, id));
    const uint64_t *nx = c->x->name;
    DY_TRY(write_rows(f, "images/name_data", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, tot->name, off->name,
                      nx[b] - nx[a], p->names + nx[a]));
    DY_TRY(write_rows(f, "images/name_offset", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, tot->n + 1, off->n, n1, no));
    const uint64_t *bx = c->x->box;
    hsize_t nb = bx[b] - bx[a];
    DY_TRY(write_rows(f, "labels/box", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, tot->box, off->box, nb,
                      p->box + 4 * bx[a]));
    DY_TRY(write_rows(f, "labels/class", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, tot->box, off->box, nb, p->cls + bx[a]));
    DY_TRY(write_rows(f, "labels/flags", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, tot->box, off->box, nb,
                      p->flags + bx[a]));
    DY_TRY(write_rows(f, "labels/offset", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, tot->n + 1, off->n, n1, bo));
    free(po), free(bo), free(no), free(crc), free(sz), free(lb), free(id);
    return DY_OK;
}

/* Class table: identical on every rank, written by rank 0. */
static dy_status write_classes(wctx *c, hid_t f)
{
    const ds_list *l = c->l;
    uint64_t *off = calloc((size_t)l->nclass + 1, 8);
    size_t tot = 0;
    if (!off) return DY_ERR(DY_ENOMEM, "out of memory");
    for (int k = 0; k < l->nclass; k++) off[k + 1] = tot += strlen(l->names[k]);
    char *buf = malloc(tot + 1);
    if (!buf) return DY_ERR(DY_ENOMEM, "out of memory");
    for (int k = 0; k < l->nclass; k++) memcpy(buf + off[k], l->names[k], off[k + 1] - off[k]);
    int me = c->rank == 0;
    hsize_t K = (hsize_t)l->nclass;
    DY_TRY(write_rows(f, "classes/name_data", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, tot, 0, me ? tot : 0, buf));
    DY_TRY(write_rows(f, "classes/name_offset", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, K + 1, 0, me ? K + 1 : 0, off));
    DY_TRY(write_rows(f, "classes/source_id", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, K, 0, me ? K : 0, l->class_src));
    free(off);
    free(buf);
    return DY_OK;
}

static dy_status write_attrs(wctx *c, hid_t f, int k, int64_t first, int64_t n)
{
    const pack_opts *o = c->o;
    DY_TRY(attr_i64(f, "schema_version", SHARD_SCHEMA_VERSION));
    DY_TRY(attr_str(f, "format", "dyolo-shard"));
    DY_TRY(attr_str(f, "source_format", format_names[o->format]));
    DY_TRY(attr_str(f, "source", o->input));
    DY_TRY(attr_str(f, "split", o->split ? o->split : ""));
    DY_TRY(attr_str(f, "encoding", o->raw ? "raw" : "jpeg"));
    DY_TRY(attr_i64(f, "imgsz", o->raw ? o->imgsz : 0));
    DY_TRY(attr_str(f, "tool", "dyolo pack " PACKAGE_VERSION));
    DY_TRY(attr_str(f, "created", c->created));
    DY_TRY(attr_i64(f, "pack_ranks", c->size));
    DY_TRY(attr_i64(f, "shard_index", k));
    DY_TRY(attr_i64(f, "num_shards", o->shards));
    DY_TRY(attr_i64(f, "first_sample", first));
    DY_TRY(attr_i64(f, "num_samples", n));
    DY_TRY(attr_i64(f, "total_samples", c->sum->samples));
    DY_TRY(attr_i64(f, "num_classes", c->l->nclass));
    DY_TRY(attr_i64(f, "classes_crc32c", shard_class_crc(c->l->names, c->l->class_src, c->l->nclass)));
    return DY_OK;
}

static dy_status create_groups(hid_t f)
{
    const char *g[] = {"images", "labels", "classes"};
    for (int i = 0; i < 3; i++) {
        hid_t id;
        H5_CHECK_ID(id, H5Gcreate2(f, g[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "creating group %s", g[i]);
        H5_CHECK(H5Gclose(id), "closing group");
    }
    return DY_OK;
}

void shard_file_name(const char *prefix, int k, char *out, size_t n)
{
    snprintf(out, n, "%s-%05d.h5", prefix, k);
}

static dy_status write_shard(wctx *c, int k)
{
    int64_t N = c->sum->samples, S = c->o->shards;
    int64_t g0 = N * k / S, g1 = N * (k + 1) / S;
    int64_t a = g0 > c->my0 ? g0 : c->my0, b = g1 < c->my0 + (int64_t)c->p->n ? g1 : c->my0 + (int64_t)c->p->n;
    if (b < a) b = a;
    size_t la = (size_t)(a - c->my0), lbx = (size_t)(b - c->my0);
    counts4 mine = {(hsize_t)(b - a), c->x->pay[lbx] - c->x->pay[la], c->x->box[lbx] - c->x->box[la],
                    c->x->name[lbx] - c->x->name[la]};
    counts4 *all = malloc(sizeof(counts4) * (size_t)c->size), tot = {0, 0, 0, 0}, off = {0, 0, 0, 0};
    if (!all) return DY_ERR(DY_ENOMEM, "out of memory");
    MPI_CHECK(MPI_Allgather(&mine, 4, MPI_UINT64_T, all, 4, MPI_UINT64_T, c->comm));
    for (int r = 0; r < c->size; r++) {
        if (r == c->rank) off = tot;
        tot.n += all[r].n, tot.pay += all[r].pay, tot.box += all[r].box, tot.name += all[r].name;
    }
    free(all);
    char final[4096], tmp[4200];
    shard_file_name(c->o->out, k, final, sizeof final);
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    hid_t fapl, f;
    H5_CHECK_ID(fapl, H5Pcreate(H5P_FILE_ACCESS), "file access list");
    H5_CHECK(H5Pset_fapl_mpio(fapl, c->comm, MPI_INFO_NULL), "MPI-IO driver");
    /* Schema 3: the 1.8+ file format, whose superblock and object headers carry
     * HDF5's checksums (readers refuse the older one: fs_check_hdf5_checksummed). */
    H5_CHECK(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST), "file format bounds");
    H5_CHECK_ID(f, H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "creating %.480s", tmp);
    H5_CHECK(H5Pclose(fapl), "closing file access list");
    int last = b == g1 && b > a;
    dy_status s = create_groups(f);
    if (s == DY_OK) s = write_attrs(c, f, k, g0, g1 - g0);
    if (s == DY_OK) s = write_samples(c, f, la, lbx, &tot, &off, last);
    if (s == DY_OK) s = write_classes(c, f);
    if (s != DY_OK) {
        /* Close the file now: left open, HDF5 closes it at exit, after MPI_Finalize.
         * HDF5 errors here are the same on every rank (same shapes), so the close
         * is called by all.  No half-written temp file is left behind. */
        char m[1024];
        snprintf(m, sizeof m, "%s", err_msg());
        H5Fclose(f);
        if (c->rank == 0) remove(tmp);
        return err_set(s, "writing %.480s: %s", tmp, m);
    }
    H5_CHECK(H5Fclose(f), "closing %.480s", tmp);
    MPI_CHECK(MPI_Barrier(c->comm));
    if (c->rank == 0) SYS_CHECK(rename(tmp, final) == 0, DY_EIO, "renaming %.480s to %.480s", tmp, final);
    return DY_OK;
}

static dy_status write_manifest(wctx *c)
{
    const pack_opts *o = c->o;
    cJSON *m = cJSON_CreateObject(), *names = cJSON_AddArrayToObject(m, "names");
    cJSON *ids = cJSON_AddArrayToObject(m, "class_source_ids"), *sh = cJSON_AddArrayToObject(m, "shards");
    cJSON_AddNumberToObject(m, "schema_version", SHARD_SCHEMA_VERSION);
    cJSON_AddStringToObject(m, "format", "dyolo-manifest");
    cJSON_AddStringToObject(m, "source_format", format_names[o->format]);
    cJSON_AddStringToObject(m, "source", o->input);
    cJSON_AddStringToObject(m, "encoding", o->raw ? "raw" : "jpeg");
    cJSON_AddNumberToObject(m, "imgsz", o->raw ? o->imgsz : 0);
    cJSON_AddNumberToObject(m, "num_samples", (double)c->sum->samples);
    cJSON_AddNumberToObject(m, "num_boxes", (double)c->sum->boxes);
    cJSON_AddNumberToObject(m, "num_classes", c->l->nclass);
    cJSON_AddStringToObject(m, "created", c->created);
    for (int k = 0; k < c->l->nclass; k++) {
        cJSON_AddItemToArray(names, cJSON_CreateString(c->l->names[k]));
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)c->l->class_src[k]));
    }
    for (int k = 0; k < o->shards; k++) {
        char fn[4096];
        shard_file_name(o->out, k, fn, sizeof fn);
        const char *base = strrchr(fn, '/');
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "file", base ? base + 1 : fn);
        cJSON_AddNumberToObject(e, "first_sample", (double)(c->sum->samples * k / o->shards));
        cJSON_AddNumberToObject(e, "num_samples", (double)(c->sum->samples * (k + 1) / o->shards -
                                                           c->sum->samples * k / o->shards));
        cJSON_AddItemToArray(sh, e);
        /* Size and whole-file CRC of the renamed shard: readers check both before
         * HDF5 parses the file, so any change after packing, data included, is
         * refused with both CRCs named.  The CRC is a hex string, as dyolo's
         * messages print it. */
        uint32_t crc;
        uint64_t size;
        dy_status st = shard_file_crc(fn, &crc, &size);
        if (st != DY_OK) {
            cJSON_Delete(m);
            return st;
        }
        char hex[16];
        snprintf(hex, sizeof hex, "%08x", crc);
        cJSON_AddNumberToObject(e, "size_bytes", (double)size);
        cJSON_AddStringToObject(e, "crc32c", hex);
    }
    cJSON *iss = cJSON_AddObjectToObject(m, "issues");
    for (int k = 0; k < ISS_COUNT; k++) cJSON_AddNumberToObject(iss, ds_issue_name((ds_issue_kind)k), (double)c->sum->issues[k]);
    cJSON_AddNumberToObject(m, "background_images", (double)c->sum->background);
    char *text = cJSON_Print(m);
    cJSON_Delete(m);
    if (!text) return DY_ERR(DY_ENOMEM, "out of memory for the manifest");
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s.manifest.json", o->out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) free(text);
    SYS_CHECK(f, DY_EIO, "cannot create %.480s", tmp);
    int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    free(text);
    SYS_CHECK(fclose(f) == 0 && ok, DY_EIO, "cannot write %.480s", tmp);
    SYS_CHECK(rename(tmp, path) == 0, DY_EIO, "renaming %.480s", tmp);
    return DY_OK;
}

dy_status pack_write(const pack_opts *o, const ds_list *l, const pack_part *p, MPI_Comm comm,
                     const pack_summary *sum)
{
    wctx c = {o, l, p, NULL, sum, comm, 0, 0, 0, ""};
    MPI_CHECK(MPI_Comm_rank(comm, &c.rank));
    MPI_CHECK(MPI_Comm_size(comm, &c.size));
    if (o->shards > sum->samples)
        return DY_ERR(DY_ERANGE, "--shards %d is more than the %ld samples", o->shards, sum->samples);
    int64_t n = (int64_t)p->n;
    MPI_CHECK(MPI_Exscan(&n, &c.my0, 1, MPI_INT64_T, MPI_SUM, comm));
    if (c.rank == 0) {
        c.my0 = 0;
        time_t t = time(NULL);
        struct tm tm;
        strftime(c.created, sizeof c.created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    }
    MPI_CHECK(MPI_Bcast(c.created, sizeof c.created, MPI_CHAR, 0, comm));
    prefix x = {0};
    dy_status s = make_prefix(p, &x);
    c.x = &x;
    for (int k = 0; k < o->shards && s == DY_OK; k++) s = write_shard(&c, k);
    if (s == DY_OK && c.rank == 0) s = write_manifest(&c);
    free(x.pay), free(x.box), free(x.name);
    return s;
}
