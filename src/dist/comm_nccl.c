/* comm_nccl.c -- the NCCL transport as a comm: the MPI half of the bootstrap
 * (ncclGetUniqueId on rank 0, MPI_Bcast to all) and the ops table over the C entry
 * points of cuda/comm_nccl.cu (or their CPU-only stand-ins). */
#include "core/check.h"
#include "comm_nccl.h"
#include "dist/comm_impl.h"

static dnccl *D(comm *c) { return (dnccl *)c->impl; }

static dy_status n_allreduce(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op, int slot)
{ return dnccl_allreduce(D(c), buf, n, t, op, slot); }
static dy_status n_broadcast(comm *c, void *buf, size_t n, comm_dtype t, int root, int slot)
{ return dnccl_broadcast(D(c), buf, n, t, root, slot); }
static dy_status n_allgatherv(comm *c, const void *send, size_t n, void *recv, const int *counts,
                              const int *displs, comm_dtype t, int slot)
{ return dnccl_allgatherv(D(c), send, n, recv, counts, displs, t, slot); }
static dy_status n_barrier(comm *c, int slot) { return dnccl_barrier(D(c), slot); }
static dy_status n_test(comm *c, int slot, int *done) { return dnccl_test(D(c), slot, done); }
static dy_status n_check(comm *c) { return dnccl_async_error(D(c)); }
static void n_abort(comm *c) { dnccl_abort(D(c)); }
static void n_destroy(comm *c)
{
    dnccl_destroy(D(c));
    c->impl = NULL;
}

static const comm_ops nccl_ops = {
    .name = "nccl",
    .allreduce = n_allreduce,
    .broadcast = n_broadcast,
    .allgatherv = n_allgatherv,
    .barrier = n_barrier,
    .test = n_test,
    .check_async = n_check,
    .abort = n_abort,
    .destroy = n_destroy,
};

dy_status comm_nccl_init(comm *c)
{
    unsigned char id[DNCCL_ID_BYTES] = {0};
    int ok = 1, all_ok = 0;
    /* Rank 0's failure must not leave the others waiting in MPI_Bcast: share it. */
    dy_status s = c->rank == 0 ? dnccl_unique_id(id) : DY_OK;
    if (s != DY_OK) ok = 0;
    MPI_CHECK(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, c->mpi));
    if (!all_ok) return s != DY_OK ? s : DY_ERR(DY_ECUDA, "rank 0 could not create the NCCL unique id");
    MPI_CHECK(MPI_Bcast(id, DNCCL_ID_BYTES, MPI_BYTE, 0, c->mpi));
    dnccl *d = NULL;
    s = dnccl_create(id, c->rank, c->size, c->o.device < 0 ? 0 : c->o.device, COMM_MAX_REQS, c->o.timeout_s, &d);
    if (s == DY_OK && c->o.compute_stream) s = dnccl_follow_stream(d, c->o.compute_stream);
    c->impl = d;
    c->ops = &nccl_ops;
    return s;
}
