/* mpi_watch.c -- every blocking MPI call of the process under the watchdog.
 *
 * Through the MPI profiling interface (MPI standard, ch. 15: each MPI_X is also
 * callable as PMPI_X), these definitions replace the library's entry points for
 * the calls that can block on another rank: collectives, collective file
 * operations, communicator creation, waits.  They are linked into the dyolo
 * executable, which also exports them to the shared libraries, so HDF5's calls
 * inside H5Fclose, H5Dwrite, ... are watched as well as dyolo's own.  Each call is
 * bracketed by dist_watch_begin/end (watchdog.h) and otherwise unchanged.
 * Non-blocking calls (MPI_Iallreduce, MPI_Test, ...) and purely local ones are
 * not wrapped.
 *
 * defines: the wrapped MPI_* functions listed below
 */
#include <mpi.h>

#include "dist/watchdog.h"

#define WATCH(name, call)                     \
    do {                                      \
        int tok_ = dist_watch_begin(name);    \
        int rc_ = (call);                     \
        dist_watch_end(tok_);                 \
        return rc_;                           \
    } while (0)

/* ---- collectives */
int MPI_Allreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    WATCH("MPI_Allreduce", PMPI_Allreduce(s, r, n, t, op, c));
}

int MPI_Reduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm c)
{
    WATCH("MPI_Reduce", PMPI_Reduce(s, r, n, t, op, root, c));
}

int MPI_Bcast(void *b, int n, MPI_Datatype t, int root, MPI_Comm c)
{
    WATCH("MPI_Bcast", PMPI_Bcast(b, n, t, root, c));
}

int MPI_Barrier(MPI_Comm c)
{
    WATCH("MPI_Barrier", PMPI_Barrier(c));
}

int MPI_Allgather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, MPI_Comm c)
{
    WATCH("MPI_Allgather", PMPI_Allgather(s, sn, st, r, rn, rt, c));
}

int MPI_Allgatherv(const void *s, int sn, MPI_Datatype st, void *r, const int rn[], const int d[], MPI_Datatype rt,
                   MPI_Comm c)
{
    WATCH("MPI_Allgatherv", PMPI_Allgatherv(s, sn, st, r, rn, d, rt, c));
}

int MPI_Gather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, int root, MPI_Comm c)
{
    WATCH("MPI_Gather", PMPI_Gather(s, sn, st, r, rn, rt, root, c));
}

int MPI_Gatherv(const void *s, int sn, MPI_Datatype st, void *r, const int rn[], const int d[], MPI_Datatype rt,
                int root, MPI_Comm c)
{
    WATCH("MPI_Gatherv", PMPI_Gatherv(s, sn, st, r, rn, d, rt, root, c));
}

int MPI_Scatterv(const void *s, const int sn[], const int d[], MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                 int root, MPI_Comm c)
{
    WATCH("MPI_Scatterv", PMPI_Scatterv(s, sn, d, st, r, rn, rt, root, c));
}

/* ---- waits on other ranks */
int MPI_Wait(MPI_Request *q, MPI_Status *st)
{
    WATCH("MPI_Wait", PMPI_Wait(q, st));
}

int MPI_Waitall(int n, MPI_Request q[], MPI_Status *st)
{
    WATCH("MPI_Waitall", PMPI_Waitall(n, q, st));
}

int MPI_Mprobe(int src, int tag, MPI_Comm c, MPI_Message *m, MPI_Status *st)
{
    WATCH("MPI_Mprobe", PMPI_Mprobe(src, tag, c, m, st));
}

/* ---- collective file operations (parallel HDF5) */
int MPI_File_open(MPI_Comm c, const char *name, int amode, MPI_Info info, MPI_File *fh)
{
    WATCH("MPI_File_open", PMPI_File_open(c, name, amode, info, fh));
}

int MPI_File_close(MPI_File *fh)
{
    WATCH("MPI_File_close", PMPI_File_close(fh));
}

int MPI_File_set_size(MPI_File fh, MPI_Offset size)
{
    WATCH("MPI_File_set_size", PMPI_File_set_size(fh, size));
}

int MPI_File_set_view(MPI_File fh, MPI_Offset disp, MPI_Datatype et, MPI_Datatype ft, const char *rep, MPI_Info info)
{
    WATCH("MPI_File_set_view", PMPI_File_set_view(fh, disp, et, ft, rep, info));
}

int MPI_File_sync(MPI_File fh)
{
    WATCH("MPI_File_sync", PMPI_File_sync(fh));
}

int MPI_File_set_atomicity(MPI_File fh, int flag)
{
    WATCH("MPI_File_set_atomicity", PMPI_File_set_atomicity(fh, flag));
}

int MPI_File_read_at_all(MPI_File fh, MPI_Offset off, void *b, int n, MPI_Datatype t, MPI_Status *st)
{
    WATCH("MPI_File_read_at_all", PMPI_File_read_at_all(fh, off, b, n, t, st));
}

int MPI_File_write_at_all(MPI_File fh, MPI_Offset off, const void *b, int n, MPI_Datatype t, MPI_Status *st)
{
    WATCH("MPI_File_write_at_all", PMPI_File_write_at_all(fh, off, b, n, t, st));
}

/* ---- communicators and the end of MPI (Open MPI's MPI_Finalize waits for all) */
int MPI_Comm_dup(MPI_Comm c, MPI_Comm *out)
{
    WATCH("MPI_Comm_dup", PMPI_Comm_dup(c, out));
}

int MPI_Comm_split(MPI_Comm c, int color, int key, MPI_Comm *out)
{
    WATCH("MPI_Comm_split", PMPI_Comm_split(c, color, key, out));
}

int MPI_Comm_split_type(MPI_Comm c, int type, int key, MPI_Info info, MPI_Comm *out)
{
    WATCH("MPI_Comm_split_type", PMPI_Comm_split_type(c, type, key, info, out));
}

int MPI_Finalize(void)
{
    WATCH("MPI_Finalize", PMPI_Finalize());
}
