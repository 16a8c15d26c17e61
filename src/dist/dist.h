/* dist.h -- the distributed runtime: MPI start-up, communicators, rank -> GPU mapping,
 * and the single finalize / abort path of the program.
 *
 * dist_init starts MPI with MPI_THREAD_MULTIPLE (the progress thread and the loader
 * threads may call MPI), installs MPI_ERRORS_RETURN on the world communicator (so
 * MPI_CHECK sees failures as values), and builds:
 *   world  -- a duplicate of MPI_COMM_WORLD (library traffic never mixes with others)
 *   node   -- ranks sharing memory (MPI_Comm_split_type SHARED): node-local rank/size
 *   cross  -- one communicator per node-local rank, spanning nodes (hierarchical
 *             reductions: reduce on node, all-reduce across, broadcast on node)
 * Node names go to log_set_node so multi-node logs say where a line came from.
 *
 * dist_map_device is a pure function (unit-tested without MPI or GPUs): node-local
 * rank r uses the r-th visible device; it reports disagreement between the MPI
 * local rank, SLURM_LOCALID and OMPI_COMM_WORLD_LOCAL_RANK, and fails clearly when a
 * node has more ranks than GPUs.
 *
 * dist_abort is the only place in dyolo that calls MPI_Abort.
 *
 * Failures: a rank that fails must not leave the others in a collective it will
 * never join.  Where all ranks reach the same point, dist_agree turns one rank's
 * error into everyone's (attributed "rank K: ..."); elsewhere the CLI prints the
 * error and takes dist_abort (cli_fail_dist), and the watchdog thread
 * (watchdog.h) ends ranks blocked in MPI when a peer stopped or died.
 *
 * defines: dist_ctx, dist_init, dist_init_comms, dist_finalize, dist_abort, dist_agree,
 *          dist_devmap_in, dist_devmap_out, dist_map_device, dist_devmap_from_env,
 *          dist_select_device, dist_check_same, dist_split_batch
 */
#ifndef DY_DIST_DIST_H
#define DY_DIST_DIST_H

#include <mpi.h>

#include "core/err.h"

#define DIST_NODE_NAME_MAX (MPI_MAX_PROCESSOR_NAME + 1)

typedef struct {
    MPI_Comm world, node, cross;
    int rank, size;             /* world */
    int local_rank, local_size; /* within the node */
    int node_index, nnodes;     /* rank of this node among nodes (cross comm rank) */
    char node_name[DIST_NODE_NAME_MAX];
    int initialized_mpi;        /* dist_init called MPI_Init_thread (so finalize does) */
} dist_ctx;

/* Start MPI (if not already started) and build the communicators. */
dy_status dist_init(int *argc, char ***argv, dist_ctx *d);
/* Build the communicators on an already-initialized MPI (tests). */
dy_status dist_init_comms(dist_ctx *d);
/* Free communicators; when dist_init started MPI, shut HDF5 down (closing what an
 * error path left open, collectively) and MPI_Finalize.  Safe on a zeroed ctx. */
void dist_finalize(dist_ctx *d);
/* The one abort path: logs "aborting: <why>" from this rank and calls MPI_Abort on
 * MPI_COMM_WORLD (which kills every rank of the job).  Falls back to exit() when MPI
 * is not running. */
_Noreturn void dist_abort(int code, const char *why);

/* Collective on comm: every rank passes its own status; all return DY_OK or the
 * same error, the message of the lowest failing rank prefixed "rank K: " (not
 * twice).  A cause beats a consequence: a rank's own error is preferred to a
 * watchdog timeout (DY_ETIMEOUT) of a rank that waited for it. */
dy_status dist_agree(MPI_Comm comm, dy_status s);
/* Collective on d->world: every rank passes its own text (e.g. the effective config
 * as JSON); a difference from rank 0 is DY_EINVAL naming the ranks and `what`.
 * Compared by length + CRC-32C, so only hashes travel. */
dy_status dist_check_same(const dist_ctx *d, const char *text, const char *what);
/* global_batch split over the world: DY_EINVAL when it does not divide evenly. */
dy_status dist_split_batch(const dist_ctx *d, long global_batch, long *per_rank);

/* ---- rank -> GPU mapping (pure) */
typedef struct {
    int local_rank, local_size; /* from MPI_Comm_split_type */
    int slurm_localid;          /* SLURM_LOCALID, -1 when unset */
    int ompi_local_rank;        /* OMPI_COMM_WORLD_LOCAL_RANK, -1 when unset */
    const char *cuda_visible;   /* CUDA_VISIBLE_DEVICES, NULL when unset */
    int device_count;           /* devices the CUDA runtime reports (after masking) */
    const char *node_name;      /* for messages */
} dist_devmap_in;

typedef struct {
    int device;           /* CUDA device ordinal to cudaSetDevice(), -1: CPU */
    char physical[64];    /* the CUDA_VISIBLE_DEVICES entry (or the ordinal) */
    char warning[512];    /* non-empty when the environment disagrees (not fatal) */
} dist_devmap_out;

/* want_gpu 0: CPU, device -1, never fails.  want_gpu 1: error (DY_ENOGPU) when
 * the node has no GPU or fewer GPUs than local ranks. */
dy_status dist_map_device(const dist_devmap_in *in, int want_gpu, dist_devmap_out *out);
/* Fill the environment fields from getenv (local rank/size and count by caller). */
void dist_devmap_from_env(dist_devmap_in *in);
/* The whole decision for this rank: environment + gpu_query + dist_map_device, then
 * (collective on the node communicator) a check that no two ranks of the node
 * picked the same physical GPU.  Warnings are logged once per rank. */
dy_status dist_select_device(const dist_ctx *d, int want_gpu, dist_devmap_out *out);

#endif
