/* kernels_common.cuh -- launch geometry and block reductions shared by the CUDA
 * backend's kernel files (kernels.cu: element-wise and optimizer passes;
 * kernels_act.cu: the activation kernels for f32 and half storage), and the element
 * access of activation storage: ldv/stv read and write a value of either width as
 * float, so one kernel template serves both (arithmetic is always f32).
 *
 * defines: GRID_STRIDE, ROW_STRIDE, block_sum, rows_grid, cols_grid, plane_grid,
 *          ldv, stv */
#ifndef DY_CUDA_KERNELS_COMMON_CUH
#define DY_CUDA_KERNELS_COMMON_CUH

#include <cuda_fp16.h>

#include "backend_cuda_internal.h"

#define GRID_STRIDE(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)blockDim.x * gridDim.x)
#define ROW_STRIDE(i, m) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (m); i += (size_t)blockDim.x * gridDim.x)

/* Sum over the block (blockDim.x == TC_THREADS) with a fixed tree; every thread must
 * call it; the result is valid in thread 0. */
template <class T> __device__ T block_sum(T v, T *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = TC_THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    T r = sh[0];
    __syncthreads(); /* sh is reused by the caller's next call */
    return r;
}

/* Blocks in y for per-row kernels (rows loop with stride gridDim.y beyond that). */
static inline unsigned rows_grid(int rows)
{
    return (unsigned)(rows < 65535 ? rows : 65535);
}

/* Blocks in x for a per-row kernel over m values, keeping the whole grid moderate. */
static inline unsigned cols_grid(size_t m, int rows)
{
    unsigned gy = rows_grid(rows), gx = tc_blocks(m);
    unsigned cap = 65536u / gy;
    if (cap < 1) cap = 1;
    return gx < cap ? gx : cap;
}

/* x over a plane's values, y over planes. */
static inline dim3 plane_grid(size_t planes, size_t per_plane)
{
    unsigned gy = (unsigned)(planes < 65535 ? planes : 65535);
    unsigned gx = tc_blocks(per_plane), cap = 65536u / gy;
    if (cap < 1) cap = 1;
    return dim3(gx < cap ? gx : cap, gy);
}

/* Activation storage: f32, or binary16 rounded to nearest even on store (the same
 * bits as tn_hd_half_from_float, which the CPU's half-storage backend uses). */
__device__ __forceinline__ float ldv(const float *p, size_t i) { return p[i]; }
__device__ __forceinline__ float ldv(const __half *p, size_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void stv(float *p, size_t i, float v) { p[i] = v; }
__device__ __forceinline__ void stv(__half *p, size_t i, float v) { p[i] = __float2half_rn(v); }

#endif
