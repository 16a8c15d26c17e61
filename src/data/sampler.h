/* sampler.h -- which samples each rank loads, independent of the world size.
 *
 * Each epoch has one global order: train: a permutation of 0..n-1 seeded by
 * (seed, epoch) (Philox Fisher-Yates); val: the identity order.  Global step s
 * consumes positions [s*G, (s+1)*G) with G = world * batch; rank r takes
 * [s*G + r*batch, s*G + (r+1)*batch).  An epoch has ceil(n / G) steps.
 * Padding rule: train positions p >= n wrap around to order[p mod n] (the first
 * samples of the epoch are seen twice, every rank gets full batches); val positions
 * p >= n are invalid (-1): ranks get short batches and padded entries are never
 * counted.  State = (epoch, position), position a multiple of G; restarting an epoch
 * at any such position reproduces the rest of the epoch exactly, for any world size
 * that divides the position.
 *
 * defines: sampler, sampler_state, sampler_init, sampler_free, sampler_start_epoch,
 *          sampler_steps, sampler_next, sampler_get_state, sampler_set_order,
 *          SAMPLER_PURPOSE
 */
#ifndef DY_DATA_SAMPLER_H
#define DY_DATA_SAMPLER_H

#include <stdint.h>

#include "core/err.h"

#define SAMPLER_PURPOSE 0x5045524du /* "PERM" */

typedef struct {
    int64_t epoch;
    int64_t position; /* next global position (multiple of world * batch) */
} sampler_state;

typedef struct {
    int64_t n;
    int world, rank, batch;
    uint64_t seed;
    int shuffle;
    sampler_state st;
    int64_t *order;
    int64_t *base; /* val: fixed order (e.g. sorted by aspect ratio); NULL: identity */
} sampler;

dy_status sampler_init(sampler *s, int64_t n, int world, int rank, int batch, uint64_t seed, int shuffle);
void sampler_free(sampler *s);
/* Val only: use this order (a permutation of 0..n-1) instead of the identity. */
dy_status sampler_set_order(sampler *s, const int64_t *order);
/* position must be a multiple of world * batch and <= the epoch's padded length. */
dy_status sampler_start_epoch(sampler *s, int64_t epoch, int64_t position);
int64_t sampler_steps(const sampler *s);
/* This rank's indices for the next step into idx[batch] (-1: padding, val only;
 * a val rank whose whole slice is padding still takes part in the step).
 * Returns 1, or 0 at the end of the epoch. */
int sampler_next(sampler *s, int64_t *idx);
sampler_state sampler_get_state(const sampler *s);

#endif
