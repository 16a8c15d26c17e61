/* runtime.h -- the one place where a rank's compute backend and communication
 * transport are chosen, together, from `runtime.device` and `dist.transport`, so the
 * two can never disagree: NCCL only with device buffers (CUDA backend), MPI only with
 * host buffers (CPU backend).
 *
 *   runtime.device  dist.transport  GPU usable    result
 *   cpu             auto|mpi        any           cpu + mpi
 *   cpu-staged      auto|mpi        any           cpu-staged + mpi (testing: the CPU
 *                                                 through the device code paths)
 *   cuda            auto|nccl       yes           cuda + nccl
 *   cuda            any             no            error: no usable GPU (and why)
 *   auto            auto            yes (all)     cuda + nccl
 *   auto            auto            no (any rank) cpu + mpi, said in the log
 *   cpu|auto->cpu   nccl            -             error: NCCL needs device buffers
 *   cuda|auto->cuda mpi             -             error: MPI needs host buffers
 * Under `auto` every rank must see a GPU for any to use one (agreed by an
 * all-reduce), so a job never mixes transports.
 *
 * dist_runtime_choose is the decision without opening anything (no backend, no
 * communicator): what `dyolo train --dry-run` prints per rank, and the first half
 * of dist_runtime_open, so the dry run cannot drift from what a real job does.
 *
 * defines: dist_runtime, dist_runtime_choice, dist_runtime_decide, dist_runtime_choose,
 *          dist_runtime_open, dist_runtime_open_compute, dist_runtime_close,
 *          cfg_section_runtime */
#ifndef DY_DIST_RUNTIME_H
#define DY_DIST_RUNTIME_H

#include "core/config.h"
#include "dist/comm.h"
#include "dist/ddp.h"
#include "dist/dist.h"
#include "tensor/backend.h"

extern const cfg_section cfg_section_runtime;

typedef struct {
    const tn_backend *be;    /* the compute backend of this rank */
    comm *comm;              /* world communicator on the matching transport */
    ddp_opts dopt;           /* DDP options from `dist` */
    dist_devmap_out dev;     /* CUDA device (-1 on the CPU) */
    int cuda;                /* be is the CUDA backend (close it on exit) */
    int threads;             /* compute threads: runtime.threads, or aff_default_threads */
    char desc[512];          /* "cpu (OpenBLAS Haswell)", "cuda:0 (...)", then " + mpi" or
                              * " + nccl" once dist_runtime_open opened the transport */
} dist_runtime;

/* The pure decision (unit-tested): device and transport as configured, whether this
 * rank sees a usable GPU (and why not).  Sets *use_gpu and *transport, or fails
 * with a message naming the keys. */
dy_status dist_runtime_decide(const char *device, const char *transport, int gpu_usable, const char *why_none,
                              int *use_gpu, comm_transport *tr);

/* What a rank will run on, decided but not opened. */
typedef struct {
    int use_gpu;             /* the CUDA backend (device = dev.device) */
    comm_transport transport;/* MPI or NCCL, never AUTO */
    dist_devmap_out dev;     /* device ordinal and physical GPU (-1 / "cpu") */
    char gpu_name[256];      /* the device's name ("" on the CPU) */
    char why_cpu[512];       /* on the CPU: why ("runtime.device=cpu", the CUDA error, ...) */
} dist_runtime_choice;

/* Collective on d->world (and d->node): the decision of dist_runtime_decide, with
 * the GPU question agreed by all ranks under auto and the decision's errors agreed
 * by all ranks (none goes on to the device mapping's node collective alone), then
 * the device by node-local rank (dist_select_device).  Opens nothing. */
dy_status dist_runtime_choose(const cfg *c, const dist_ctx *d, dist_runtime_choice *ch);

/* Collective on d->world: decides (all ranks agree under auto), maps the device by
 * node-local rank, opens the backend and the communicator, and logs the choice once
 * (rank 0's line; every rank's with log.all_ranks). */
dy_status dist_runtime_open(const cfg *c, const dist_ctx *d, dist_runtime *rt);
/* The same without the communicator (rt->comm stays NULL), for `val` and `detect`:
 * they gather host results over MPI and need no gradient transport.  Collective on
 * d->world; the caller logs the choice (rt->desc) with the backend its model got. */
dy_status dist_runtime_open_compute(const cfg *c, const dist_ctx *d, dist_runtime *rt);
void dist_runtime_close(dist_runtime *rt);

#endif
