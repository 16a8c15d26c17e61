/* rng.h -- counter-based random numbers (Philox-4x32-10).
 *
 * A stream is a pure function of (key, counter): rng_stream_init(seed, epoch, index)
 * gives every sample its own stream, so what a sample becomes does not depend on
 * which rank or thread produced it or in which order (ARCHITECTURE.md principle 4).
 * The stream state is two 64-bit words, trivially checkpointed.
 *
 * defines: rng_stream, rng_philox, rng_stream_init, rng_u32, rng_uniform,
 *          rng_uniform_range, rng_normal
 */
#ifndef DY_CORE_RNG_H
#define DY_CORE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t key;     /* e.g. hash of (seed, purpose) */
    uint64_t ctr_hi;  /* e.g. (epoch << 40) | sample index */
    uint64_t ctr_lo;  /* advances with every block of 4 words */
    uint32_t buf[4];
    int used;         /* words consumed from buf */
} rng_stream;

/* One Philox-4x32-10 block: 128-bit counter, 64-bit key -> 4 random words. */
void rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Stream for (seed, epoch, index); `purpose` separates independent uses. */
void rng_stream_init(rng_stream *s, uint64_t seed, uint64_t purpose, uint64_t epoch, uint64_t index);
uint32_t rng_u32(rng_stream *s);
/* Uniform in [0, 1) with 24 bits (exactly representable in float). */
float rng_uniform(rng_stream *s);
float rng_uniform_range(rng_stream *s, float lo, float hi);
float rng_normal(rng_stream *s);
/* Uniform integer in [0, n). */
uint32_t rng_below(rng_stream *s, uint32_t n);

#endif
