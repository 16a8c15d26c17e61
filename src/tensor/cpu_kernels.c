/* cpu_kernels.c -- element-wise kernels of the CPU backend (see cpu_kernels.h).  The
 * AVX2 versions use a degree-6 polynomial exp (range reduction by ln 2, relative error
 * about 2e-7), so SiLU costs a few cycles per element instead of a libm call; they
 * are compiled with target attributes and picked once at run time, so the binary
 * still runs on CPUs without AVX2.
 *
 * defines: cpu_parallel, cpu_set_kernel_threads, cpu_bn_stats, cpu_affine_act,
 *          cpu_bn_bwd_reduce, cpu_bn_bwd_apply */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "tensor/cpu_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CPU_HAVE_X86 1
#endif

static int kernel_threads = 1;

void cpu_set_kernel_threads(int threads)
{
    kernel_threads = threads < 1 ? 1 : (threads > 64 ? 64 : threads);
}

int cpu_kernel_threads(void)
{
    return kernel_threads;
}

/* A persistent pool of blocked (not spinning: the machine may be shared) workers.
 * Each dispatch wakes them all; worker i runs part i + 1, the caller runs part 0.
 * Dispatches are serialised by `busy`; parts never dispatch again (no nesting). */
static struct {
    pthread_mutex_t mu, busy;
    pthread_cond_t go, done;
    int nworkers;
    unsigned long gen;
    cpu_parallel_fn fn;
    void *ctx;
    int n, parts, pending;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER, 0, 0, NULL, NULL, 0, 0, 0};

static void run_part(cpu_parallel_fn fn, void *ctx, int n, int parts, int i)
{
    int lo = (int)((long)n * i / parts), hi = (int)((long)n * (i + 1) / parts);
    if (lo < hi) fn(ctx, lo, hi);
}

/* Generation current when worker i was created: it must run every later one. */
static unsigned long spawn_gen[64];

static void *worker_main(void *arg)
{
    int id = (int)(long)arg;
    pthread_mutex_lock(&pool.mu);
    unsigned long seen = spawn_gen[id];
    for (;;) {
        while (pool.gen == seen) pthread_cond_wait(&pool.go, &pool.mu);
        seen = pool.gen;
        cpu_parallel_fn fn = pool.fn;
        void *ctx = pool.ctx;
        int n = pool.n, parts = pool.parts;
        pthread_mutex_unlock(&pool.mu);
        if (id + 1 < parts) run_part(fn, ctx, n, parts, id + 1);
        pthread_mutex_lock(&pool.mu);
        if (--pool.pending == 0) pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* Grows the pool to `want` workers (fewer if threads cannot be created). */
static void pool_grow(int want)
{
    while (pool.nworkers < want) {
        pthread_t t;
        pthread_mutex_lock(&pool.mu);
        int id = pool.nworkers;
        spawn_gen[id] = pool.gen;
        pthread_mutex_unlock(&pool.mu);
        if (id >= 63 || pthread_create(&t, NULL, worker_main, (void *)(long)id) != 0) return;
        pthread_detach(t);
        pthread_mutex_lock(&pool.mu);
        pool.nworkers++;
        pthread_mutex_unlock(&pool.mu);
    }
}

void cpu_parallel(int n, size_t work, cpu_parallel_fn fn, void *ctx)
{
    int t = kernel_threads < n ? kernel_threads : n;
    if (t <= 1 || work < ((size_t)1 << 15)) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&pool.busy);
    pool_grow(t - 1);
    if (t > pool.nworkers + 1) t = pool.nworkers + 1;
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    pool.parts = t;
    pool.pending = pool.nworkers;
    pool.gen++;
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    run_part(fn, ctx, n, t, 0);
    pthread_mutex_lock(&pool.mu);
    while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
    pthread_mutex_unlock(&pool.busy);
}

/* ---- portable versions ---- */

static void stats_c(const float *x, size_t m, double *sum, double *sumsq)
{
    double s = 0, q = 0;
    for (size_t i = 0; i < m; i++) {
        s += x[i];
        q += (double)x[i] * x[i];
    }
    *sum = s;
    *sumsq = q;
}

static void affine_act_c(const float *x, size_t m, float sc, float sh, int silu, float *out)
{
    if (silu)
        for (size_t i = 0; i < m; i++) {
            float z = x[i] * sc + sh;
            out[i] = z / (1.f + expf(-z));
        }
    else
        for (size_t i = 0; i < m; i++) out[i] = x[i] * sc + sh;
}

static void bwd_reduce_c(const float *y, const float *go, size_t m, float sc, float sh, float mean, int silu,
                         float *gz, double *sb, double *sg)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < m; i++) {
        float g = go[i];
        if (silu) {
            float z = y[i] * sc + sh, s = 1.f / (1.f + expf(-z));
            g *= s * (1.f + z * (1.f - s));
        }
        gz[i] = g;
        a += g;
        b += (double)g * (y[i] - mean);
    }
    *sb = a;
    *sg = b;
}

static void bwd_apply_c(const float *y, float *gz, size_t m, float mean, float inv, float k0, float db, float dg)
{
    for (size_t i = 0; i < m; i++) gz[i] = k0 * (gz[i] - db - (y[i] - mean) * inv * dg);
}

/* ---- AVX2 + FMA versions ---- */
#ifdef CPU_HAVE_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 exp8(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AVX2 static inline __m256 sigm8(__m256 z)
{
    __m256 one = _mm256_set1_ps(1.f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), z))));
}

AVX2 static inline double hsum4d(__m256d v)
{
    __m128d a = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a)));
}

AVX2 static void stats_avx2(const float *x, size_t m, double *sum, double *sumsq)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, q0 = s0, q1 = s0;
    size_t i = 0;
    for (; i + 8 <= m; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        s0 = _mm256_add_pd(s0, lo);
        s1 = _mm256_add_pd(s1, hi);
        q0 = _mm256_fmadd_pd(lo, lo, q0);
        q1 = _mm256_fmadd_pd(hi, hi, q1);
    }
    double s, q;
    stats_c(x + i, m - i, &s, &q);
    *sum = s + hsum4d(_mm256_add_pd(s0, s1));
    *sumsq = q + hsum4d(_mm256_add_pd(q0, q1));
}

/* The tails of the AVX2 passes (m % 8 elements) go through the same vector code on a
 * zero-padded copy: a scalar tail (expf, no FMA) rounded differently, so an
 * element's value depended on its position in the row -- i.e. on the batch size,
 * which made validation results depend on how images were split over ranks. */
AVX2 static inline void act8(const float *x, __m256 vs, __m256 vh, int silu, float *out)
{
    __m256 z = _mm256_fmadd_ps(_mm256_loadu_ps(x), vs, vh);
    _mm256_storeu_ps(out, silu ? _mm256_mul_ps(z, sigm8(z)) : z);
}

AVX2 static void affine_act_avx2(const float *x, size_t m, float sc, float sh, int silu, float *out)
{
    __m256 vs = _mm256_set1_ps(sc), vh = _mm256_set1_ps(sh);
    size_t i = 0;
    for (; i + 8 <= m; i += 8) act8(x + i, vs, vh, silu, out + i);
    if (i < m) {
        float xt[8] = {0}, ot[8];
        memcpy(xt, x + i, sizeof(float) * (m - i));
        act8(xt, vs, vh, silu, ot);
        memcpy(out + i, ot, sizeof(float) * (m - i));
    }
}

/* One 8-lane step of bwd_reduce: gz = gout * silu'(z); returns gz and gz * (y - mean). */
AVX2 static inline __m256 bwd8(const float *y, const float *go, __m256 vs, __m256 vh, __m256 vm, int silu,
                               float *gz, __m256 *gx)
{
    __m256 one = _mm256_set1_ps(1.f), yv = _mm256_loadu_ps(y), g = _mm256_loadu_ps(go);
    if (silu) {
        __m256 z = _mm256_fmadd_ps(yv, vs, vh), s = sigm8(z);
        g = _mm256_mul_ps(g, _mm256_mul_ps(s, _mm256_fmadd_ps(z, _mm256_sub_ps(one, s), one)));
    }
    _mm256_storeu_ps(gz, g);
    *gx = _mm256_mul_ps(g, _mm256_sub_ps(yv, vm));
    return g;
}

AVX2 static void bwd_reduce_avx2(const float *y, const float *go, size_t m, float sc, float sh, float mean,
                                 int silu, float *gz, double *sb, double *sg)
{
    __m256 vs = _mm256_set1_ps(sc), vh = _mm256_set1_ps(sh), vm = _mm256_set1_ps(mean);
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, b0 = a0, b1 = a0;
    float yt[8] = {0}, gt[8] = {0}, zt[8];
    for (size_t i = 0; i < m; i += 8) {
        __m256 g, gx;
        if (i + 8 <= m) g = bwd8(y + i, go + i, vs, vh, vm, silu, gz + i, &gx);
        else { /* zero-padded tail: gout 0 gives gz 0, adding nothing to the sums */
            memcpy(yt, y + i, sizeof(float) * (m - i));
            memcpy(gt, go + i, sizeof(float) * (m - i));
            g = bwd8(yt, gt, vs, vh, vm, silu, zt, &gx);
            memcpy(gz + i, zt, sizeof(float) * (m - i));
        }
        a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(g)));
        a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(g, 1)));
        b0 = _mm256_add_pd(b0, _mm256_cvtps_pd(_mm256_castps256_ps128(gx)));
        b1 = _mm256_add_pd(b1, _mm256_cvtps_pd(_mm256_extractf128_ps(gx, 1)));
    }
    *sb = hsum4d(_mm256_add_pd(a0, a1));
    *sg = hsum4d(_mm256_add_pd(b0, b1));
}

AVX2 static inline void apply8(const float *y, float *gz, __m256 vk, __m256 vdb, __m256 vm, __m256 vid)
{
    __m256 t = _mm256_sub_ps(_mm256_loadu_ps(gz), vdb);
    t = _mm256_fnmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(y), vm), vid, t);
    _mm256_storeu_ps(gz, _mm256_mul_ps(vk, t));
}

AVX2 static void bwd_apply_avx2(const float *y, float *gz, size_t m, float mean, float inv, float k0, float db,
                                float dg)
{
    __m256 vk = _mm256_set1_ps(k0), vdb = _mm256_set1_ps(db), vm = _mm256_set1_ps(mean),
           vid = _mm256_set1_ps(inv * dg);
    size_t i = 0;
    for (; i + 8 <= m; i += 8) apply8(y + i, gz + i, vk, vdb, vm, vid);
    if (i < m) {
        float yt[8] = {0}, zt[8] = {0};
        memcpy(yt, y + i, sizeof(float) * (m - i));
        memcpy(zt, gz + i, sizeof(float) * (m - i));
        apply8(yt, zt, vk, vdb, vm, vid);
        memcpy(gz + i, zt, sizeof(float) * (m - i));
    }
}

static int have_avx2(void)
{
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return v;
}
#else
static int have_avx2(void) { return 0; }
#endif

void cpu_bn_stats(const float *x, size_t m, double *sum, double *sumsq)
{
#ifdef CPU_HAVE_X86
    if (have_avx2()) { stats_avx2(x, m, sum, sumsq); return; }
#endif
    stats_c(x, m, sum, sumsq);
}

void cpu_affine_act(const float *x, size_t m, float sc, float sh, int silu, float *out)
{
#ifdef CPU_HAVE_X86
    if (have_avx2()) { affine_act_avx2(x, m, sc, sh, silu, out); return; }
#endif
    affine_act_c(x, m, sc, sh, silu, out);
}

void cpu_bn_bwd_reduce(const float *y, const float *gout, size_t m, float sc, float sh, float mean, int silu,
                       float *gz, double *sum_gz, double *sum_gzx)
{
#ifdef CPU_HAVE_X86
    if (have_avx2()) { bwd_reduce_avx2(y, gout, m, sc, sh, mean, silu, gz, sum_gz, sum_gzx); return; }
#endif
    bwd_reduce_c(y, gout, m, sc, sh, mean, silu, gz, sum_gz, sum_gzx);
}

void cpu_bn_bwd_apply(const float *y, float *gz, size_t m, float mean, float inv, float k0, float db, float dg)
{
#ifdef CPU_HAVE_X86
    if (have_avx2()) { bwd_apply_avx2(y, gz, m, mean, inv, k0, db, dg); return; }
#endif
    bwd_apply_c(y, gz, m, mean, inv, k0, db, dg);
}
