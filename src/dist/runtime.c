/* runtime.c -- choosing and opening a rank's backend and transport together (see
 * runtime.h), and the `runtime` configuration section. */
#include "dist/runtime.h"

#include "core/affinity.h"

#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "core/gpu.h"
#include "core/log.h"
#include "dist/dist_config.h"

static const cfg_key runtime_keys[] = {
    {"runtime.threads", CFG_INT, "0", 0, 1024, NULL,
     "compute threads per rank (0: the CPUs the node allows / its local ranks)"},
    {"runtime.bind", CFG_ENUM, "\"auto\"", 1, 0, "auto|keep",
     "auto: a rank the launcher bound to fewer CPUs than its threads moves to its own block of CPUs; "
     "keep: keep the launcher's binding (warn)"},
    {"runtime.device", CFG_ENUM, "\"auto\"", 1, 0, "auto|cpu|cuda|cpu-staged",
     "compute device: cuda (GPU by node-local rank, NCCL), cpu (MPI), auto (cuda when every rank sees a GPU); "
     "cpu-staged: for testing, the CPU through the device code paths (MPI)"},
    {"runtime.deterministic", CFG_BOOL, "false", 1, 0, NULL,
     "GPU: deterministic cuDNN algorithms only (reproducible, maybe slower)"},
    {"runtime.cuda_workspace_mb", CFG_FLOAT, "256", 0, 65536, NULL,
     "GPU: largest cuDNN workspace one convolution may use, in MB"},
};

const cfg_section cfg_section_runtime = {"runtime", "threads and device selection", runtime_keys,
                                         (int)(sizeof runtime_keys / sizeof runtime_keys[0])};

dy_status dist_runtime_decide(const char *device, const char *transport, int gpu_usable, const char *why_none,
                              int *use_gpu, comm_transport *tr)
{
    DY_TRY_CTX(comm_transport_parse(transport, tr), "dist.transport");
    if (!strcmp(device, "cuda") && !gpu_usable)
        return DY_ERR(DY_ENOGPU, "runtime.device=cuda but this rank has no usable GPU: %s (use "
                                 "runtime.device=cpu or auto to run on the CPU)",
                      why_none && *why_none ? why_none : "none visible");
    if (strcmp(device, "cuda") && strcmp(device, "cpu") && strcmp(device, "auto") && strcmp(device, "cpu-staged"))
        return DY_ERR(DY_EINVAL, "runtime.device=%s: expected auto, cpu or cuda (or cpu-staged, for testing)",
                      device);
    *use_gpu = !strcmp(device, "cuda") || (!strcmp(device, "auto") && gpu_usable);
    if (*use_gpu && *tr == COMM_TRANSPORT_MPI)
        return DY_ERR(DY_EINVAL, "dist.transport=mpi with the CUDA backend: MPI works on host buffers and the "
                                 "gradients live on the GPU; use dist.transport=nccl (or auto), or "
                                 "runtime.device=cpu");
    if (!*use_gpu && *tr == COMM_TRANSPORT_NCCL)
        return DY_ERR(DY_EINVAL, "dist.transport=nccl with the CPU backend%s: NCCL works on GPU buffers; use "
                                 "dist.transport=mpi (or auto), or runtime.device=cuda on a GPU node",
                      strcmp(device, "auto") ? "" : " (runtime.device=auto found no usable GPU)");
    *tr = *use_gpu ? COMM_TRANSPORT_NCCL : COMM_TRANSPORT_MPI;
    return DY_OK;
}

/* Under auto, a GPU is used only when every rank has one. */
static dy_status agree_gpu(const cfg *c, const dist_ctx *d, int *gpu_usable)
{
    if (strcmp(cfg_str(c, "runtime.device"), "auto")) return DY_OK;
    int mine = *gpu_usable, all = 0;
    MPI_CHECK(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, d->world));
    if (mine && !all) log_warn("runtime.device=auto: another rank has no usable GPU, so every rank uses the CPU");
    *gpu_usable = all;
    return DY_OK;
}

dy_status dist_runtime_choose(const cfg *c, const dist_ctx *d, dist_runtime_choice *ch)
{
    memset(ch, 0, sizeof *ch);
    ch->dev.device = -1;
    gpu_info gi;
    gpu_query(&gi);
    int usable = gi.device_count > 0;
    DY_TRY(agree_gpu(c, d, &usable));
    const char *device = cfg_str(c, "runtime.device");
    const char *why = gi.device_count > 0 ? "not every rank has one" : gi.reason;
    dy_status s = dist_runtime_decide(device, cfg_str(c, "dist.transport"), usable, why, &ch->use_gpu,
                                      &ch->transport);
    /* The same config on every rank, but not the same GPUs (runtime.device=cuda on a
     * node without one): all fail together before the node-wide mapping. */
    DY_TRY(dist_agree(d->world, s));
    if (!ch->use_gpu && strcmp(device, "auto"))
        snprintf(ch->why_cpu, sizeof ch->why_cpu, "runtime.device=%s", device);
    else if (!ch->use_gpu) /* the reason is at most 511 characters, and cut if need be */
        snprintf(ch->why_cpu, sizeof ch->why_cpu, "no usable GPU: %.480s", why && *why ? why : "none visible");
    DY_TRY(dist_select_device(d, ch->use_gpu, &ch->dev));
    if (ch->dev.device >= 0 && ch->dev.device < gi.device_count)
        snprintf(ch->gpu_name, sizeof ch->gpu_name, "%s", gi.dev[ch->dev.device].name);
    return DY_OK;
}

static dy_status open_backend(const cfg *c, dist_runtime *rt, const dist_runtime_choice *ch)
{
    if (rt->dev.device < 0) {
        /* cpu-staged: the CPU's arithmetic through the device code paths (testing) */
        int staged = !strcmp(cfg_str(c, "runtime.device"), "cpu-staged");
        rt->be = staged ? tn_backend_cpu_staged() : tn_backend_cpu();
        snprintf(rt->desc, sizeof rt->desc, "%s (OpenBLAS %s)", rt->be->name, tn_cpu_blas_corename());
        return DY_OK;
    }
    tn_cuda_opts o = {.device = rt->dev.device, .deterministic = cfg_bool(c, "runtime.deterministic"),
                      .ws_limit_bytes = (size_t)(cfg_float(c, "runtime.cuda_workspace_mb") * 1048576.0)};
    DY_TRY_CTX(tn_backend_cuda_open(&o, &rt->be), "runtime.device=cuda, device %d", rt->dev.device);
    rt->cuda = 1;
    snprintf(rt->desc, sizeof rt->desc, "cuda:%d (%s, physical %s)", rt->dev.device,
             ch->gpu_name[0] ? ch->gpu_name : "?", rt->dev.physical);
    return DY_OK;
}

/* Open MPI binds a rank to one core when it starts <= 2 ranks: give the compute
 * threads the CPUs they need (core/affinity.h). */
static void bind_threads(const cfg *c, const dist_ctx *d, int threads)
{
    int cur_ids[AFF_MAX], allowed[AFF_MAX], out[AFF_MAX], nout = 0;
    int cur = aff_cpus(cur_ids, AFF_MAX), na = aff_allowed(allowed, AFF_MAX);
    int ls = d->local_size > 0 ? d->local_size : 1;
    if (cur <= 0 || !aff_plan(allowed, na, cur, d->local_rank, ls, threads, out, &nout)) return;
    char from[256], to[256];
    aff_format(cur_ids, cur, from, sizeof from);
    aff_format(out, nout, to, sizeof to);
    if (!strcmp(cfg_str(c, "runtime.bind"), "keep")) {
        log_warn("rank %d runs on CPU(s) %s (the launcher's binding) but uses %d compute threads: they share "
                 "them (runtime.bind=auto moves it to CPUs %s; or start it with mpirun --bind-to none or "
                 "--map-by slot:PE=%d)", d->rank, from, threads, to, threads);
        return;
    }
    if (aff_apply(out, nout) != DY_OK) {
        log_warn("rank %d runs on CPU(s) %s with %d compute threads and could not move to CPUs %s: %s", d->rank,
                 from, threads, to, err_msg());
        return;
    }
    log_info("rank %d: the launcher bound it to CPU(s) %s; for %d compute threads it now runs on CPUs %s "
             "(runtime.bind=keep keeps the launcher's binding)", d->rank, from, threads, to);
}

/* The decision and the backend, no communicator; *ch is the decision. */
static dy_status open_compute(const cfg *c, const dist_ctx *d, dist_runtime *rt, dist_runtime_choice *ch)
{
    memset(rt, 0, sizeof *rt);
    rt->dev.device = -1;
    int threads = (int)cfg_int(c, "runtime.threads");
    rt->threads = threads > 0 ? threads : aff_default_threads(d->local_size);
    bind_threads(c, d, rt->threads);
    DY_TRY(dist_runtime_choose(c, d, ch));
    if (!ch->use_gpu && !strcmp(cfg_str(c, "runtime.device"), "auto") && d->rank == 0)
        log_info("runtime.device=auto, %s: using the CPU backend and the MPI transport", ch->why_cpu);
    rt->dev = ch->dev;
    return open_backend(c, rt, ch);
}

dy_status dist_runtime_open_compute(const cfg *c, const dist_ctx *d, dist_runtime *rt)
{
    dist_runtime_choice ch;
    return open_compute(c, d, rt, &ch);
}

dy_status dist_runtime_open(const cfg *c, const dist_ctx *d, dist_runtime *rt)
{
    dist_runtime_choice ch;
    DY_TRY(open_compute(c, d, rt, &ch));
    comm_opts co;
    DY_TRY(dist_opts_from_cfg(c, rt->dev.device, &co, &rt->dopt));
    co.transport = ch.transport;
    co.compute_stream = rt->be->stream(); /* NCCL waits for the backend's queued work */
    DY_TRY(comm_create(d->world, &co, &rt->comm));
    size_t n = strlen(rt->desc);
    snprintf(rt->desc + n, sizeof rt->desc - n, " + %s", ch.transport == COMM_TRANSPORT_NCCL ? "nccl" : "mpi");
    log_info("compute on %s (rank %d of %d)", rt->desc, d->rank, d->size);
    return DY_OK;
}

void dist_runtime_close(dist_runtime *rt)
{
    if (rt->comm) comm_destroy(rt->comm);
    rt->comm = NULL;
    if (rt->cuda) tn_backend_cuda_close();
    rt->cuda = 0;
    rt->be = NULL;
}
