/* comm_impl.h -- what transports (comm_mpi.c, cuda/comm_nccl.cu) share with the
 * common layer (comm.c): the comm struct and its request slots.  Not for users.
 *
 * A slot goes FREE -> ACTIVE (collective started) -> DONE (a test saw it finish,
 * maybe on the progress thread) -> FREE (the owner collected it with test/wait).
 * `mu` guards the slots: the progress thread and the owner both test them.
 *
 * defines: struct comm, comm_slot, COMM_SLOT_*, comm_mpi_init, comm_nccl_init
 */
#ifndef DY_DIST_COMM_IMPL_H
#define DY_DIST_COMM_IMPL_H

#include <pthread.h>

#include "dist/comm.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { COMM_SLOT_FREE = 0, COMM_SLOT_ACTIVE, COMM_SLOT_DONE };

typedef struct {
    int state;
    const char *opname; /* "allreduce", ... for watchdog messages */
    size_t n;
    comm_dtype t;
    void *buf;          /* for the average's division on completion */
    int avg;
    long seq;           /* collective sequence number (same on every rank) */
    MPI_Request req;    /* MPI transport */
    void *tp;           /* transport data (NCCL: a cudaEvent_t) */
} comm_slot;

struct comm {
    const comm_ops *ops;
    MPI_Comm mpi;        /* duplicated; collectives */
    MPI_Comm wd;         /* duplicated; watchdog side channel only */
    int rank, size;
    comm_opts o;
    comm_slot slots[COMM_MAX_REQS];
    long seq;
    comm_stats st;
    pthread_mutex_t mu;
    pthread_t thr;
    int thr_running;
    volatile int thr_stop;
    void *impl;          /* transport state */
};

dy_status comm_mpi_init(comm *c);  /* comm_mpi.c */
dy_status comm_nccl_init(comm *c); /* cuda/comm_nccl.cu, or comm_nccl_none.c */

#ifdef __cplusplus
}
#endif

#endif
