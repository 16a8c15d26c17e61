/* ddp.c -- bucketed, ordered, overlapped gradient all-reduce; parameter broadcast;
 * divergence guard; SyncBN statistics (see ddp.h). */
#include "dist/ddp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/timer.h"

typedef struct {
    size_t off, cnt;
    int pending;       /* ranges of this bucket not yet ready this step */
    int nranges;
    comm_req req;
    int launched, done;
    double t_launch, t_done;
} bucket;

struct ddp {
    comm *c;
    char *grads;
    size_t esz;
    comm_dtype t;
    ddp_range *r;
    int nr;
    int *range_bucket;
    unsigned char *ready;
    bucket *b;
    int nb, next_launch, sync;
    ddp_stats st;
};

static dy_status validate_ranges(const ddp_range *r, int n)
{
    if (n <= 0) return DY_ERR(DY_EINVAL, "ddp: no parameter ranges");
    for (int i = 0; i < n; i++) {
        if (r[i].count == 0) return DY_ERR(DY_EINVAL, "ddp: parameter range #%d is empty", i);
        if (i && r[i].offset != r[i - 1].offset + r[i - 1].count)
            return DY_ERR(DY_EINVAL,
                          "ddp: parameter range #%d starts at %zu but range #%d ends at %zu: ranges "
                          "must tile the flat buffer in forward order", i, r[i].offset, i - 1,
                          r[i - 1].offset + r[i - 1].count);
    }
    return DY_OK;
}

/* Cut buckets walking the ranges backwards; a bucket closes once it holds at least
 * its byte budget. */
static void build_buckets(ddp *d, const ddp_opts *o)
{
    size_t bytes = 0;
    bucket *cur = NULL;
    for (int i = d->nr - 1; i >= 0; i--) {
        if (!cur) {
            cur = &d->b[d->nb++];
            memset(cur, 0, sizeof *cur);
            cur->req = COMM_REQ_NONE;
            cur->off = d->r[i].offset + d->r[i].count; /* end, fixed below */
            cur->cnt = 0;
            bytes = 0;
        }
        size_t end = cur->off + cur->cnt;
        cur->off = d->r[i].offset;
        cur->cnt = end - cur->off;
        cur->nranges++;
        d->range_bucket[i] = d->nb - 1;
        bytes += d->r[i].count * d->esz;
        size_t cap = d->nb == 1 ? o->first_bucket_bytes : o->bucket_bytes;
        if (bytes >= cap) cur = NULL;
    }
}

size_t ddp_bucket_bytes(const ddp_opts *o, size_t grad_bytes)
{
    size_t b = o->bucket_bytes ? o->bucket_bytes : 25u << 20;
    size_t first = o->first_bucket_bytes ? o->first_bucket_bytes : 1u << 20;
    if (o->min_buckets > 0) {
        size_t share = grad_bytes / (size_t)o->min_buckets;
        size_t cap = share > first ? share : first;
        if (cap < b) b = cap;
    }
    return b;
}

dy_status ddp_create(comm *c, void *grads, const ddp_range *ranges, int nranges, const ddp_opts *o,
                     ddp **out)
{
    DY_TRY(validate_ranges(ranges, nranges));
    ddp *d = calloc(1, sizeof *d);
    if (!d) return DY_ERR(DY_ENOMEM, "ddp: out of memory");
    d->c = c;
    d->grads = grads;
    d->t = o->dtype;
    d->esz = comm_dtype_size(o->dtype);
    d->nr = nranges;
    d->sync = 1;
    d->r = malloc(sizeof *d->r * (size_t)nranges);
    d->range_bucket = malloc(sizeof(int) * (size_t)nranges);
    d->ready = calloc((size_t)nranges, 1);
    d->b = malloc(sizeof *d->b * (size_t)nranges);
    if (!d->r || !d->range_bucket || !d->ready || !d->b) {
        ddp_destroy(d);
        return DY_ERR(DY_ENOMEM, "ddp: out of memory for %d ranges", nranges);
    }
    memcpy(d->r, ranges, sizeof *d->r * (size_t)nranges);
    ddp_opts def = *o;
    size_t total = ranges[nranges - 1].offset + ranges[nranges - 1].count - ranges[0].offset;
    def.bucket_bytes = ddp_bucket_bytes(o, total * d->esz);
    if (!def.first_bucket_bytes) def.first_bucket_bytes = 1u << 20;
    build_buckets(d, &def);
    for (int i = 0; i < d->nb; i++) d->b[i].pending = d->b[i].nranges;
    *out = d;
    return DY_OK;
}

void ddp_destroy(ddp *d)
{
    if (!d) return;
    free(d->r);
    free(d->range_bucket);
    free(d->ready);
    free(d->b);
    free(d);
}

int ddp_nbuckets(const ddp *d) { return d->nb; }

void ddp_bucket_span(const ddp *d, int b, size_t *offset, size_t *count)
{
    *offset = d->b[b].off;
    *count = d->b[b].cnt;
}

void ddp_bucket_times(const ddp *d, int b, double *t_launch, double *t_done)
{
    *t_launch = d->b[b].t_launch;
    *t_done = d->b[b].t_done;
}

void ddp_set_sync(ddp *d, int sync) { d->sync = sync; }

void ddp_stats_get(const ddp *d, ddp_stats *s)
{
    *s = d->st;
    s->hidden = d->st.comm_s > 0 ? 1.0 - d->st.exposed_s / d->st.comm_s : 0;
    if (s->hidden < 0) s->hidden = 0;
}

void ddp_stats_reset(ddp *d) { memset(&d->st, 0, sizeof d->st); }

static int find_range(const ddp *d, size_t offset)
{
    int lo = 0, hi = d->nr - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (d->r[mid].offset == offset) return mid;
        if (d->r[mid].offset < offset) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Launch every complete bucket in bucket order, then (progress mode poll) test the
 * ones in flight: that test is what progresses non-blocking MPI between layers of
 * backward.  In thread mode the thread does it; in mode none nothing does (the
 * benchmark's baseline). */
static dy_status launch_and_poll(ddp *d)
{
    while (d->next_launch < d->nb && d->b[d->next_launch].pending == 0) {
        bucket *b = &d->b[d->next_launch++];
        b->t_launch = timer_now();
        DY_TRY(comm_allreduce(d->c, d->grads + b->off * d->esz, b->cnt, d->t, COMM_AVG, &b->req));
        b->launched = 1;
        d->st.collectives++;
        d->st.bytes += (double)(b->cnt * d->esz);
    }
    if (comm_get_progress(d->c) != COMM_PROGRESS_POLL) return DY_OK;
    for (int i = 0; i < d->next_launch; i++) {
        bucket *b = &d->b[i];
        if (b->done) continue;
        int done = 0;
        DY_TRY(comm_test(d->c, b->req, &done));
        if (done) {
            b->done = 1;
            b->t_done = timer_now();
        }
    }
    return DY_OK;
}

dy_status ddp_grad_ready(ddp *d, size_t offset, size_t count)
{
    int i = find_range(d, offset);
    if (i < 0)
        return DY_ERR(DY_EINVAL, "ddp_grad_ready(%zu, %zu): offset %zu is not the start of a parameter range",
                      offset, count, offset);
    size_t covered = 0;
    for (int j = i; j < d->nr && covered < count; j++) {
        if (d->ready[j])
            return DY_ERR(DY_EINVAL, "ddp_grad_ready: parameter range #%d (offset %zu) reported ready twice in one step",
                          j, d->r[j].offset);
        d->ready[j] = 1;
        d->b[d->range_bucket[j]].pending--;
        covered += d->r[j].count;
    }
    if (covered != count)
        return DY_ERR(DY_EINVAL, "ddp_grad_ready(%zu, %zu): does not end on a parameter range boundary",
                      offset, count);
    if (!d->sync) return DY_OK;
    double t0 = timer_now();
    dy_status s = launch_and_poll(d);
    d->st.hook_s += timer_now() - t0;
    return s;
}

static void reset_step(ddp *d)
{
    memset(d->ready, 0, (size_t)d->nr);
    for (int i = 0; i < d->nb; i++) {
        bucket *b = &d->b[i];
        b->pending = b->nranges;
        b->launched = b->done = 0;
        b->req = COMM_REQ_NONE;
    }
    d->next_launch = 0;
}

dy_status ddp_finish(ddp *d)
{
    for (int j = 0; j < d->nr; j++)
        if (!d->ready[j])
            return DY_ERR(DY_EINVAL, "ddp_finish: parameter range #%d (offset %zu, %zu elements) was never "
                          "reported ready by backward", j, d->r[j].offset, d->r[j].count);
    if (!d->sync) {
        d->st.nosync_steps++;
        reset_step(d);
        return DY_OK;
    }
    DY_TRY(launch_and_poll(d));
    for (int i = 0; i < d->nb; i++) {
        bucket *b = &d->b[i];
        if (!b->done) {
            double t0 = timer_now();
            DY_TRY(comm_wait(d->c, b->req));
            b->t_done = timer_now();
            d->st.exposed_s += b->t_done - t0;
            b->done = 1;
        }
        d->st.comm_s += b->t_done - b->t_launch;
    }
    d->st.syncs++;
    reset_step(d);
    return DY_OK;
}

dy_status ddp_broadcast_params(comm *c, void *buf, size_t n, comm_dtype t)
{
    return comm_broadcast_sync(c, buf, n, t, 0);
}

uint32_t ddp_param_hash(const void *buf, size_t bytes) { return crc32c(buf, bytes); }

dy_status ddp_check_divergence(comm *c, const void *params, size_t bytes, long step, long interval)
{
    if (interval <= 0 || step % interval != 0) return DY_OK;
    int n = comm_size(c);
    uint32_t mine = ddp_param_hash(params, bytes);
    uint32_t *all = malloc(sizeof(uint32_t) * (size_t)n);
    if (!all) return DY_ERR(DY_ENOMEM, "divergence check: out of memory");
    comm_req r;
    dy_status s = comm_allgather(c, &mine, 1, all, COMM_U32, &r);
    if (s == DY_OK) s = comm_wait(c, r);
    if (s != DY_OK) {
        free(all);
        return s;
    }
    char bad[512] = "";
    int nbad = 0;
    for (int i = 1; i < n; i++) {
        if (all[i] == all[0]) continue;
        size_t u = strlen(bad);
        snprintf(bad + u, sizeof bad - u, "%s%d (hash %08x)", nbad++ ? ", " : "", i, all[i]);
    }
    uint32_t h0 = all[0];
    free(all);
    if (nbad)
        return DY_ERR(DY_ECORRUPT, "parameters diverged across ranks at step %ld: rank(s) %s differ from "
                      "rank 0 (hash %08x); the replicas are no longer identical", step, bad, h0);
    return DY_OK;
}

dy_status ddp_syncbn_allreduce(comm *c, float *stats, int channels)
{
    return comm_allreduce_sync(c, stats, (size_t)channels * 3, COMM_F32, COMM_SUM);
}

void ddp_syncbn_mean_var(const float *stats, int channels, float *mean, float *var)
{
    const float *sum = stats, *sq = stats + channels, *cnt = stats + 2 * channels;
    for (int i = 0; i < channels; i++) {
        float n = cnt[i] > 0 ? cnt[i] : 1;
        mean[i] = sum[i] / n;
        float v = sq[i] / n - mean[i] * mean[i];
        var[i] = v > 0 ? v : 0;
    }
}
