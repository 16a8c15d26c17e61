/* test_scaling_model.c -- the arithmetic of the scaling model (src/bench/scaling_model.c)
 * against cases computed by hand: the ring and hierarchical all-reduce, the CPU
 * sharing factor, the overlap of buckets with backward, and the bandwidth fit. */
#include "bench/scaling_model.h"
#include "tests/tap.h"

int main(void)
{
    scal_link l = {.bw = 1e9, .alpha = 1e-5}; /* 1 GB/s, 10 us */
    /* p = 4, 8 MB: 2*3/4 * 8e6/1e9 = 12 ms, + 2*3*10 us = 60 us */
    TAP_NEAR(scal_ring_s(8e6, 4, l), 12.06e-3, 1e-12, "ring, 4 ranks, 8 MB at 1 GB/s, 10 us: 12.06 ms");
    TAP_NEAR(scal_ring_s(8e6, 1, l), 0, 0, "ring of one rank costs nothing");
    TAP_NEAR(scal_ring_s(1e6, 2, l), 1.02e-3, 1e-12, "ring, 2 ranks, 1 MB: 1 ms + 20 us");

    scal_machine m = {.intra = {100e9, 5e-6}, .inter = {25e9, 10e-6}};
    /* 1 node x 8: 2*7/8 * 1e8/1e11 = 1.75 ms + 14*5 us = 1.82 ms */
    TAP_NEAR(scal_allreduce_s(1e8, 1, 8, &m), 1.82e-3, 1e-12, "one node of 8: ring over NVLink, 1.82 ms");
    /* 4 nodes x 8: 1.82 ms + 2*3/4 * 1e8/25e9 = 6 ms + 6*10 us = 6.06 ms -> 7.88 ms */
    TAP_NEAR(scal_allreduce_s(1e8, 4, 8, &m), 7.88e-3, 1e-12, "4 nodes x 8: hierarchical, 7.88 ms");
    /* 4 nodes x 1: no intra part */
    TAP_NEAR(scal_allreduce_s(1e8, 4, 1, &m), 6.06e-3, 1e-12, "4 nodes x 1: the inter-node ring only");

    scal_machine cpu = {.cores = 2, .threads = 1};
    TAP_NEAR(scal_contention(2, &cpu), 1, 0, "2 ranks on 2 cores: no sharing");
    TAP_NEAR(scal_contention(4, &cpu), 2, 1e-12, "4 ranks on 2 cores: twice as slow");
    cpu.cores = 0.5;
    TAP_NEAR(scal_contention(3, &cpu), 3, 1e-12, "half a core: relative to the one-rank run, 3 ranks = 3x");
    TAP_NEAR(scal_contention(64, &m), 1, 0, "GPUs (cores 0): never shared");

    /* The overlap: backward 100 ms, 2 buckets of 1e8 bytes ready at 50% and 100%,
     * 2 ranks at 1 GB/s, no latency: each all-reduce 2*1/2 * 0.1 s = 100 ms.
     * bucket 0: 50 -> 150 ms; bucket 1: ready 100, starts 150 -> 250 ms:
     * exposed 150 ms; step = F 20 + R 30 + 100 + 150 = 300 ms. */
    scal_bucket b[2] = {{1e8, 0.5}, {1e8, 1.0}};
    scal_step st = {.forward_s = 0.02, .backward_s = 0.1, .rest_s = 0.03, .b = b, .nb = 2, .batch = 8};
    scal_machine g = {.intra = {1e9, 0}};
    scal_point p;
    scal_predict(&st, &g, 1, 2, &p);
    TAP_NEAR(p.comm_s, 0.2, 1e-12, "two buckets: 200 ms of all-reduce in all");
    TAP_NEAR(p.exposed_s, 0.15, 1e-12, "the second bucket queues behind the first: 150 ms exposed");
    TAP_NEAR(p.step_s, 0.3, 1e-12, "step 300 ms");
    TAP_NEAR(p.efficiency, 0.15 / 0.3, 1e-12, "efficiency = 150 ms / 300 ms");
    TAP_NEAR(p.img_s, 16 / 0.3, 1e-9, "img/s = 2 x 8 / 0.3 s");
    TAP_EQ_INT(p.ranks, 2, "ranks = nodes x per node");
    /* A fast link hides everything: 1000 GB/s -> 0.1 ms per bucket, bucket 1 ends at
     * 100.1 ms: 0.1 ms exposed. */
    g.intra.bw = 1e12;
    scal_predict(&st, &g, 1, 2, &p);
    TAP_NEAR(p.exposed_s, 1e-4, 1e-12, "a fast link: only the last bucket's 0.1 ms is exposed");
    /* CPU sharing: 4 ranks on 2 cores, h = 0.5: c = 2, each all-reduce 2 x 2*3/4 x
     * 0.1 s = 0.3 s, 0.6 s in all; backward 2 x 0.1 + 0.5 x 0.6 = 0.5 s; bucket 0
     * ready at 0.25, ends 0.55; bucket 1 ready 0.5, starts 0.55, ends 0.85: exposed
     * 0.35; step = 2 x 0.05 + 0.5 + 0.35 = 0.95 s. */
    scal_machine c2 = {.intra = {1e9, 0}, .cores = 2, .threads = 1, .comm_share = 0.5};
    scal_predict(&st, &c2, 1, 4, &p);
    TAP_NEAR(p.comm_s, 0.6, 1e-12, "CPU sharing: the all-reduce slows by c too");
    TAP_NEAR(p.exposed_s, 0.35, 1e-12, "CPU sharing: 350 ms exposed");
    TAP_NEAR(p.step_s, 0.95, 1e-12, "CPU sharing: step 950 ms");
    scal_predict(&st, &c2, 1, 1, &p);
    TAP_NEAR(p.step_s, 0.15, 1e-12, "one rank: the measured step");

    /* Fit: 7 buckets, 7e6 bytes in all, 2 ranks, alpha 5 us, 10 ms measured:
     * 10 ms - 2*1*5 us*7 = 9.93 ms -> B = 7e6 / 9.93e-3. */
    TAP_NEAR(scal_fit_bandwidth(7e6, 7, 2, 5e-6, 10e-3), 7e6 / 9.93e-3, 1e-3, "bandwidth fit inverts the ring");
    TAP_OK(scal_fit_bandwidth(7e6, 7, 2, 1e-3, 10e-3) <= 0, "latency above the measured time: no bandwidth");
    return tap_done();
}
