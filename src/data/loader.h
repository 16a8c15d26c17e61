/* loader.h -- the distributed data loader: shards (parallel HDF5) -> sampler ->
 * decode + augment on worker threads -> prefetched batches for the model.
 *
 * Threads: one I/O thread per rank is the only caller of HDF5 after open (parallel
 * HDF5 is not thread-safe); it reads each step's payloads (including mosaic
 * partners) and queues one task per image; `workers` threads decode and augment;
 * up to `prefetch` batches are in flight.  Batches come out in step order.
 *
 * Batch contract (what the model and the evaluator rely on):
 *   images  uint8 [n][3][h][w], RGB, letterboxed to the network size, pad 114;
 *   targets float [ntargets][6] = (image index in batch, class, cx, cy, w, h), box
 *           normalized to [0,1] by the network w/h (YOLOv5's format);
 *   target_flags [ntargets]: bit 0 crowd, bit 1 difficult;
 *   per image: global sample index, original (w, h), letterbox (scale_x, scale_y,
 *   pad_x, pad_y) with net = orig * scale + pad per axis (exact in val mode; in
 *   train mode it describes the image before the random affine).
 * In val mode padded sampler entries are skipped, so n may be < batch (even 0).
 * With rect (val), samples are ordered by aspect ratio h/w and each batch gets
 * YOLOv5's shape: h x w = ceil(shape * imgsz / stride + 0.5) * stride, where shape
 * is (max ar, 1) if every ar < 1, (1, 1/min ar) if every ar > 1, else (1, 1); the
 * shape depends only on the batch's positions, not on the world size.
 *
 * defines: loader_opts, data_batch, data_loader, loader_opts_default,
 *          loader_opts_from_cfg, loader_open, loader_start_epoch, loader_next,
 *          loader_release, loader_close, loader_size, loader_steps, loader_state,
 *          loader_shards, data_cfg_section, LOADER_STRIDE, data_batch_to_float
 */
#ifndef DY_DATA_LOADER_H
#define DY_DATA_LOADER_H

#include <mpi.h>
#include <stdint.h>

#include "core/config.h"
#include "data/augment.h"
#include "data/sampler.h"
#include "data/shard.h"

/* The network stride: input sizes (data.imgsz, val/detect --imgsz) are multiples of it. */
#define LOADER_STRIDE 32

typedef struct {
    int batch;     /* per rank */
    int imgsz;     /* network input (square) */
    int workers;   /* decode/augment threads (>= 1) */
    int prefetch;  /* batches in flight (>= 1) */
    int train;     /* shuffle + augment; else identity order + letterbox */
    int rect;      /* val: YOLOv5 rectangular batches (sorted by aspect ratio) */
    int stride;    /* rect: batch shapes are multiples of this (32) */
    uint64_t seed;
    aug_params aug;
    /* Where the batches' image buffers live (NULL: malloc/free): a device backend's
     * page-locked memory (tn_backend host_alloc), so that uploads are DMA that
     * overlaps the compute (nn_graph_prefetch_u8). */
    dy_status (*host_alloc)(size_t bytes, void **out);
    void (*host_free)(void *p);
} loader_opts;

typedef struct {
    int64_t epoch, step;
    int n, capacity, h, w;
    uint8_t *images;       /* n * 3 * h * w */
    int ntargets;
    float *targets;        /* ntargets * 6 */
    uint8_t *target_flags; /* ntargets */
    int64_t *index;        /* n */
    int32_t *orig_size;    /* n * 2 */
    float *letterbox;      /* n * 4: scale_x, scale_y, pad_x, pad_y */
} data_batch;

typedef struct data_loader data_loader;

extern const cfg_section data_cfg_section;

void loader_opts_default(loader_opts *o);
/* data.* keys; train selects the batch/shuffle/augment settings. */
void loader_opts_from_cfg(const cfg *c, int train, loader_opts *o);

dy_status loader_open(data_loader **out, const char *const *paths, int npaths, const loader_opts *o, MPI_Comm comm);
/* Release every batch first.  position: global sample position (multiple of the
 * global batch) to resume from. */
dy_status loader_start_epoch(data_loader *l, int64_t epoch, int64_t position);
/* Next batch in step order, or *out = NULL at the end of the epoch. */
dy_status loader_next(data_loader *l, data_batch **out);
void loader_release(data_loader *l, data_batch *b);
dy_status loader_close(data_loader *l); /* collective */
int64_t loader_size(const data_loader *l);
int64_t loader_steps(const data_loader *l);
/* Sampler state after the last batch returned by loader_next (for checkpoints). */
sampler_state loader_state(const data_loader *l);
shard_set *loader_shards(data_loader *l);

/* images / 255 as float NCHW into out[n * 3 * h * w] (for models that take float). */
void data_batch_to_float(const data_batch *b, float *out);

/* `dyolo bench loader` (src/data/bench_loader.c), dispatched by src/cli/cli_bench.c. */

#endif
