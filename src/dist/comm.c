/* comm.c -- the transport-independent half of the communication interface: request
 * slots, waiting with the watchdog, progress polling and the progress thread,
 * statistics (see comm.h). */
#include "dist/comm_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "core/gpu.h"

/* Watchdog side channel (c->wd): a timed-out rank sends a query to every other
 * rank; a rank answers with how many collectives it has started whenever it is in
 * comm_wait or (thread mode) from the progress thread. */
#define WD_QUERY 7301
#define WD_REPLY 7302

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

size_t comm_dtype_size(comm_dtype t)
{
    switch (t) {
    case COMM_F32: case COMM_U32: case COMM_I32: return 4;
    case COMM_F16: return 2;
    case COMM_U8: return 1;
    }
    return 0;
}

dy_status comm_transport_parse(const char *s, comm_transport *out)
{
    if (!strcmp(s, "auto")) *out = COMM_TRANSPORT_AUTO;
    else if (!strcmp(s, "mpi")) *out = COMM_TRANSPORT_MPI;
    else if (!strcmp(s, "nccl")) *out = COMM_TRANSPORT_NCCL;
    else return DY_ERR(DY_EINVAL, "unknown transport \"%s\" (auto, mpi or nccl)", s);
    return DY_OK;
}

dy_status comm_progress_parse(const char *s, comm_progress *out)
{
    if (!strcmp(s, "poll")) *out = COMM_PROGRESS_POLL;
    else if (!strcmp(s, "thread")) *out = COMM_PROGRESS_THREAD;
    else if (!strcmp(s, "none")) *out = COMM_PROGRESS_NONE;
    else return DY_ERR(DY_EINVAL, "unknown progress mode \"%s\" (poll, thread or none)", s);
    return DY_OK;
}

/* Test every ACTIVE slot once; caller holds mu. */
static dy_status poll_locked(comm *c)
{
    for (int i = 0; i < COMM_MAX_REQS; i++) {
        if (c->slots[i].state != COMM_SLOT_ACTIVE) continue;
        int done = 0;
        DY_TRY(c->ops->test(c, i, &done));
        if (done) c->slots[i].state = COMM_SLOT_DONE;
    }
    return DY_OK;
}

/* Answer pending watchdog queries (caller holds mu). */
static void wd_service_locked(comm *c)
{
    for (;;) {
        int flag = 0, dummy;
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, WD_QUERY, c->wd, &flag, &st) != MPI_SUCCESS || !flag) return;
        MPI_Recv(&dummy, 1, MPI_INT, st.MPI_SOURCE, WD_QUERY, c->wd, MPI_STATUS_IGNORE);
        long started = c->seq;
        MPI_Send(&started, 1, MPI_LONG, st.MPI_SOURCE, WD_REPLY, c->wd); /* 8 bytes: eager */
    }
}

static void *progress_main(void *arg)
{
    comm *c = arg;
    while (!c->thr_stop) {
        pthread_mutex_lock(&c->mu);
        dy_status s = poll_locked(c);
        wd_service_locked(c);
        pthread_mutex_unlock(&c->mu);
        /* An error here resurfaces in the owner's comm_test/wait of the same slot. */
        (void)s;
        sleep_us(c->o.progress_us);
    }
    return NULL;
}

static dy_status pick_transport(comm *c)
{
    comm_transport t = c->o.transport;
    if (t == COMM_TRANSPORT_AUTO) {
        gpu_info gi;
        gpu_query(&gi);
        t = gi.device_count > 0 && gi.cuda_built ? COMM_TRANSPORT_NCCL : COMM_TRANSPORT_MPI;
    }
    if (t == COMM_TRANSPORT_NCCL) {
        gpu_info gi;
        gpu_query(&gi);
        if (!gi.cuda_built || gi.device_count <= 0)
            return DY_ERR(DY_ENOGPU, "transport nccl needs a GPU, but rank %d has none (%s): "
                          "use dist.transport=mpi", c->rank, gi.reason);
        return comm_nccl_init(c);
    }
    return comm_mpi_init(c);
}

dy_status comm_create(MPI_Comm mpi, const comm_opts *o, comm **out)
{
    comm *c = calloc(1, sizeof *c);
    if (!c) return DY_ERR(DY_ENOMEM, "out of memory creating a communicator");
    c->o = *o;
    if (c->o.progress_us <= 0) c->o.progress_us = 2000;
    if (c->o.grace_s <= 0) c->o.grace_s = 1.0;
    c->mpi = c->wd = MPI_COMM_NULL;
    pthread_mutex_init(&c->mu, NULL);
    dy_status s = DY_OK;
    if (MPI_Comm_dup(mpi, &c->mpi) != MPI_SUCCESS || MPI_Comm_dup(mpi, &c->wd) != MPI_SUCCESS ||
        MPI_Comm_set_errhandler(c->mpi, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
        MPI_Comm_set_errhandler(c->wd, MPI_ERRORS_RETURN) != MPI_SUCCESS) {
        s = DY_ERR(DY_EMPI, "duplicating the communicator failed");
    }
    if (s == DY_OK) {
        MPI_Comm_rank(c->mpi, &c->rank);
        MPI_Comm_size(c->mpi, &c->size);
        s = pick_transport(c);
    }
    if (s == DY_OK && c->o.progress == COMM_PROGRESS_THREAD && c->ops->test) {
        if (pthread_create(&c->thr, NULL, progress_main, c) != 0)
            s = DY_ERR(DY_ENOMEM, "cannot start the communication progress thread");
        else
            c->thr_running = 1;
    }
    if (s != DY_OK) {
        comm_destroy(c);
        return s;
    }
    *out = c;
    return DY_OK;
}

void comm_destroy(comm *c)
{
    if (!c) return;
    if (c->thr_running) {
        c->thr_stop = 1;
        pthread_join(c->thr, NULL);
    }
    if (c->ops && c->ops->destroy) c->ops->destroy(c);
    if (c->mpi != MPI_COMM_NULL) MPI_Comm_free(&c->mpi);
    if (c->wd != MPI_COMM_NULL) MPI_Comm_free(&c->wd);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int comm_rank(const comm *c) { return c->rank; }
comm_progress comm_get_progress(const comm *c) { return c->o.progress; }
int comm_size(const comm *c) { return c->size; }
const char *comm_name(const comm *c) { return c->ops->name; }
MPI_Comm comm_mpi(const comm *c) { return c->mpi; }
void comm_stats_get(const comm *c, comm_stats *s) { *s = c->st; }
void comm_stats_reset(comm *c) { memset(&c->st, 0, sizeof c->st); }

/* Reserve a slot (caller holds mu). */
static dy_status slot_take(comm *c, const char *opname, void *buf, size_t n, comm_dtype t, int *slot)
{
    for (int i = 0; i < COMM_MAX_REQS; i++) {
        if (c->slots[i].state != COMM_SLOT_FREE) continue;
        comm_slot *s = &c->slots[i];
        memset(s, 0, sizeof *s);
        s->opname = opname;
        s->buf = buf;
        s->n = n;
        s->t = t;
        s->seq = c->seq++;
        s->req = MPI_REQUEST_NULL;
        *slot = i;
        c->st.collectives++;
        c->st.bytes += (double)n * (double)comm_dtype_size(t);
        return DY_OK;
    }
    return DY_ERR(DY_ERANGE, "more than %d collectives outstanding on rank %d: wait for some",
                  COMM_MAX_REQS, c->rank);
}

/* Start helper: reserve, launch, mark ACTIVE or release on failure. */
#define START(c, r, opname, buf, n, t, avgflag, launch)                                  \
    do {                                                                                 \
        int slot_;                                                                       \
        pthread_mutex_lock(&(c)->mu);                                                    \
        dy_status st_ = slot_take((c), (opname), (buf), (n), (t), &slot_);               \
        if (st_ == DY_OK) {                                                              \
            (c)->slots[slot_].avg = (avgflag);                                           \
            int slot = slot_;                                                            \
            st_ = (launch);                                                              \
            (c)->slots[slot_].state = st_ == DY_OK ? COMM_SLOT_ACTIVE : COMM_SLOT_FREE;  \
        }                                                                                \
        pthread_mutex_unlock(&(c)->mu);                                                  \
        if (st_ != DY_OK) return st_;                                                    \
        *(r) = slot_;                                                                    \
        return DY_OK;                                                                    \
    } while (0)

dy_status comm_allreduce(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op, comm_req *r)
{
    *r = COMM_REQ_NONE;
    START(c, r, "allreduce", buf, n, t, op == COMM_AVG, c->ops->allreduce(c, buf, n, t, op, slot));
}

dy_status comm_broadcast(comm *c, void *buf, size_t n, comm_dtype t, int root, comm_req *r)
{
    *r = COMM_REQ_NONE;
    if (root < 0 || root >= c->size)
        return DY_ERR(DY_EINVAL, "broadcast root %d outside 0..%d", root, c->size - 1);
    START(c, r, "broadcast", buf, n, t, 0, c->ops->broadcast(c, buf, n, t, root, slot));
}

dy_status comm_allgatherv(comm *c, const void *send, size_t n, void *recv, const int *counts,
                          const int *displs, comm_dtype t, comm_req *r)
{
    *r = COMM_REQ_NONE;
    START(c, r, "allgatherv", recv, n, t, 0, c->ops->allgatherv(c, send, n, recv, counts, displs, t, slot));
}

dy_status comm_allgather(comm *c, const void *send, size_t n, void *recv, comm_dtype t, comm_req *r)
{
    *r = COMM_REQ_NONE;
    START(c, r, "allgather", recv, n, t, 0, c->ops->allgatherv(c, send, n, recv, NULL, NULL, t, slot));
}

dy_status comm_barrier(comm *c, comm_req *r)
{
    *r = COMM_REQ_NONE;
    START(c, r, "barrier", NULL, 0, COMM_U8, 0, c->ops->barrier(c, slot));
}

static dy_status check_req(const comm *c, comm_req r)
{
    if (r < 0 || r >= COMM_MAX_REQS || c->slots[r].state == COMM_SLOT_FREE)
        return DY_ERR(DY_EINVAL, "rank %d: waiting on request %d that is not outstanding", c->rank, r);
    return DY_OK;
}

dy_status comm_test(comm *c, comm_req r, int *done)
{
    *done = 0;
    pthread_mutex_lock(&c->mu);
    dy_status s = check_req(c, r);
    if (s == DY_OK && c->slots[r].state == COMM_SLOT_ACTIVE) {
        s = c->ops->test(c, r, done);
        if (s == DY_OK && *done) c->slots[r].state = COMM_SLOT_DONE;
    }
    if (s == DY_OK && c->slots[r].state == COMM_SLOT_DONE) {
        c->slots[r].state = COMM_SLOT_FREE;
        *done = 1;
    }
    pthread_mutex_unlock(&c->mu);
    return s;
}

dy_status comm_poll(comm *c)
{
    if (c->o.progress != COMM_PROGRESS_POLL) return DY_OK;
    pthread_mutex_lock(&c->mu);
    dy_status s = poll_locked(c);
    pthread_mutex_unlock(&c->mu);
    return s;
}

/* On timeout: ask every other rank how many collectives it has started, answer
 * the same question from others, and classify the ranks for the message. */
static void wd_classify(const comm *c, const long *started, long mine, char *out, size_t len)
{
    int n = 0;
    out[0] = 0;
    for (int i = 0; i < c->size; i++) {
        size_t u = strlen(out);
        if (i == c->rank || started[i] > mine || u > len - 64) continue;
        if (started[i] < 0)
            snprintf(out + u, len - u, "%s%d (no answer: dead, hung or computing)", n++ ? ", " : "", i);
        else
            snprintf(out + u, len - u, "%s%d (has started only %ld collective(s))", n++ ? ", " : "", i, started[i]);
    }
    if (!n) snprintf(out, len, "none (every rank reached it: the transport itself is stuck)");
}

static dy_status watchdog_fire(comm *c, comm_req r, double waited)
{
    const comm_slot *sl = &c->slots[r];
    long mine = sl->seq;
    long *started = malloc(sizeof(long) * (size_t)c->size);
    MPI_Request *q = malloc(sizeof(MPI_Request) * (size_t)c->size);
    char who[1024] = "unknown (out of memory)";
    static const int dummy = 0;
    if (started && q) {
        for (int i = 0; i < c->size; i++) {
            started[i] = i == c->rank ? c->seq : -1;
            q[i] = MPI_REQUEST_NULL;
            if (i != c->rank) MPI_Isend(&dummy, 1, MPI_INT, i, WD_QUERY, c->wd, &q[i]);
        }
        int pending = c->size - 1;
        double t0 = timer_now();
        while (pending > 0 && timer_now() - t0 < c->o.grace_s) {
            wd_service_locked(c);
            int flag = 0;
            MPI_Status st;
            MPI_Iprobe(MPI_ANY_SOURCE, WD_REPLY, c->wd, &flag, &st);
            if (!flag) {
                sleep_us(1000);
                continue;
            }
            MPI_Recv(&started[st.MPI_SOURCE], 1, MPI_LONG, st.MPI_SOURCE, WD_REPLY, c->wd, MPI_STATUS_IGNORE);
            pending--;
        }
        wd_classify(c, started, mine, who, sizeof who);
    }
    /* Queries to dead peers may never complete; the caller aborts the job anyway. */
    free(started);
    free(q);
    if (c->ops->abort) c->ops->abort(c);
    return DY_ERR(DY_ETIMEOUT,
                  "watchdog: %s #%ld (%zu x %zu-byte elements, transport %s) did not complete within "
                  "%.1f s on rank %d; ranks that did not arrive: %s (dist.timeout_s sets the limit)",
                  sl->opname, mine, sl->n, comm_dtype_size(sl->t), c->ops->name, waited, c->rank, who);
}

dy_status comm_wait(comm *c, comm_req r)
{
    double t0 = timer_now();
    long spins = 0;
    for (;;) {
        int done = 0;
        dy_status s = comm_test(c, r, &done);
        if (s != DY_OK || done) {
            c->st.wait_s += timer_now() - t0;
            return s;
        }
        if (c->ops->check_async) DY_TRY(c->ops->check_async(c));
        if ((spins & 63) == 0) {
            pthread_mutex_lock(&c->mu);
            wd_service_locked(c);
            pthread_mutex_unlock(&c->mu);
        }
        double waited = timer_now() - t0;
        if (c->o.timeout_s > 0 && waited > c->o.timeout_s) {
            c->st.wait_s += waited;
            pthread_mutex_lock(&c->mu);
            s = watchdog_fire(c, r, waited);
            pthread_mutex_unlock(&c->mu);
            return s;
        }
        /* Spin for latency first, then back off so a waiting rank leaves the core to
         * others (oversubscribed CI, the progress thread). */
        if (++spins > 2000) sleep_us(50);
    }
}

dy_status comm_wait_all(comm *c)
{
    for (int i = 0; i < COMM_MAX_REQS; i++)
        if (c->slots[i].state != COMM_SLOT_FREE) DY_TRY(comm_wait(c, i));
    return DY_OK;
}

dy_status comm_allreduce_sync(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op)
{
    comm_req r;
    DY_TRY(comm_allreduce(c, buf, n, t, op, &r));
    return comm_wait(c, r);
}

dy_status comm_allreduce_host(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op)
{
    if (!strcmp(c->ops->name, "mpi")) return comm_allreduce_sync(c, buf, n, t, op);
    MPI_Datatype dt = t == COMM_U32 ? MPI_UINT32_T : t == COMM_I32 ? MPI_INT32_T : MPI_FLOAT;
    if ((t != COMM_U32 && t != COMM_I32 && t != COMM_F32) || op == COMM_AVG || n > INT32_MAX)
        return DY_ERR(DY_EINVAL, "comm_allreduce_host: only sums or maxima of i32/u32/f32 (got type %d, op %d)",
                      (int)t, (int)op);
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, dt, op == COMM_MAX ? MPI_MAX : MPI_SUM, c->mpi));
    return DY_OK;
}

dy_status comm_broadcast_sync(comm *c, void *buf, size_t n, comm_dtype t, int root)
{
    comm_req r;
    DY_TRY(comm_broadcast(c, buf, n, t, root, &r));
    return comm_wait(c, r);
}
