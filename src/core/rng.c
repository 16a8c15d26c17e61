/* rng.c -- Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011) and the per-sample streams built on it. */
#include "core/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0;
        c1 = (uint32_t)p1;
        c2 = n2;
        c3 = (uint32_t)p0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* SplitMix64 finalizer: spreads (seed, purpose) over the 64-bit key. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rng_stream_init(rng_stream *s, uint64_t seed, uint64_t purpose, uint64_t epoch, uint64_t index)
{
    s->key = mix64(seed * 0x9E3779B97F4A7C15ull + mix64(purpose + 1));
    s->ctr_hi = (epoch << 40) ^ index;
    s->ctr_lo = 0;
    s->used = 4;
}

uint32_t rng_u32(rng_stream *s)
{
    if (s->used == 4) {
        uint32_t ctr[4] = {(uint32_t)s->ctr_lo, (uint32_t)(s->ctr_lo >> 32), (uint32_t)s->ctr_hi,
                           (uint32_t)(s->ctr_hi >> 32)};
        uint32_t key[2] = {(uint32_t)s->key, (uint32_t)(s->key >> 32)};
        rng_philox(ctr, key, s->buf);
        s->ctr_lo++;
        s->used = 0;
    }
    return s->buf[s->used++];
}

float rng_uniform(rng_stream *s) { return (float)(rng_u32(s) >> 8) * (1.0f / 16777216.0f); }

float rng_uniform_range(rng_stream *s, float lo, float hi) { return lo + (hi - lo) * rng_uniform(s); }

float rng_normal(rng_stream *s)
{
    /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
    float u1 = 1.0f - rng_uniform(s), u2 = rng_uniform(s);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}

uint32_t rng_below(rng_stream *s, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: unbiased. */
    uint64_t m = (uint64_t)rng_u32(s) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (uint64_t)rng_u32(s) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}
