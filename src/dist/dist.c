/* dist.c -- MPI start-up and communicators, rank -> GPU mapping, finalize and the one
 * abort path (see dist.h). */
#include "dist/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/crc32c.h"
#include "core/fault.h"
#include "core/gpu.h"
#include "core/log.h"
#include "dist/watchdog.h"

dy_status dist_init_comms(dist_ctx *d)
{
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &d->world));
    MPI_CHECK(MPI_Comm_rank(d->world, &d->rank));
    MPI_CHECK(MPI_Comm_size(d->world, &d->size));
    MPI_CHECK(MPI_Comm_split_type(d->world, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &d->node));
    MPI_CHECK(MPI_Comm_rank(d->node, &d->local_rank));
    MPI_CHECK(MPI_Comm_size(d->node, &d->local_size));
    /* All ranks with the same local rank form one cross-node communicator; ordering
     * by world rank makes its rank the node index when nodes hold contiguous ranks. */
    MPI_CHECK(MPI_Comm_split(d->world, d->local_rank, d->rank, &d->cross));
    MPI_CHECK(MPI_Comm_rank(d->cross, &d->node_index));
    MPI_CHECK(MPI_Comm_size(d->cross, &d->nnodes));
    int len = 0;
    char name[MPI_MAX_PROCESSOR_NAME + 1] = {0};
    MPI_CHECK(MPI_Get_processor_name(name, &len));
    memcpy(d->node_name, name, sizeof d->node_name);
    log_set_node(d->node_name);
    /* Uneven nodes make the cross communicators differ in size; the hierarchical
     * path must then not be used, which callers learn from nnodes per comm. */
    return DY_OK;
}

dy_status dist_init(int *argc, char ***argv, dist_ctx *d)
{
    memset(d, 0, sizeof *d);
    d->world = d->node = d->cross = MPI_COMM_NULL;
    int inited = 0, provided = 0;
    MPI_CHECK(MPI_Initialized(&inited));
    if (!inited) {
        int rc = MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
        if (rc != MPI_SUCCESS) return DY_ERR(DY_EMPI, "MPI_Init_thread failed (code %d)", rc);
        d->initialized_mpi = 1;
    } else {
        MPI_CHECK(MPI_Query_thread(&provided));
    }
    if (provided < MPI_THREAD_MULTIPLE)
        return DY_ERR(DY_EMPI, "MPI grants thread level %d, dyolo needs MPI_THREAD_MULTIPLE (%d): "
                      "use an MPI built with thread support", provided, MPI_THREAD_MULTIPLE);
    DY_TRY(dist_init_comms(d));
    fault_setup(d->rank);
    /* One rank has no peer to wait for. */
    return d->size > 1 ? dist_watchdog_start(d->rank, DIST_TIMEOUT_DEFAULT_S) : DY_OK;
}

void dist_finalize(dist_ctx *d)
{
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (!inited || fin) {
        dist_watchdog_stop();
        return;
    }
    MPI_Comm *cs[] = {&d->cross, &d->node, &d->world};
    for (int i = 0; i < 3; i++)
        if (*cs[i] != MPI_COMM_NULL && *cs[i] != 0) MPI_Comm_free(cs[i]);
    /* HDF5 objects an error path left open (a parallel file, a file access list
     * holding a duplicated communicator) are closed now, while MPI still works:
     * else HDF5 closes them from inside MPI_Finalize, and Open MPI aborts with "The
     * MPI_File_close() function was called after MPI_FINALIZE was invoked". */
    if (d->initialized_mpi) H5close();
    /* MPI_Finalize is still watched (Open MPI waits there for every rank). */
    if (d->initialized_mpi) MPI_Finalize();
    dist_watchdog_stop();
}

_Noreturn void dist_abort(int code, const char *why)
{
    int inited = 0, fin = 0;
    log_error("aborting: %s", why ? why : "(no reason given)");
    fflush(stdout);
    fflush(stderr);
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (inited && !fin) MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
    exit(code ? code : 1);
}

/* ---- device mapping */

static int env_int(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) return -1;
    char *end;
    long x = strtol(v, &end, 10);
    return (*end || x < 0 || x > 1 << 20) ? -1 : (int)x;
}

void dist_devmap_from_env(dist_devmap_in *in)
{
    in->slurm_localid = env_int("SLURM_LOCALID");
    in->ompi_local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK");
    in->cuda_visible = getenv("CUDA_VISIBLE_DEVICES");
}

/* The idx-th comma-separated entry of list into buf; returns the number of entries. */
static int visible_entry(const char *list, int idx, char *buf, size_t len)
{
    int n = 0;
    const char *p = list;
    if (!*p) return 0;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (n == idx && buf) snprintf(buf, len, "%.*s", (int)l, p);
        n++;
        if (!e) break;
        p = e + 1;
    }
    return n;
}

static void add_warning(dist_devmap_out *o, const char *what, int got, int local_rank)
{
    size_t u = strlen(o->warning);
    snprintf(o->warning + u, sizeof o->warning - u, "%s%s=%d disagrees with the MPI node-local rank %d",
             u ? "; " : "", what, got, local_rank);
}

dy_status dist_map_device(const dist_devmap_in *in, int want_gpu, dist_devmap_out *out)
{
    memset(out, 0, sizeof *out);
    out->device = -1;
    const char *node = in->node_name ? in->node_name : "?";
    /* Under mpirun inside an allocation every rank inherits its Open MPI daemon's
     * SLURM_LOCALID (0): when Open MPI names the local rank, Slurm's is not the rank's. */
    if (in->slurm_localid >= 0 && in->ompi_local_rank < 0 && in->slurm_localid != in->local_rank)
        add_warning(out, "SLURM_LOCALID", in->slurm_localid, in->local_rank);
    if (in->ompi_local_rank >= 0 && in->ompi_local_rank != in->local_rank)
        add_warning(out, "OMPI_COMM_WORLD_LOCAL_RANK", in->ompi_local_rank, in->local_rank);
    if (!want_gpu) {
        snprintf(out->physical, sizeof out->physical, "cpu");
        return DY_OK;
    }
    int nvis = in->cuda_visible ? visible_entry(in->cuda_visible, -1, NULL, 0) : -1;
    if (nvis >= 0 && in->device_count > 0 && nvis != in->device_count) {
        size_t u = strlen(out->warning);
        snprintf(out->warning + u, sizeof out->warning - u,
                 "%sCUDA_VISIBLE_DEVICES=\"%s\" lists %d device(s) but the CUDA runtime sees %d",
                 u ? "; " : "", in->cuda_visible, nvis, in->device_count);
    }
    if (in->device_count <= 0 || nvis == 0)
        return DY_ERR(DY_ENOGPU, "node %s, local rank %d: no GPU visible%s%s%s", node, in->local_rank,
                      in->cuda_visible ? " (CUDA_VISIBLE_DEVICES=\"" : "",
                      in->cuda_visible ? in->cuda_visible : "", in->cuda_visible ? "\")" : "");
    /* Slurm's per-task binding (--gpus-per-task, --gpu-bind) gives every rank its own
     * single-entry CUDA_VISIBLE_DEVICES: each rank then uses its device 0. */
    if (nvis == 1 && in->device_count == 1 && in->local_size > 1) {
        out->device = 0;
        visible_entry(in->cuda_visible, 0, out->physical, sizeof out->physical);
        return DY_OK;
    }
    if (in->local_size > in->device_count)
        return DY_ERR(DY_ENOGPU,
                      "node %s runs %d ranks but has only %d GPU(s) visible%s%s%s: start at most %d "
                      "rank(s) per node (e.g. srun --ntasks-per-node=%d) or use runtime.device=cpu",
                      node, in->local_size, in->device_count,
                      in->cuda_visible ? " (CUDA_VISIBLE_DEVICES=\"" : "",
                      in->cuda_visible ? in->cuda_visible : "", in->cuda_visible ? "\")" : "",
                      in->device_count, in->device_count);
    out->device = in->local_rank;
    if (nvis > in->local_rank)
        visible_entry(in->cuda_visible, in->local_rank, out->physical, sizeof out->physical);
    else
        snprintf(out->physical, sizeof out->physical, "%d", in->local_rank);
    return DY_OK;
}

dy_status dist_select_device(const dist_ctx *d, int want_gpu, dist_devmap_out *out)
{
    gpu_info gi;
    gpu_query(&gi);
    dist_devmap_in in = {.local_rank = d->local_rank, .local_size = d->local_size,
                         .device_count = gi.device_count, .node_name = d->node_name};
    dist_devmap_from_env(&in);
    dy_status s = dist_map_device(&in, want_gpu, out);
    /* Every rank of the node learns whether all succeeded, so none waits below. */
    int ok = s == DY_OK, all_ok = 0;
    MPI_CHECK(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, d->node));
    if (s != DY_OK) return s;
    if (!all_ok) return DY_ERR(DY_ENOGPU, "another rank on node %s could not pick a GPU", d->node_name);
    if (out->warning[0]) log_warn("device mapping: %s", out->warning);
    if (!want_gpu) return DY_OK;
    char *all = malloc((size_t)d->local_size * sizeof out->physical);
    if (!all) return DY_ERR(DY_ENOMEM, "out of memory");
    int rc = MPI_Allgather(out->physical, (int)sizeof out->physical, MPI_CHAR, all, (int)sizeof out->physical,
                           MPI_CHAR, d->node);
    /* Every rank checks every pair, so all of the node fail together. */
    int da = -1, db = -1;
    size_t w = sizeof out->physical;
    for (int j = 1; rc == MPI_SUCCESS && j < d->local_size && da < 0; j++)
        for (int i = 0; i < j && da < 0; i++)
            if (!strcmp(all + (size_t)i * w, all + (size_t)j * w)) da = i, db = j;
    char gpu[sizeof out->physical] = "";
    if (da >= 0) memcpy(gpu, all + (size_t)da * w, w);
    free(all);
    MPI_CHECK(rc);
    if (da >= 0)
        return DY_ERR(DY_ENOGPU, "node %s: local ranks %d and %d would share GPU %s: give each rank its own "
                      "GPU (CUDA_VISIBLE_DEVICES / srun --gpus-per-task)", d->node_name, da, db, gpu);
    return DY_OK;
}

dy_status dist_agree(MPI_Comm comm, dy_status s)
{
    int rank, world;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    MPI_CHECK(MPI_Comm_size(comm, &world));
    /* MAX of (priority, -rank) packed in one int: the lowest rank among those with
     * the highest priority (0 ok, 1 timeout, 2 any other error) speaks. */
    int prio = s == DY_OK ? 0 : s == DY_ETIMEOUT ? 1 : 2;
    int mine = prio * world + (world - 1 - rank), best = 0;
    if (s != DY_OK) dist_watchdog_note(err_msg());
    int rc = MPI_Allreduce(&mine, &best, 1, MPI_INT, MPI_MAX, comm);
    if (s != DY_OK) dist_watchdog_note(NULL);
    MPI_CHECK(rc);
    if (best < world) return DY_OK;
    int root = world - 1 - best % world;
    char msg[2048];
    int code = (int)s;
    if (rank == root) snprintf(msg, sizeof msg, "%s", err_msg());
    MPI_CHECK(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, root, comm));
    MPI_CHECK(MPI_Bcast(&code, 1, MPI_INT, root, comm));
    /* Already attributed by an earlier agreement: do not stack "rank N:" prefixes. */
    if (world == 1 || !strncmp(msg, "rank ", 5)) return err_set((dy_status)code, "%s", msg);
    return err_set((dy_status)code, "rank %d: %s", root, msg);
}

dy_status dist_check_same(const dist_ctx *d, const char *text, const char *what)
{
    uint64_t mine[2] = {strlen(text), crc32c(text, strlen(text))};
    uint64_t *all = malloc(sizeof mine * (size_t)d->size);
    if (!all) return DY_ERR(DY_ENOMEM, "out of memory");
    int rc = MPI_Allgather(mine, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T, d->world);
    char bad[512] = "";
    int nbad = 0;
    for (int i = 1; rc == MPI_SUCCESS && i < d->size; i++) {
        if (all[2 * i] == all[0] && all[2 * i + 1] == all[1]) continue;
        size_t u = strlen(bad);
        if (u < sizeof bad - 16) snprintf(bad + u, sizeof bad - u, "%s%d", nbad ? "," : "", i);
        nbad++;
    }
    free(all);
    MPI_CHECK(rc);
    if (nbad)
        return DY_ERR(DY_EINVAL, "%s differs between ranks: rank(s) %s disagree with rank 0 (different "
                      "files or --set options per rank?)", what, bad);
    return DY_OK;
}

dy_status dist_split_batch(const dist_ctx *d, long global_batch, long *per_rank)
{
    if (global_batch <= 0 || global_batch % d->size != 0)
        return DY_ERR(DY_EINVAL, "train.batch_size=%ld is not divisible by the %d ranks: use a multiple of %d",
                      global_batch, d->size, d->size);
    *per_rank = global_batch / d->size;
    return DY_OK;
}
