/* sampler.c -- the world-size-independent sampler (rules in sampler.h). */
#include "data/sampler.h"

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

dy_status sampler_init(sampler *s, int64_t n, int world, int rank, int batch, uint64_t seed, int shuffle)
{
    memset(s, 0, sizeof *s);
    if (n < 1 || n > 0xffffffffll) return DY_ERR(DY_ERANGE, "sampler: dataset size %lld out of range", (long long)n);
    if (world < 1 || rank < 0 || rank >= world || batch < 1)
        return DY_ERR(DY_EINVAL, "sampler: bad world %d / rank %d / batch %d", world, rank, batch);
    s->n = n, s->world = world, s->rank = rank, s->batch = batch, s->seed = seed, s->shuffle = shuffle;
    s->order = malloc(sizeof(int64_t) * (size_t)n);
    if (!s->order) return DY_ERR(DY_ENOMEM, "sampler: out of memory for %lld indices", (long long)n);
    return sampler_start_epoch(s, 0, 0);
}

void sampler_free(sampler *s)
{
    free(s->order);
    free(s->base);
    s->order = s->base = NULL;
}

dy_status sampler_set_order(sampler *s, const int64_t *order)
{
    if (s->shuffle) return DY_ERR(DY_EINVAL, "sampler: a fixed order is for validation only");
    s->base = malloc(sizeof(int64_t) * (size_t)s->n);
    char *seen = calloc((size_t)s->n, 1);
    if (!s->base || !seen) {
        free(seen);
        return DY_ERR(DY_ENOMEM, "sampler: out of memory");
    }
    for (int64_t i = 0; i < s->n; i++) {
        if (order[i] < 0 || order[i] >= s->n || seen[order[i]]) {
            free(seen);
            return DY_ERR(DY_EINVAL, "sampler: order is not a permutation (entry %lld)", (long long)i);
        }
        seen[order[i]] = 1;
        s->base[i] = order[i];
    }
    free(seen);
    return sampler_start_epoch(s, s->st.epoch, 0);
}

int64_t sampler_steps(const sampler *s)
{
    int64_t g = (int64_t)s->world * s->batch;
    return (s->n + g - 1) / g;
}

dy_status sampler_start_epoch(sampler *s, int64_t epoch, int64_t position)
{
    int64_t g = (int64_t)s->world * s->batch;
    if (epoch < 0 || position < 0 || position % g || position > sampler_steps(s) * g)
        return DY_ERR(DY_ERANGE, "sampler: position %lld is not a multiple of the global batch %lld within the epoch",
                      (long long)position, (long long)g);
    for (int64_t i = 0; i < s->n; i++) s->order[i] = s->base ? s->base[i] : i;
    if (s->shuffle) {
        rng_stream r;
        rng_stream_init(&r, s->seed, SAMPLER_PURPOSE, (uint64_t)epoch, 0);
        for (int64_t i = s->n - 1; i > 0; i--) {
            int64_t j = rng_below(&r, (uint32_t)(i + 1));
            int64_t t = s->order[i];
            s->order[i] = s->order[j], s->order[j] = t;
        }
    }
    s->st.epoch = epoch;
    s->st.position = position;
    return DY_OK;
}

int sampler_next(sampler *s, int64_t *idx)
{
    int64_t g = (int64_t)s->world * s->batch;
    if (s->st.position >= sampler_steps(s) * g) return 0;
    int64_t p0 = s->st.position + (int64_t)s->rank * s->batch;
    for (int k = 0; k < s->batch; k++) {
        int64_t p = p0 + k;
        /* wrap modulo n: with a global batch larger than the dataset a train
         * position may pass n more than once */
        if (p < s->n) idx[k] = s->order[p];
        else idx[k] = s->shuffle ? s->order[p % s->n] : -1;
    }
    s->st.position += g;
    return 1;
}

sampler_state sampler_get_state(const sampler *s)
{
    return s->st;
}
