/* test_devmap.c -- rank -> GPU mapping as a pure function: node-local rank picks the
 * device, CUDA_VISIBLE_DEVICES entries are reported, Slurm per-task binding, and the
 * clear errors (no GPU, fewer GPUs than ranks) and warnings (inconsistent local rank
 * variables). */
#include <string.h>

#include "core/err.h"
#include "dist/runtime.h"
#include "tests/tap.h"

/* runtime.device x dist.transport x GPU -> backend + transport (runtime.h's table). */
static void decide_table(void)
{
    struct {
        const char *dev, *tr;
        int gpu;
        dy_status want;
        int use_gpu;
        comm_transport t;
        const char *msg;
    } r[] = {
        {"cpu", "auto", 0, DY_OK, 0, COMM_TRANSPORT_MPI, NULL},
        {"cpu", "auto", 1, DY_OK, 0, COMM_TRANSPORT_MPI, NULL},
        {"cpu", "mpi", 1, DY_OK, 0, COMM_TRANSPORT_MPI, NULL},
        {"cpu", "nccl", 1, DY_EINVAL, 0, 0, "NCCL works on GPU buffers"},
        {"cuda", "auto", 1, DY_OK, 1, COMM_TRANSPORT_NCCL, NULL},
        {"cuda", "nccl", 1, DY_OK, 1, COMM_TRANSPORT_NCCL, NULL},
        {"cuda", "mpi", 1, DY_EINVAL, 0, 0, "MPI works on host buffers"},
        {"cuda", "auto", 0, DY_ENOGPU, 0, 0, "no usable GPU: driver too old"},
        {"auto", "auto", 1, DY_OK, 1, COMM_TRANSPORT_NCCL, NULL},
        {"auto", "auto", 0, DY_OK, 0, COMM_TRANSPORT_MPI, NULL},
        {"auto", "nccl", 0, DY_EINVAL, 0, 0, "auto found no usable GPU"},
        {"auto", "mpi", 1, DY_EINVAL, 0, 0, "dist.transport=mpi"},
        {"cpu-staged", "auto", 1, DY_OK, 0, COMM_TRANSPORT_MPI, NULL},
        {"cpu-staged", "nccl", 1, DY_EINVAL, 0, 0, "NCCL works on GPU buffers"},
        {"tpu", "auto", 1, DY_EINVAL, 0, 0, "expected auto, cpu or cuda"},
        {"cpu", "gloo", 0, DY_EINVAL, 0, 0, "dist.transport"},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        int use = -1;
        comm_transport t = COMM_TRANSPORT_AUTO;
        dy_status s = dist_runtime_decide(r[i].dev, r[i].tr, r[i].gpu, "driver too old", &use, &t);
        int ok = s == r[i].want && (s != DY_OK || (use == r[i].use_gpu && t == r[i].t)) &&
                 (!r[i].msg || strstr(err_msg(), r[i].msg));
        TAP_OK(ok, "runtime.device=%s dist.transport=%s gpu=%d -> %s%s%s", r[i].dev, r[i].tr, r[i].gpu,
               err_name(r[i].want), s != DY_OK ? ": " : "", s != DY_OK ? err_msg() : "");
    }
}

static dist_devmap_in in(int lr, int ls, int slurm, int ompi, const char *vis, int count)
{
    dist_devmap_in x = {lr, ls, slurm, ompi, vis, count, "nodeA"};
    return x;
}

int main(void)
{
    decide_table();
    dist_devmap_out o;
    dist_devmap_in i = in(2, 4, 2, 2, NULL, 4);
    TAP_EQ_INT(dist_map_device(&i, 1, &o), DY_OK, "4 ranks on 4 GPUs");
    TAP_EQ_INT(o.device, 2, "local rank 2 -> device 2");
    TAP_OK(o.warning[0] == 0, "consistent environment: no warning");

    i = in(1, 2, 1, 1, "5,7", 2);
    dist_map_device(&i, 1, &o);
    TAP_EQ_INT(o.device, 1, "CUDA_VISIBLE_DEVICES=5,7: local rank 1 -> ordinal 1");
    TAP_OK(!strcmp(o.physical, "7"), "physical device named from CUDA_VISIBLE_DEVICES (%s)", o.physical);

    i = in(3, 4, 3, -1, "2", 1);
    TAP_EQ_INT(dist_map_device(&i, 1, &o), DY_OK, "Slurm per-task binding: one device per rank");
    TAP_OK(o.device == 0 && !strcmp(o.physical, "2"), "bound rank uses its device 0 (physical 2)");

    i = in(0, 8, 0, 0, "0,1,2,3", 4);
    TAP_EQ_INT(dist_map_device(&i, 1, &o), DY_ENOGPU, "8 ranks on 4 GPUs is an error");
    TAP_STR_HAS(err_msg(), "node nodeA runs 8 ranks but has only 4 GPU(s)", "error names node and counts");
    TAP_STR_HAS(err_msg(), "CUDA_VISIBLE_DEVICES=\"0,1,2,3\"", "error shows CUDA_VISIBLE_DEVICES");

    i = in(0, 1, -1, -1, NULL, 0);
    TAP_EQ_INT(dist_map_device(&i, 1, &o), DY_ENOGPU, "no GPU at all is an error when one is wanted");
    TAP_STR_HAS(err_msg(), "no GPU visible", "error says no GPU is visible");
    i = in(0, 1, -1, -1, "", 0);
    TAP_EQ_INT(dist_map_device(&i, 1, &o), DY_ENOGPU, "empty CUDA_VISIBLE_DEVICES hides every GPU");

    i = in(0, 1, -1, -1, NULL, 0);
    TAP_EQ_INT(dist_map_device(&i, 0, &o), DY_OK, "CPU mode never fails");
    TAP_EQ_INT(o.device, -1, "CPU mode: device -1");

    i = in(1, 2, 0, 3, NULL, 2);
    TAP_EQ_INT(dist_map_device(&i, 1, &o), DY_OK, "inconsistent local-rank variables are not fatal");
    TAP_STR_HAS(o.warning, "OMPI_COMM_WORLD_LOCAL_RANK=3", "Open MPI's local rank reported");
    i = in(1, 2, 0, -1, NULL, 2);
    dist_map_device(&i, 1, &o);
    TAP_STR_HAS(o.warning, "SLURM_LOCALID=0 disagrees with the MPI node-local rank 1", "SLURM_LOCALID reported (srun)");
    i = in(1, 2, 0, 1, NULL, 2);
    dist_map_device(&i, 1, &o);
    TAP_OK(o.warning[0] == 0, "mpirun inside an allocation: the daemon's SLURM_LOCALID=0 is not a disagreement (%s)",
           o.warning);

    i = in(0, 1, -1, -1, "0,1,2", 2);
    dist_map_device(&i, 1, &o);
    TAP_STR_HAS(o.warning, "lists 3 device(s) but the CUDA runtime sees 2", "visible list vs runtime count");
    return tap_done();
}
