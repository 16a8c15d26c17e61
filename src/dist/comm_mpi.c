/* comm_mpi.c -- the MPI transport: MPI_Iallreduce / MPI_Ibcast / MPI_Iallgather(v) /
 * MPI_Ibarrier on host buffers.
 *
 * f16: MPI (Open MPI 4.1) has no half-precision type, so f16 buffers travel as
 * MPI_UINT16_T with user-defined reduction operators that add (or take the max) in
 * float and round back; every rank applies the same operator tree, so results agree.
 * Averages are a sum divided by the world size when the request completes.
 *
 * defines: comm_mpi_init
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "dist/comm_impl.h"

typedef struct {
    MPI_Op f16_sum, f16_max;
} mpi_state;

static void f16_sum_fn(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    const _Float16 *a = in;
    _Float16 *b = inout;
    for (int i = 0; i < *len; i++) b[i] = (_Float16)((float)a[i] + (float)b[i]);
}

static void f16_max_fn(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    const _Float16 *a = in;
    _Float16 *b = inout;
    for (int i = 0; i < *len; i++)
        if ((float)a[i] > (float)b[i] || a[i] != a[i]) b[i] = a[i]; /* NaN wins: overflow stays visible */
}

static MPI_Datatype mpi_type(comm_dtype t)
{
    switch (t) {
    case COMM_F32: return MPI_FLOAT;
    case COMM_F16: return MPI_UINT16_T;
    case COMM_U32: return MPI_UINT32_T;
    case COMM_I32: return MPI_INT32_T;
    case COMM_U8: return MPI_UINT8_T;
    }
    return MPI_DATATYPE_NULL;
}

static dy_status check_count(const comm *c, size_t n)
{
    if (n > INT_MAX)
        return DY_ERR(DY_ERANGE, "rank %d: %zu elements exceed MPI's int count: split the buffer", c->rank, n);
    return DY_OK;
}

static dy_status mpi_allreduce(comm *c, void *buf, size_t n, comm_dtype t, comm_redop op, int slot)
{
    mpi_state *m = c->impl;
    DY_TRY(check_count(c, n));
    MPI_Op o;
    if (t == COMM_F16) o = op == COMM_MAX ? m->f16_max : m->f16_sum;
    else o = op == COMM_MAX ? MPI_MAX : MPI_SUM;
    if (op == COMM_AVG && t != COMM_F32 && t != COMM_F16)
        return DY_ERR(DY_EINVAL, "average all-reduce needs a float type");
    MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, mpi_type(t), o, c->mpi, &c->slots[slot].req));
    return DY_OK;
}

static dy_status mpi_broadcast(comm *c, void *buf, size_t n, comm_dtype t, int root, int slot)
{
    DY_TRY(check_count(c, n));
    MPI_CHECK(MPI_Ibcast(buf, (int)n, mpi_type(t), root, c->mpi, &c->slots[slot].req));
    return DY_OK;
}

static dy_status mpi_allgatherv(comm *c, const void *send, size_t n, void *recv, const int *counts,
                                const int *displs, comm_dtype t, int slot)
{
    DY_TRY(check_count(c, n));
    MPI_Datatype dt = mpi_type(t);
    if (!counts)
        MPI_CHECK(MPI_Iallgather(send, (int)n, dt, recv, (int)n, dt, c->mpi, &c->slots[slot].req));
    else
        MPI_CHECK(MPI_Iallgatherv(send, (int)n, dt, recv, counts, displs, dt, c->mpi, &c->slots[slot].req));
    return DY_OK;
}

static dy_status mpi_barrier(comm *c, int slot)
{
    MPI_CHECK(MPI_Ibarrier(c->mpi, &c->slots[slot].req));
    return DY_OK;
}

static void finish_avg(comm *c, comm_slot *s)
{
    float inv = 1.0f / (float)c->size;
    if (s->t == COMM_F32) {
        float *b = s->buf;
        for (size_t i = 0; i < s->n; i++) b[i] *= inv;
    } else {
        _Float16 *b = s->buf;
        for (size_t i = 0; i < s->n; i++) b[i] = (_Float16)((float)b[i] * inv);
    }
}

static dy_status mpi_test(comm *c, int slot, int *done)
{
    comm_slot *s = &c->slots[slot];
    MPI_CHECK(MPI_Test(&s->req, done, MPI_STATUS_IGNORE));
    if (*done && s->avg && c->size > 1) finish_avg(c, s);
    return DY_OK;
}

static void mpi_destroy(comm *c)
{
    mpi_state *m = c->impl;
    if (!m) return;
    MPI_Op_free(&m->f16_sum);
    MPI_Op_free(&m->f16_max);
    free(m);
    c->impl = NULL;
}

static const comm_ops mpi_ops = {
    .name = "mpi",
    .allreduce = mpi_allreduce,
    .broadcast = mpi_broadcast,
    .allgatherv = mpi_allgatherv,
    .barrier = mpi_barrier,
    .test = mpi_test,
    .check_async = NULL,
    .abort = NULL, /* MPI_Abort on the one abort path ends outstanding requests */
    .destroy = mpi_destroy,
};

dy_status comm_mpi_init(comm *c)
{
    mpi_state *m = calloc(1, sizeof *m);
    if (!m) return DY_ERR(DY_ENOMEM, "out of memory");
    c->impl = m;
    c->ops = &mpi_ops;
    MPI_CHECK(MPI_Op_create(f16_sum_fn, 1, &m->f16_sum));
    MPI_CHECK(MPI_Op_create(f16_max_fn, 1, &m->f16_max));
    return DY_OK;
}
