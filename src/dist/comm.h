/* comm.h -- the communication interface: asynchronous collectives with completion
 * handles over one of two transports (MPI on host buffers, NCCL on device buffers),
 * with progress polling and a watchdog.
 *
 * Every collective returns at once with a comm_req (a slot in a fixed table: no
 * allocation per step); comm_test / comm_wait complete it.  "avg" is a sum followed
 * by a division by the world size, done when the request completes.
 *
 * Progress: non-blocking MPI collectives only move while some thread is inside MPI
 * (HPC-STACK-FACTS.md).  COMM_PROGRESS_POLL leaves that to comm_poll(), which the
 * DDP layer calls from grad_ready (i.e. between layers of backward);
 * COMM_PROGRESS_THREAD starts a thread that calls MPI_Test on outstanding requests
 * every `progress_us` microseconds.  bench allreduce measures which hides more.
 *
 * Watchdog: comm_wait gives up after `timeout_s` and returns DY_ETIMEOUT with a
 * message naming the operation, its sequence number and the ranks that did not
 * reach it.  It learns those by a side channel used only on timeout: the timed-out
 * rank asks every other rank how many collectives it has started; ranks answer
 * from their own comm_wait loop (or, in thread mode, from the progress thread, even
 * while computing).  Ranks that started fewer collectives, or give no answer within
 * the grace period (dead, hung, or computing without a progress thread), are named.
 * The caller then takes the one abort path (dist_abort).
 *
 * Ordering contract (as for MPI and NCCL): all ranks start the same collectives in
 * the same order.
 *
 * defines: comm, comm_req, comm_dtype, comm_redop, comm_progress, comm_opts,
 *          comm_ops, comm_stats, comm_create, comm_destroy, comm_allreduce,
 *          comm_broadcast, comm_allreduce_host, comm_allgather, comm_allgatherv, comm_barrier, comm_test,
 *          comm_wait, comm_wait_all, comm_poll, comm_get_progress, comm_rank, comm_size, comm_name,
 *          comm_stats_get, comm_dtype_size, comm_transport_parse, COMM_MAX_REQS
 */
#ifndef DY_DIST_COMM_H
#define DY_DIST_COMM_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "core/err.h"
#include "dist/comm_types.h"

#define COMM_MAX_REQS 256

typedef int comm_req; /* slot index; COMM_REQ_NONE when nothing is outstanding */
#define COMM_REQ_NONE (-1)

typedef enum { COMM_PROGRESS_POLL = 0, COMM_PROGRESS_THREAD, COMM_PROGRESS_NONE } comm_progress;
typedef enum { COMM_TRANSPORT_AUTO = 0, COMM_TRANSPORT_MPI, COMM_TRANSPORT_NCCL } comm_transport;

typedef struct {
    comm_transport transport;
    comm_progress progress;
    int progress_us;   /* progress-thread period (default 2000) */
    double timeout_s;  /* watchdog; <= 0 disables it */
    double grace_s;    /* how long a timed-out rank listens for others (default 1) */
    int device;        /* NCCL: CUDA device (from dist_map_device) */
    void *compute_stream; /* NCCL: the backend's stream (cudaStream_t); each collective
                           * waits for the work queued on it so far (NULL: none) */
} comm_opts;

typedef struct {
    long collectives;     /* collectives started */
    double wait_s;        /* time spent inside comm_wait (exposed communication) */
    double bytes;         /* payload bytes started */
} comm_stats;

typedef struct comm comm;

/* Transport operations; each implements a collective start or a completion test.
 * Internal to src/dist and cuda/ (users call the comm_* functions). */
typedef struct {
    const char *name;
    dy_status (*allreduce)(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op, int slot);
    dy_status (*broadcast)(comm *c, void *buf, size_t n, comm_dtype t, int root, int slot);
    dy_status (*allgatherv)(comm *c, const void *send, size_t n, void *recv, const int *counts,
                            const int *displs, comm_dtype t, int slot);
    dy_status (*barrier)(comm *c, int slot);
    dy_status (*test)(comm *c, int slot, int *done);
    dy_status (*check_async)(comm *c); /* transport-side failure (NCCL async error) */
    void (*abort)(comm *c);            /* make outstanding work give up (ncclCommAbort) */
    void (*destroy)(comm *c);
} comm_ops;

/* mpi: the communicator to work on (duplicated inside; MPI_ERRORS_RETURN set). */
dy_status comm_create(MPI_Comm mpi, const comm_opts *o, comm **out);
void comm_destroy(comm *c);

dy_status comm_allreduce(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op, comm_req *r);
dy_status comm_broadcast(comm *c, void *buf, size_t n, comm_dtype t, int root, comm_req *r);
/* Every rank contributes n elements; recv holds size*n in rank order. */
dy_status comm_allgather(comm *c, const void *send, size_t n, void *recv, comm_dtype t, comm_req *r);
/* counts/displs in elements, must stay valid until completion. */
dy_status comm_allgatherv(comm *c, const void *send, size_t n, void *recv, const int *counts,
                          const int *displs, comm_dtype t, comm_req *r);
dy_status comm_barrier(comm *c, comm_req *r);

dy_status comm_test(comm *c, comm_req r, int *done); /* done: request freed */
dy_status comm_wait(comm *c, comm_req r);            /* watchdog-bounded */
dy_status comm_wait_all(comm *c);
dy_status comm_poll(comm *c); /* push progress on every outstanding request */

int comm_rank(const comm *c);
comm_progress comm_get_progress(const comm *c);
int comm_size(const comm *c);
const char *comm_name(const comm *c);
MPI_Comm comm_mpi(const comm *c); /* the duplicated MPI communicator (bootstrap, tests) */
void comm_stats_get(const comm *c, comm_stats *s);
void comm_stats_reset(comm *c);
size_t comm_dtype_size(comm_dtype t);
dy_status comm_transport_parse(const char *s, comm_transport *out);
dy_status comm_progress_parse(const char *s, comm_progress *out);

/* Blocking conveniences (start + wait). */
dy_status comm_allreduce_sync(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op);
/* A small all-reduce of HOST memory whatever the transport (flags, counters): on MPI
 * the ordinary collective (watchdog included); on NCCL, which reduces device buffers
 * only, a blocking MPI_Allreduce over the same ranks.  Sum or max of i32/u32/f32. */
dy_status comm_allreduce_host(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op);
dy_status comm_broadcast_sync(comm *c, void *buf, size_t n, comm_dtype t, int root);

#endif
