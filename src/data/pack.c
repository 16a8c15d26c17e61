/* pack.c -- `dyolo pack`: validate an imported dataset against its images and write
 * it as HDF5 shards, in parallel.  Rank r processes the contiguous item range
 * [n*r/P, n*(r+1)/P) and the ranks' results are concatenated in rank order, so the
 * shards hold the same samples in the same order for any number of ranks (dropped
 * samples are dropped wherever they fall).  Writing is in shard_write.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fault.h"
#include "core/fsutil.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "data/image.h"
#include "data/pack_internal.h"
#include "dist/dist.h"

/* Everything the loader and the evaluator use from a sample is covered: a flipped
 * orig_size once silently rescaled ground truth and detections. */
uint32_t shard_sample_crc(const uint8_t *payload, size_t len, const float *box, const int32_t *cls,
                          const uint8_t *flags, int nbox, const int32_t size[2], const float lb[3], int64_t source_id,
                          const char *name, size_t name_len)
{
    uint32_t c = crc32c_update(0, payload, len);
    c = crc32c_update(c, box, sizeof(float) * 4 * (size_t)nbox);
    c = crc32c_update(c, cls, sizeof(int32_t) * (size_t)nbox);
    c = crc32c_update(c, flags, (size_t)nbox);
    c = crc32c_update(c, size, sizeof(int32_t) * 2);
    c = crc32c_update(c, lb, sizeof(float) * 3);
    c = crc32c_update(c, &source_id, sizeof source_id);
    return crc32c_update(c, name, name_len);
}

uint32_t shard_class_crc(char *const *names, const int64_t *source_id, int n)
{
    uint32_t c = 0;
    for (int k = 0; k < n; k++) {
        c = crc32c_update(c, names[k], strlen(names[k]) + 1);
        c = crc32c_update(c, &source_id[k], sizeof source_id[k]);
    }
    return c;
}

dy_status shard_file_crc(const char *path, uint32_t *crc, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    SYS_CHECK(f, DY_ENOENT, "cannot open shard %.480s", path);
    enum { CHUNK = 4 << 20 }; /* large reads: shards are hundreds of MB */
    uint8_t *b = malloc(CHUNK);
    if (!b) {
        fclose(f);
        return DY_ERR(DY_ENOMEM, "out of memory checking %.480s", path);
    }
    uint32_t c = 0;
    uint64_t n = 0;
    size_t got;
    while ((got = fread(b, 1, CHUNK, f)) > 0) c = crc32c_update(c, b, got), n += got;
    int bad = ferror(f);
    free(b);
    fclose(f);
    if (bad) return DY_ERR(DY_EIO, "reading %.480s failed", path);
    *crc = c, *size = n;
    return DY_OK;
}

static dy_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return DY_OK;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return DY_ERR(DY_ENOMEM, "out of memory packing (%zu elements)", nc);
    *p = q;
    *cap = nc;
    return DY_OK;
}

static dy_status read_file(const char *path, uint8_t **buf, size_t *len)
{
    char *b = NULL;
    DY_TRY(fs_read_file(path, "image", &b, len));
    *buf = (uint8_t *)b;
    if (*len == 0) {
        free(b);
        return DY_ERR(DY_EIO, "empty file");
    }
    return DY_OK;
}

/* Normalize, clip, drop degenerate and duplicate boxes; append to the part. */
static dy_status add_boxes(pack_part *p, ds_list *l, const ds_item *it, int w, int h)
{
    float sx = l->pixel ? 1.0f / w : 1.0f, sy = l->pixel ? 1.0f / h : 1.0f;
    float tx = 1.0f / w, ty = 1.0f / h; /* 1 px tolerance, in normalized units */
    int kept0 = (int)p->nbox;
    for (int k = 0; k < it->nbox; k++) {
        float b[4] = {it->box[4 * k] * sx, it->box[4 * k + 1] * sy, it->box[4 * k + 2] * sx,
                      it->box[4 * k + 3] * sy};
        /* strtod and cJSON accept nan, inf and 1e999; clipping would turn them into a
         * plausible box, so they are malformed. */
        if (!isfinite(b[0]) || !isfinite(b[1]) || !isfinite(b[2]) || !isfinite(b[3])) {
            DY_TRY(ds_issue(l, ISS_LABEL_MALFORMED, it->name, "box %d [%g %g %g %g] is not finite (dropped)", k,
                            it->box[4 * k], it->box[4 * k + 1], it->box[4 * k + 2], it->box[4 * k + 3]));
            continue;
        }
        if (b[0] < -tx || b[1] < -ty || b[2] > 1 + tx || b[3] > 1 + ty)
            DY_TRY(ds_issue(l, ISS_BOX_RANGE, it->name, "box %d [%g %g %g %g] exceeds the %dx%d image (clipped)", k,
                            it->box[4 * k], it->box[4 * k + 1], it->box[4 * k + 2], it->box[4 * k + 3], w, h));
        for (int j = 0; j < 4; j++) b[j] = fminf(1.0f, fmaxf(0.0f, b[j]));
        float c[4] = {(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]};
        if (!(c[2] * w >= 1e-3f && c[3] * h >= 1e-3f)) {
            DY_TRY(ds_issue(l, ISS_BOX_ZERO, it->name, "box %d has zero area after clipping (dropped)", k));
            continue;
        }
        int dup = 0;
        for (size_t j = (size_t)kept0; j < p->nbox && !dup; j++)
            dup = p->cls[j] == it->cls[k] && !memcmp(&p->box[4 * j], c, sizeof c);
        if (dup) {
            DY_TRY(ds_issue(l, ISS_BOX_DUPLICATE, it->name, "box %d repeats an earlier box of class %d (dropped)", k,
                            it->cls[k]));
            continue;
        }
        DY_TRY(grow((void **)&p->box, &p->capbox, (p->nbox + 1) * 4, sizeof(float)));
        DY_TRY(grow((void **)&p->cls, &p->capcls, p->nbox + 1, sizeof(int32_t)));
        DY_TRY(grow((void **)&p->flags, &p->capflags, p->nbox + 1, 1));
        memcpy(&p->box[4 * p->nbox], c, sizeof c);
        p->cls[p->nbox] = it->cls[k];
        p->flags[p->nbox] = it->flags[k];
        p->nbox++;
    }
    return DY_OK;
}

/* Payload for one image: its bytes, or letterboxed pixels for raw. */
static dy_status make_payload(const pack_opts *o, uint8_t **bytes, size_t *len, const img_rgb *im, float lb[3])
{
    lb[0] = 1, lb[1] = 0, lb[2] = 0;
    if (!o->raw) return DY_OK;
    img_rgb out = {0};
    DY_TRY(img_letterbox(im, o->imgsz, o->imgsz, 1, &out, &lb[0], &lb[1], &lb[2]));
    free(*bytes);
    *bytes = out.px;
    *len = (size_t)o->imgsz * o->imgsz * 3;
    return DY_OK;
}

static dy_status append_sample(pack_part *p, const ds_item *it, const uint8_t *bytes, size_t len, int w, int h,
                               const float lb[3], size_t box0)
{
    size_t i = p->n;
    DY_TRY(grow((void **)&p->payload, &p->cappay, p->npay + len, 1));
    DY_TRY(grow((void **)&p->meta, &p->capmeta, i + 1, sizeof(pack_meta)));
    size_t nl = strlen(it->name);
    DY_TRY(grow((void **)&p->names, &p->capnames, p->nnames + nl, 1));
    memcpy(p->payload + p->npay, bytes, len);
    memcpy(p->names + p->nnames, it->name, nl);
    pack_meta *m = &p->meta[i];
    m->pay_len = len;
    m->nbox = (int64_t)(p->nbox - box0);
    m->name_len = (int64_t)nl;
    m->size[0] = w, m->size[1] = h;
    memcpy(m->lb, lb, sizeof m->lb);
    m->source_id = it->id;
    m->crc = shard_sample_crc(bytes, len, p->box + 4 * box0, p->cls + box0, p->flags + box0, (int)m->nbox, m->size,
                              m->lb, m->source_id, it->name, nl);
    p->npay += len;
    p->nnames += nl;
    p->n++;
    return DY_OK;
}

static dy_status process_item(const pack_opts *o, ds_list *l, const ds_item *it, pack_part *p)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (read_file(it->path, &bytes, &len) != DY_OK)
        return ds_issue(l, ISS_IMAGE_UNREADABLE, it->path, "%s (sample dropped)", err_msg());
    img_rgb im = {0};
    if (img_decode(bytes, len, &im, it->path) != DY_OK) {
        free(bytes);
        return ds_issue(l, ISS_IMAGE_CORRUPT, it->path, "%s (sample dropped)", err_msg());
    }
    dy_status s = DY_OK;
    if (it->ann_w > 0 && (it->ann_w != im.w || it->ann_h != im.h))
        s = ds_issue(l, ISS_SIZE_MISMATCH, it->name, "annotation says %dx%d, image is %dx%d (image size used)",
                     it->ann_w, it->ann_h, im.w, im.h);
    size_t box0 = p->nbox;
    float lb[3];
    if (s == DY_OK) s = add_boxes(p, l, it, im.w, im.h);
    if (s == DY_OK) s = make_payload(o, &bytes, &len, &im, lb);
    if (s == DY_OK) s = append_sample(p, it, bytes, len, im.w, im.h, lb, box0);
    if (s == DY_OK && p->nbox == box0) p->background++; /* no usable box: a background image */
    free(bytes);
    img_free(&im);
    return s;
}

void pack_part_free(pack_part *p)
{
    free(p->payload);
    free(p->meta);
    free(p->names);
    free(p->box);
    free(p->cls);
    free(p->flags);
    memset(p, 0, sizeof *p);
}

/* Gather this rank's issue lines to rank 0 (in rank order) and log them there. */
static dy_status report_issues(ds_list *l, int first, int rank, int size, MPI_Comm comm)
{
    size_t n = 0;
    for (int i = first; i < l->nissues; i++) n += strlen(l->issues[i]) + 1;
    char *mine = malloc(n + 1), *all = NULL;
    if (!mine) return DY_ERR(DY_ENOMEM, "out of memory");
    size_t o = 0;
    for (int i = first; i < l->nissues; i++) o += (size_t)sprintf(mine + o, "%s\n", l->issues[i]);
    int len = (int)o, *lens = calloc((size_t)size, sizeof(int)), *displ = calloc((size_t)size, sizeof(int));
    if (!lens || !displ) return DY_ERR(DY_ENOMEM, "out of memory");
    MPI_CHECK(MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, comm));
    int tot = 0;
    for (int r = 0; r < size; r++) displ[r] = tot, tot += lens[r];
    if (rank == 0) all = malloc((size_t)tot + 1);
    MPI_CHECK(MPI_Gatherv(mine, len, MPI_CHAR, all, lens, displ, MPI_CHAR, 0, comm));
    if (rank == 0) {
        all[tot] = 0;
        for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) log_warn("pack: %s", line);
    }
    free(all);
    free(mine);
    free(lens);
    free(displ);
    return DY_OK;
}

static dy_status summarize(ds_list *l, const pack_part *p, int nimport, MPI_Comm comm, pack_summary *sum)
{
    long mine[ISS_COUNT + 4], tot[ISS_COUNT + 4];
    int rank;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    for (int k = 0; k < ISS_COUNT; k++) mine[k] = l->counts[k];
    mine[ISS_COUNT] = (long)p->n, mine[ISS_COUNT + 1] = (long)p->nbox, mine[ISS_COUNT + 2] = p->background;
    mine[ISS_COUNT + 3] = (long)p->npay;
    MPI_CHECK(MPI_Allreduce(mine, tot, ISS_COUNT + 4, MPI_LONG, MPI_SUM, comm));
    memset(sum, 0, sizeof *sum);
    sum->agreed = 1; /* from agreed sums: a failure below is the same on every rank */
    for (int k = 0; k < ISS_COUNT; k++) sum->issues[k] = tot[k], sum->total_issues += tot[k];
    sum->samples = tot[ISS_COUNT], sum->boxes = tot[ISS_COUNT + 1], sum->background = tot[ISS_COUNT + 2];
    sum->payload_bytes = tot[ISS_COUNT + 3];
    sum->dropped = sum->issues[ISS_IMAGE_UNREADABLE] + sum->issues[ISS_IMAGE_CORRUPT];
    (void)nimport;
    return DY_OK;
}

/* --out is a file prefix: PREFIX-00000.h5 and PREFIX.manifest.json.  Checked before
 * any work, so that a bad one fails at once and not after the whole dataset is read;
 * "runs/" once wrote runs/-00000.h5 and a hidden runs/.manifest.json.  The folder is
 * created (by every rank: mkdir -p tolerates the others). */
static dy_status check_out(const char *out)
{
    const char *slash = strrchr(out, '/'), *base = slash ? slash + 1 : out;
    struct stat st;
    if (!base[0] || !strcmp(base, ".") || !strcmp(base, "..") || (stat(out, &st) == 0 && S_ISDIR(st.st_mode)))
        return DY_ERR(DY_EINVAL, "--out \"%s\" is a folder; it must be a file prefix (e.g. %s%strain: writes "
                      "train-00000.h5 and train.manifest.json)", out, out, slash && !base[0] ? "" : "/");
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) : 1, slash ? out : ".") >= (int)sizeof dir)
        return DY_ERR(DY_EINVAL, "--out: path too long");
    if (!dir[0]) snprintf(dir, sizeof dir, "/");
    DY_TRY_CTX(fs_mkdir_p(dir), "--out %s", out);
    if (access(dir, W_OK) != 0)
        return DY_ERR(DY_EIO, "--out %s: cannot write in \"%s\": %s", out, dir, strerror(errno));
    return DY_OK;
}

dy_status pack_run(const pack_opts *o, MPI_Comm comm, pack_summary *sum)
{
    int rank, size;
    memset(sum, 0, sizeof *sum);
    sum->agreed = 1; /* the option checks below fail alike on every rank */
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    MPI_CHECK(MPI_Comm_size(comm, &size));
    if (o->raw && (o->imgsz < 32 || o->imgsz > 8192))
        return DY_ERR(DY_ERANGE, "--imgsz %d: must be 32..8192 for raw encoding", o->imgsz);
    if (o->shards < 1) return DY_ERR(DY_ERANGE, "--shards %d: must be at least 1", o->shards);
    DY_TRY(check_out(o->out));
    ds_list l;
    memset(&l, 0, sizeof l);
    dy_status si = ds_import(o->format, o->input, o->split, &l);
    if (si != DY_OK) err_wrap(si, "importing %s", o->input);
    /* Agreed: an input one node cannot read must not leave the others waiting. */
    if ((si = dist_agree(comm, si)) != DY_OK) {
        ds_list_free(&l);
        return si;
    }
    /* Import issues are found identically on every rank: rank 0 keeps them. */
    if (rank != 0) {
        ds_free_strings(l.issues, l.nissues);
        l.issues = NULL, l.nissues = l.capissues = 0;
        memset(l.counts, 0, sizeof l.counts);
    }
    int nimport = l.nissues;
    pack_part p = {0};
    int lo = (int)((int64_t)l.n * rank / size), hi = (int)((int64_t)l.n * (rank + 1) / size);
    dy_status s = fault_at("pack"); /* tests: as an item this rank cannot process */
    for (int i = lo; i < hi && s == DY_OK; i++) s = process_item(o, &l, &l.items[i], &p);
    /* All ranks learn the failing rank's error, so none waits below. */
    if ((s = dist_agree(comm, s)) != DY_OK) goto done;
    if ((s = report_issues(&l, 0, rank, size, comm)) != DY_OK) goto done;
    if ((s = summarize(&l, &p, nimport, comm, sum)) != DY_OK) goto done;
    if (o->strict && sum->total_issues > 0) {
        s = DY_ERR(DY_EFORMAT, "--strict: %ld problem(s) in the input (listed above); nothing written",
                   sum->total_issues);
        goto done;
    }
    if (sum->samples == 0) {
        s = DY_ERR(DY_ENOENT, "%s: no usable samples", o->input);
        goto done;
    }
    sum->agreed = 0; /* a write can fail on one rank only */
    s = pack_write(o, &l, &p, comm, sum);
done:
    pack_part_free(&p);
    ds_list_free(&l);
    return s;
}
