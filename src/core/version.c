/* version.c -- collects versions of dyolo and of every library it links:
 * MPI (library string), HDF5 (and whether it is parallel), cJSON, OpenBLAS, and in
 * CUDA builds the CUDA runtime/driver, cuDNN, cuBLAS, NCCL and the visible GPUs or
 * the reason there are none; the compute backends compiled in and what
 * runtime.device=auto picks here (the same rule as dist/runtime.c: cuda + nccl when
 * a GPU is usable, else cpu + mpi).  None of this needs MPI_Init. */
#include "core/version.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <mpi.h>
#include <string.h>

#include "dyolo_config.h"
#include "core/gpu.h"

static void mpi_version(char *buf, size_t len)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int n = 0;
    MPI_Get_library_version(v, &n);
    /* Open MPI's string is long; its first clause names library and version. */
    char *comma = strchr(v, ',');
    if (comma) *comma = '\0';
    snprintf(buf, len, "%s", v);
}

static void fmt_ver(char *buf, size_t len, int v, int major_div, int minor_div)
{
    if (v <= 0) {
        snprintf(buf, len, "none");
        return;
    }
    snprintf(buf, len, "%d.%d.%d", v / major_div, (v % major_div) / minor_div, v % minor_div);
}

static void add_gpu_json(cJSON *o, const gpu_info *g)
{
    cJSON *c = cJSON_AddObjectToObject(o, "cuda");
    cJSON_AddBoolToObject(c, "built", g->cuda_built);
    if (!g->cuda_built) {
        cJSON_AddStringToObject(c, "reason", g->reason);
        return;
    }
    cJSON_AddNumberToObject(c, "runtime", g->runtime_version);
    cJSON_AddNumberToObject(c, "driver", g->driver_version);
    cJSON_AddNumberToObject(c, "cudnn", g->cudnn_version);
    cJSON_AddNumberToObject(c, "cublas", g->cublas_version);
    cJSON_AddNumberToObject(c, "nccl", g->nccl_version);
    cJSON_AddNumberToObject(c, "devices", g->device_count);
    if (!g->device_count) cJSON_AddStringToObject(c, "no_gpu_reason", g->reason);
    cJSON *arr = cJSON_AddArrayToObject(c, "gpus");
    for (int i = 0; i < g->device_count; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(g->dev[i].name));
}

/* What runtime.device=auto would choose on this machine, and why. */
static void auto_choice(const gpu_info *g, char *buf, size_t len)
{
    if (g->device_count > 0)
        snprintf(buf, len, "cuda + nccl (GPU by node-local rank; %d visible)", g->device_count);
    else
        snprintf(buf, len, "cpu + mpi (no usable GPU: %s)", g->reason);
}

static void add_backend_json(cJSON *o, const gpu_info *g)
{
    cJSON *b = cJSON_AddObjectToObject(o, "backend");
    cJSON *arr = cJSON_AddArrayToObject(b, "compiled");
    cJSON_AddItemToArray(arr, cJSON_CreateString("cpu"));
    if (g->cuda_built) cJSON_AddItemToArray(arr, cJSON_CreateString("cuda"));
    cJSON_AddStringToObject(b, "auto", g->device_count > 0 ? "cuda" : "cpu");
    cJSON_AddStringToObject(b, "auto_transport", g->device_count > 0 ? "nccl" : "mpi");
    char why[700];
    auto_choice(g, why, sizeof why);
    cJSON_AddStringToObject(b, "auto_text", why);
}

static void report_json(FILE *f, const char *mpi, unsigned h5maj, unsigned h5min, unsigned h5rel,
                        const gpu_info *g)
{
    cJSON *o = cJSON_CreateObject();
    char h5[32];
    snprintf(h5, sizeof h5, "%u.%u.%u", h5maj, h5min, h5rel);
    cJSON_AddStringToObject(o, "dyolo", PACKAGE_VERSION);
    cJSON_AddStringToObject(o, "mpi", mpi);
    cJSON_AddStringToObject(o, "hdf5", h5);
    cJSON_AddBoolToObject(o, "hdf5_parallel", H5_HAVE_PARALLEL);
    cJSON_AddStringToObject(o, "cjson", cJSON_Version());
    cJSON_AddStringToObject(o, "openblas", openblas_get_config());
    add_gpu_json(o, g);
    add_backend_json(o, g);
    char *s = cJSON_Print(o);
    fprintf(f, "%s\n", s);
    cJSON_free(s);
    cJSON_Delete(o);
}

static void report_gpu_text(FILE *f, const gpu_info *g)
{
    if (!g->cuda_built) {
        fprintf(f, "CUDA          : not built (%s)\n", g->reason);
        return;
    }
    char rt[32], drv[32], dnn[32], bl[32], nc[32];
    fmt_ver(rt, sizeof rt, g->runtime_version, 1000, 10);
    fmt_ver(drv, sizeof drv, g->driver_version, 1000, 10);
    fmt_ver(dnn, sizeof dnn, g->cudnn_version, 10000, 100);
    fmt_ver(bl, sizeof bl, g->cublas_version, 10000, 100);
    fmt_ver(nc, sizeof nc, g->nccl_version, 10000, 100);
    fprintf(f, "CUDA runtime  : %s\nCUDA driver   : %s\ncuDNN         : %s\ncuBLAS        : %s\nNCCL          : %s\n",
            rt, drv, dnn, bl, nc);
    if (!g->device_count) {
        fprintf(f, "GPUs          : no usable GPU: %s\n", g->reason);
        return;
    }
    for (int i = 0; i < g->device_count; i++)
        fprintf(f, "GPU %-2d        : %s (sm_%d%d, %.1f GiB)\n", i, g->dev[i].name, g->dev[i].cc_major,
                g->dev[i].cc_minor, (double)g->dev[i].total_mem / (1024.0 * 1024.0 * 1024.0));
}

void version_report(FILE *f, int json)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    unsigned maj = 0, min = 0, rel = 0;
    gpu_info g;
    mpi_version(mpi, sizeof mpi);
    H5get_libversion(&maj, &min, &rel);
    gpu_query(&g);
    if (json) {
        report_json(f, mpi, maj, min, rel, &g);
        return;
    }
    fprintf(f, "dyolo         : %s\n", PACKAGE_VERSION);
    fprintf(f, "MPI           : %s\n", mpi);
    fprintf(f, "HDF5          : %u.%u.%u (%s)\n", maj, min, rel,
            H5_HAVE_PARALLEL ? "parallel, MPI-IO" : "serial");
    fprintf(f, "cJSON         : %s\n", cJSON_Version());
    fprintf(f, "OpenBLAS      : %s (threads %d)\n", openblas_get_config(), openblas_get_num_threads());
    report_gpu_text(f, &g);
    char why[700];
    auto_choice(&g, why, sizeof why);
    fprintf(f, "Backends      : cpu%s\n", g.cuda_built ? ", cuda" : "");
    fprintf(f, "Device (auto) : %s\n", why);
}
