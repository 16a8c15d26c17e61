/* loader.c -- the loader's threads and batch ring (design in loader.h).
 *
 * One mutex guards the ring and the task queue.  Buffer states: FREE -> FILLING
 * (I/O thread reads payloads) -> PENDING (workers augment its images) -> READY ->
 * IN_USE (handed to the caller) -> FREE (loader_release). */
#include "data/loader.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"

enum { B_FREE, B_FILLING, B_PENDING, B_READY, B_IN_USE };

typedef struct {
    int64_t idx[4];
    int nsrc, pos; /* pos: image slot in the batch; -1 padding */
    rng_stream rng;
    uint8_t *buf[4];
    size_t cap[4], len[4];
    shard_sample meta[4];
    aug_img out;
} slot;

typedef struct {
    data_batch b;
    slot *slots;
    int state, pending;
    dy_status err;
    char errmsg[1024];
} ring_ent;

struct data_loader {
    loader_opts o;
    shard_set *sh;
    sampler smp;
    int64_t *idx;
    float *ar;       /* rect: h/w of every sample */
    int maxside;     /* largest batch side (rect can exceed imgsz) */
    ring_ent *ring;
    pthread_t io, *workers;
    int nworkers_started, io_started;
    pthread_mutex_t mu;
    pthread_cond_t io_cv, work_cv, ready_cv;
    int quit, active;
    int64_t produced, consumed, end; /* steps */
    int *queue, qhead, qtail, qcap;  /* tasks: ring * batch + slot */
    sampler_state consumed_state;
};

static const cfg_key data_cfg_keys[] = {
    {"data.train", CFG_STRING, "\"\"", 1, 0, NULL, "training shards: a manifest (.json) or one .h5 shard"},
    {"data.val", CFG_STRING, "\"\"", 1, 0, NULL, "validation shards: a manifest (.json) or one .h5 shard"},
    {"data.imgsz", CFG_INT, "640", 32, 8192, "*32", "network input size (pixels, square; a multiple of the stride 32)"},
    {"data.val_batch", CFG_INT, "16", 1, 65536, NULL, "validation images per rank per step"},
    {"data.workers", CFG_INT, "2", 1, 256, NULL, "decode/augment threads per rank"},
    {"data.prefetch", CFG_INT, "4", 1, 256, NULL, "batches prepared ahead of the training step"},
    {"data.rect", CFG_BOOL, "false", 1, 0, NULL, "validation: rectangular batches sorted by aspect ratio (YOLOv5 rect)"},
    {"data.hsv_h", CFG_FLOAT, "0.015", 0, 1, NULL, "hue gain (fraction)"},
    {"data.hsv_s", CFG_FLOAT, "0.7", 0, 1, NULL, "saturation gain (fraction)"},
    {"data.hsv_v", CFG_FLOAT, "0.4", 0, 1, NULL, "value gain (fraction)"},
    {"data.degrees", CFG_FLOAT, "0", 0, 180, NULL, "rotation (+/- degrees)"},
    {"data.translate", CFG_FLOAT, "0.1", 0, 0.9, NULL, "translation (+/- fraction)"},
    {"data.scale", CFG_FLOAT, "0.5", 0, 0.99, NULL, "scale (+/- gain)"},
    {"data.shear", CFG_FLOAT, "0", 0, 90, NULL, "shear (+/- degrees)"},
    {"data.perspective", CFG_FLOAT, "0", 0, 0.001, NULL, "perspective (+/- fraction)"},
    {"data.flipud", CFG_FLOAT, "0", 0, 1, NULL, "probability of a vertical flip"},
    {"data.fliplr", CFG_FLOAT, "0.5", 0, 1, NULL, "probability of a horizontal flip"},
    {"data.mosaic", CFG_FLOAT, "1", 0, 1, NULL, "probability of a 4-image mosaic"},
};
const cfg_section data_cfg_section = {"data", "datasets, loader threads and augmentation (YOLOv5 hyp.scratch-low)",
                                      data_cfg_keys, (int)(sizeof data_cfg_keys / sizeof data_cfg_keys[0])};

void loader_opts_default(loader_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 16, o->imgsz = 640, o->workers = 2, o->prefetch = 4, o->train = 1, o->stride = LOADER_STRIDE;
    aug_params_default(&o->aug);
}

void loader_opts_from_cfg(const cfg *c, int train, loader_opts *o)
{
    loader_opts_default(o);
    o->train = train;
    /* train: the GLOBAL batch (train.batch_size); the trainer divides it by the ranks. */
    o->batch = (int)cfg_int(c, train ? "train.batch_size" : "data.val_batch");
    o->imgsz = (int)cfg_int(c, "data.imgsz");
    o->workers = (int)cfg_int(c, "data.workers");
    o->prefetch = (int)cfg_int(c, "data.prefetch");
    o->rect = !train && cfg_bool(c, "data.rect");
    o->seed = (uint64_t)cfg_int(c, "run.seed");
    aug_params *a = &o->aug;
    a->hsv_h = (float)cfg_float(c, "data.hsv_h"), a->hsv_s = (float)cfg_float(c, "data.hsv_s");
    a->hsv_v = (float)cfg_float(c, "data.hsv_v"), a->degrees = (float)cfg_float(c, "data.degrees");
    a->translate = (float)cfg_float(c, "data.translate"), a->scale = (float)cfg_float(c, "data.scale");
    a->shear = (float)cfg_float(c, "data.shear"), a->perspective = (float)cfg_float(c, "data.perspective");
    a->flipud = (float)cfg_float(c, "data.flipud"), a->fliplr = (float)cfg_float(c, "data.fliplr");
    a->mosaic = (float)cfg_float(c, "data.mosaic");
}

/* YOLOv5 rect batch shape from the aspect ratios of the global step's samples (all
 * ranks' slices together, called right after sampler_next): every rank's slice of a
 * step gets the shape one rank would give the whole step, so validation does not
 * depend on the number of ranks (with each rank's own slice it did). */
static void rect_shape(const data_loader *l, int *h, int *w)
{
    *h = *w = l->o.imgsz;
    if (!l->ar) return;
    float mn = 1e30f, mx = 0, sh = 1, sw = 1;
    int64_t g = (int64_t)l->smp.world * l->smp.batch, p1 = l->smp.st.position;
    for (int64_t p = p1 - g; p < p1 && p < l->smp.n; p++) {
        float a = l->ar[l->smp.order[p]];
        mn = a < mn ? a : mn, mx = a > mx ? a : mx;
    }
    if (mx == 0) return; /* only padding */
    if (mx < 1) sh = mx;
    else if (mn > 1) sw = 1 / mn;
    int st = l->o.stride;
    *h = (int)ceil((double)sh * l->o.imgsz / st + 0.5) * st;
    *w = (int)ceil((double)sw * l->o.imgsz / st + 0.5) * st;
}

static int cmp_ar(const void *a, const void *b, void *ctx)
{
    const float *ar = ctx;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return ar[x] < ar[y] ? -1 : ar[x] > ar[y] ? 1 : (x > y) - (x < y);
}

/* Val rect: order samples by aspect ratio (ties by index). */
static dy_status setup_rect(data_loader *l)
{
    int64_t n = shard_count(l->sh);
    l->ar = malloc(sizeof(float) * (size_t)n);
    int64_t *ord = malloc(sizeof(int64_t) * (size_t)n);
    if (!l->ar || !ord) return DY_ERR(DY_ENOMEM, "loader: out of memory");
    for (int64_t i = 0; i < n; i++) {
        shard_sample m;
        shard_sample_get(l->sh, i, &m);
        l->ar[i] = (float)m.orig_h / (float)m.orig_w;
        ord[i] = i;
    }
    qsort_r(ord, (size_t)n, sizeof *ord, cmp_ar, l->ar);
    dy_status s = sampler_set_order(&l->smp, ord);
    free(ord);
    return s;
}

/* ---- I/O thread: sampler + HDF5 reads (shard_read_payload takes the HDF5 lock). */
static dy_status fill(data_loader *l, ring_ent *e, int64_t step)
{
    int64_t n = shard_count(l->sh);
    sampler_next(&l->smp, l->idx);
    e->b.step = step, e->b.epoch = l->smp.st.epoch, e->b.n = 0;
    rect_shape(l, &e->b.h, &e->b.w);
    for (int k = 0; k < l->o.batch; k++) {
        slot *s = &e->slots[k];
        s->pos = -1;
        if (l->idx[k] < 0) continue;
        s->pos = e->b.n++;
        s->idx[0] = l->idx[k];
        s->nsrc = 1;
        if (l->o.train) s->nsrc = aug_plan(&s->rng, l->o.seed, e->b.epoch, s->idx[0], n, &l->o.aug, &s->idx[1]);
        for (int j = 0; j < s->nsrc; j++) {
            shard_sample_get(l->sh, s->idx[j], &s->meta[j]);
            DY_TRY(shard_read_payload(l->sh, s->idx[j], &s->buf[j], &s->cap[j], &s->len[j]));
        }
    }
    return DY_OK;
}

static void *io_main(void *arg)
{
    data_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->quit) {
        ring_ent *e = NULL;
        if (l->active && l->produced < l->end)
            for (int i = 0; i < l->o.prefetch && !e; i++)
                if (l->ring[i].state == B_FREE) e = &l->ring[i];
        if (!e) {
            pthread_cond_wait(&l->io_cv, &l->mu);
            continue;
        }
        e->state = B_FILLING;
        int64_t step = l->produced++;
        pthread_mutex_unlock(&l->mu);
        dy_status s = fill(l, e, step);
        pthread_mutex_lock(&l->mu);
        e->err = s;
        if (s != DY_OK) snprintf(e->errmsg, sizeof e->errmsg, "%s", err_msg());
        e->pending = 0;
        for (int k = 0; k < l->o.batch && s == DY_OK; k++)
            if (e->slots[k].pos >= 0) {
                l->queue[l->qtail++ % l->qcap] = (int)(e - l->ring) * l->o.batch + k;
                e->pending++;
            }
        e->state = e->pending ? B_PENDING : B_READY;
        pthread_cond_broadcast(e->pending ? &l->work_cv : &l->ready_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- workers: decode + augment one image into its batch slot. */
static dy_status work(data_loader *l, ring_ent *e, slot *s)
{
    aug_img src[4];
    int S = l->o.imgsz, W = e->b.w, H = e->b.h, ok = 0;
    dy_status st = DY_OK;
    char what[64];
    aug_mosaic_view v; /* a mosaic decodes only what its output shows */
    if (l->o.train && s->nsrc == 4) aug_mosaic_view_of(s->rng, &l->o.aug, S, &v);
    st = fault_at("load"); /* tests: as a sample that fails its CRC on this rank */
    for (; ok < s->nsrc && st == DY_OK; ok++) {
        snprintf(what, sizeof what, "sample %lld", (long long)s->idx[ok]);
        if (l->o.train)
            st = aug_load_part(s->buf[ok], s->len[ok], shard_encoding_raw(l->sh), shard_imgsz(l->sh), &s->meta[ok], S,
                               s->nsrc == 4 ? &v : NULL, ok, &src[ok], what);
        else
            st = aug_load_val(s->buf[ok], s->len[ok], shard_encoding_raw(l->sh), shard_imgsz(l->sh), &s->meta[ok], S,
                              &src[ok], what);
        if (st != DY_OK) break;
    }
    aug_img_free(&s->out);
    if (st == DY_OK) {
        rng_stream r = s->rng;
        st = l->o.train ? aug_train(src, s->nsrc, &r, &l->o.aug, S, &s->out) : aug_val(&src[0], W, H, &s->out);
    }
    for (int j = 0; j < ok; j++) aug_img_free(&src[j]);
    if (st != DY_OK) return st;
    if (s->out.im.w != W || s->out.im.h != H) /* never write past this slot */
        return DY_ERR(DY_EINVAL, "sample %lld: augmented to %dx%d, the batch slot is %dx%d", (long long)s->idx[0],
                      s->out.im.w, s->out.im.h, W, H);
    /* HWC -> CHW into the batch */
    aug_to_chw(&s->out.im, e->b.images + (size_t)s->pos * 3 * W * H);
    e->b.index[s->pos] = s->idx[0];
    e->b.orig_size[2 * s->pos] = s->meta[0].orig_w, e->b.orig_size[2 * s->pos + 1] = s->meta[0].orig_h;
    float *lb = e->b.letterbox + 4 * s->pos;
    lb[0] = s->out.scale, lb[1] = s->out.scale_y, lb[2] = s->out.pad_x, lb[3] = s->out.pad_y;
    return DY_OK;
}

static void *worker_main(void *arg)
{
    data_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->quit) {
        if (l->qhead == l->qtail) {
            pthread_cond_wait(&l->work_cv, &l->mu);
            continue;
        }
        int t = l->queue[l->qhead++ % l->qcap];
        ring_ent *e = &l->ring[t / l->o.batch];
        pthread_mutex_unlock(&l->mu);
        dy_status s = work(l, e, &e->slots[t % l->o.batch]);
        pthread_mutex_lock(&l->mu);
        if (s != DY_OK && e->err == DY_OK) {
            e->err = s;
            snprintf(e->errmsg, sizeof e->errmsg, "%s", err_msg());
        }
        if (--e->pending == 0) {
            e->state = B_READY;
            pthread_cond_broadcast(&l->ready_cv);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static dy_status alloc_ring(data_loader *l)
{
    int B = l->o.batch, S = l->maxside;
    l->ring = calloc((size_t)l->o.prefetch, sizeof(ring_ent));
    l->idx = malloc(sizeof(int64_t) * (size_t)B);
    l->qcap = l->o.prefetch * B;
    l->queue = malloc(sizeof(int) * (size_t)l->qcap);
    if (!l->ring || !l->idx || !l->queue) return DY_ERR(DY_ENOMEM, "loader: out of memory");
    for (int i = 0; i < l->o.prefetch; i++) {
        data_batch *b = &l->ring[i].b;
        b->capacity = B, b->h = b->w = S;
        size_t ib = (size_t)B * 3 * S * S;
        if (l->o.host_alloc) {
            void *p = NULL;
            DY_TRY_CTX(l->o.host_alloc(ib, &p), "loader: batch %d of %d images of %d^2 (page-locked)", i, B, S);
            b->images = p;
        } else {
            b->images = malloc(ib);
        }
        b->index = malloc(sizeof(int64_t) * (size_t)B);
        b->orig_size = malloc(sizeof(int32_t) * 2 * (size_t)B);
        b->letterbox = malloc(sizeof(float) * 4 * (size_t)B);
        l->ring[i].slots = calloc((size_t)B, sizeof(slot));
        if (!b->images || !b->index || !b->orig_size || !b->letterbox || !l->ring[i].slots)
            return DY_ERR(DY_ENOMEM, "loader: out of memory for %d batches of %d x %d^2 images", l->o.prefetch, B, S);
    }
    return DY_OK;
}

static dy_status start_threads(data_loader *l)
{
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->io_cv, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    pthread_cond_init(&l->ready_cv, NULL);
    l->workers = calloc((size_t)l->o.workers, sizeof(pthread_t));
    if (!l->workers) return DY_ERR(DY_ENOMEM, "loader: out of memory");
    if (pthread_create(&l->io, NULL, io_main, l)) return DY_ERR(DY_EIO, "loader: cannot start the I/O thread");
    l->io_started = 1;
    for (int i = 0; i < l->o.workers; i++) {
        if (pthread_create(&l->workers[i], NULL, worker_main, l))
            return DY_ERR(DY_EIO, "loader: cannot start worker thread %d", i);
        l->nworkers_started++;
    }
    return DY_OK;
}

dy_status loader_open(data_loader **out, const char *const *paths, int npaths, const loader_opts *o, MPI_Comm comm)
{
    if (o->batch < 1 || o->imgsz < 32 || o->workers < 1 || o->prefetch < 1)
        return DY_ERR(DY_EINVAL, "loader: bad options (batch %d, imgsz %d, workers %d, prefetch %d)", o->batch, o->imgsz,
                      o->workers, o->prefetch);
    /* The model's stride; every batch slot is sized from imgsz (config.c checks it too). */
    if (o->imgsz % LOADER_STRIDE)
        return DY_ERR(DY_EINVAL, "loader: imgsz %d is not a multiple of the stride %d", o->imgsz, LOADER_STRIDE);
    int rank, world;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &world);
    data_loader *l = calloc(1, sizeof *l);
    if (!l) return DY_ERR(DY_ENOMEM, "loader: out of memory");
    l->o = *o;
    dy_status s = shard_open(&l->sh, paths, npaths, comm);
    if (s == DY_OK) s = sampler_init(&l->smp, shard_count(l->sh), world, rank, o->batch, o->seed, o->train);
    l->maxside = o->imgsz + (o->rect && !o->train ? 2 * o->stride : 0);
    if (s == DY_OK && o->rect && !o->train) s = setup_rect(l);
    if (s == DY_OK) s = alloc_ring(l);
    if (s == DY_OK) s = start_threads(l);
    if (s != DY_OK) {
        char m[1024];
        snprintf(m, sizeof m, "%s", err_msg());
        loader_close(l);
        return err_set(s, "%s", m);
    }
    *out = l;
    return DY_OK;
}

dy_status loader_start_epoch(data_loader *l, int64_t epoch, int64_t position)
{
    pthread_mutex_lock(&l->mu);
    l->active = 0;
    for (int i = 0; i < l->o.prefetch; i++)
        if (l->ring[i].state == B_IN_USE) {
            pthread_mutex_unlock(&l->mu);
            return DY_ERR(DY_EINVAL, "loader_start_epoch: release every batch first");
        }
    for (;;) { /* let batches in flight finish, then drop them */
        int busy = 0;
        for (int i = 0; i < l->o.prefetch; i++) busy |= l->ring[i].state == B_FILLING || l->ring[i].state == B_PENDING;
        if (!busy) break;
        pthread_cond_wait(&l->ready_cv, &l->mu);
    }
    for (int i = 0; i < l->o.prefetch; i++) l->ring[i].state = B_FREE;
    dy_status s = sampler_start_epoch(&l->smp, epoch, position);
    if (s == DY_OK) {
        int64_t g = (int64_t)l->smp.world * l->smp.batch;
        l->produced = l->consumed = position / g;
        l->end = sampler_steps(&l->smp);
        l->consumed_state = l->smp.st;
        l->active = 1;
        pthread_cond_broadcast(&l->io_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return s;
}

static dy_status assemble_targets(ring_ent *e)
{
    data_batch *b = &e->b;
    int nt = 0;
    for (int k = 0; k < b->capacity; k++)
        if (e->slots[k].pos >= 0) nt += e->slots[k].out.nbox;
    free(b->targets), free(b->target_flags);
    b->targets = malloc(sizeof(float) * 6 * (size_t)(nt ? nt : 1));
    b->target_flags = malloc((size_t)(nt ? nt : 1));
    if (!b->targets || !b->target_flags) return DY_ERR(DY_ENOMEM, "loader: out of memory for targets");
    b->ntargets = 0;
    float W = (float)b->w, H = (float)b->h;
    for (int k = 0; k < b->capacity; k++) {
        const slot *s = &e->slots[k];
        if (s->pos < 0) continue;
        for (int j = 0; j < s->out.nbox; j++) {
            const aug_box *x = &s->out.box[j];
            float *t = &b->targets[6 * b->ntargets];
            t[0] = (float)s->pos, t[1] = (float)x->cls;
            t[2] = (x->x0 + x->x1) / 2 / W, t[3] = (x->y0 + x->y1) / 2 / H;
            t[4] = (x->x1 - x->x0) / W, t[5] = (x->y1 - x->y0) / H;
            b->target_flags[b->ntargets++] = x->flags;
        }
    }
    return DY_OK;
}

dy_status loader_next(data_loader *l, data_batch **out)
{
    *out = NULL;
    pthread_mutex_lock(&l->mu);
    if (!l->active || l->consumed >= l->end) {
        pthread_mutex_unlock(&l->mu);
        return DY_OK;
    }
    ring_ent *e = NULL;
    for (;;) {
        for (int i = 0; i < l->o.prefetch && !e; i++)
            if (l->ring[i].state == B_READY && l->ring[i].b.step == l->consumed) e = &l->ring[i];
        if (e) break;
        pthread_cond_wait(&l->ready_cv, &l->mu);
    }
    e->state = B_IN_USE;
    l->consumed++;
    l->consumed_state.position += (int64_t)l->smp.world * l->smp.batch;
    pthread_mutex_unlock(&l->mu);
    if (e->err != DY_OK) {
        dy_status s = err_set(e->err, "loader: %s", e->errmsg);
        loader_release(l, &e->b);
        return s;
    }
    DY_TRY(assemble_targets(e));
    *out = &e->b;
    return DY_OK;
}

void loader_release(data_loader *l, data_batch *b)
{
    if (!b) return;
    ring_ent *e = (ring_ent *)((char *)b - offsetof(ring_ent, b));
    pthread_mutex_lock(&l->mu);
    e->state = B_FREE;
    e->err = DY_OK;
    pthread_cond_broadcast(&l->io_cv);
    pthread_mutex_unlock(&l->mu);
}

dy_status loader_close(data_loader *l)
{
    if (!l) return DY_OK;
    if (l->io_started || l->nworkers_started) {
        pthread_mutex_lock(&l->mu);
        l->quit = 1;
        pthread_cond_broadcast(&l->io_cv);
        pthread_cond_broadcast(&l->work_cv);
        pthread_mutex_unlock(&l->mu);
        if (l->io_started) pthread_join(l->io, NULL);
        for (int i = 0; i < l->nworkers_started; i++) pthread_join(l->workers[i], NULL);
    }
    for (int i = 0; l->ring && i < l->o.prefetch; i++) {
        ring_ent *e = &l->ring[i];
        for (int k = 0; e->slots && k < l->o.batch; k++) {
            for (int j = 0; j < 4; j++) free(e->slots[k].buf[j]);
            aug_img_free(&e->slots[k].out);
        }
        if (l->o.host_free) l->o.host_free(e->b.images);
        else free(e->b.images);
        free(e->slots), free(e->b.index), free(e->b.orig_size), free(e->b.letterbox);
        free(e->b.targets), free(e->b.target_flags);
    }
    free(l->ring), free(l->idx), free(l->queue), free(l->workers), free(l->ar);
    sampler_free(&l->smp);
    dy_status s = shard_close(l->sh);
    free(l);
    return s;
}

int64_t loader_size(const data_loader *l) { return shard_count(l->sh); }
int64_t loader_steps(const data_loader *l) { return sampler_steps(&l->smp); }
sampler_state loader_state(const data_loader *l) { return l->consumed_state; }
shard_set *loader_shards(data_loader *l) { return l->sh; }

void data_batch_to_float(const data_batch *b, float *out)
{
    size_t n = (size_t)b->n * 3 * b->h * b->w;
    for (size_t i = 0; i < n; i++) out[i] = b->images[i] * (1.0f / 255.0f);
}
