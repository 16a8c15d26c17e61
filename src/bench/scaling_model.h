/* scaling_model.h -- the arithmetic of `dyolo bench scaling`: an alpha-beta model of
 * the gradient all-reduce (ring; hierarchical across nodes) and of its overlap with
 * backward, which turns one measured single-device step into a predicted step time
 * for N ranks on M nodes.  Pure functions (no MPI, no I/O): unit-tested by hand.
 *
 * Ring all-reduce of n bytes over p ranks, link bus bandwidth B (bytes/s), latency a:
 *     T_ring(n, p) = 2 (p-1)/p * n / B  +  2 (p-1) a                (0 when p = 1)
 * (B is the "busbw" that `dyolo bench allreduce` and nccl-tests report.)
 * Hierarchical, G ranks per node on M > 1 nodes: reduce-scatter + all-gather inside
 * the node, and between them an all-reduce of each rank's n/G across the nodes, the
 * G ranks of a node sharing its inter-node bandwidth B_x (all NICs together):
 *     T = 2 (G-1)/G * n / B_i + 2 (G-1) a_i  +  2 (M-1)/M * n / B_x + 2 (M-1) a_x
 *
 * The step: forward F, backward Bw, the rest R (optimizer, data, overheads) measured
 * on one device; bucket k of s_k bytes is ready at fraction f_k of backward.  On a
 * CPU transport the ranks of a node share its cores: with c = max(1, ranks per node
 * x threads / cores) / max(1, threads / cores) (relative to the one-rank measurement)
 * every compute time and every all-reduce is c times longer, and
 * a share h of each all-reduce runs on the compute core itself (Open MPI's copies
 * and sums inside backward's MPI_Test) and lengthens backward; NCCL has c = 1, h = 0.
 * The buckets go out one after another on one communication stream:
 *     Bw' = c Bw + h sum_k T_k,    ready_k = f_k Bw',
 *     start_k = max(ready_k, end_{k-1}),    end_k = start_k + T_k
 *     exposed = max(0, end_last - Bw'),     step = c (F + R) + Bw' + exposed
 *
 * defines: scal_link, scal_machine, scal_bucket, scal_step, scal_point, scal_ring_s,
 *          scal_allreduce_s, scal_contention, scal_predict, scal_fit_bandwidth */
#ifndef DY_BENCH_SCALING_MODEL_H
#define DY_BENCH_SCALING_MODEL_H

typedef struct {
    double bw;    /* bus bandwidth, bytes/s */
    double alpha; /* latency per ring step, s */
} scal_link;

typedef struct {
    scal_link intra, inter; /* inside a node (NVLink, shared memory); between nodes, per node */
    double cores;           /* CPU transport: cores per node the ranks share (0: no sharing, GPUs);
                             * fractional when fitted on a machine others load too */
    int threads;            /* threads per rank (with cores) */
    double comm_share;      /* h: share of each all-reduce that runs on the compute core */
} scal_machine;

typedef struct {
    double bytes;
    double ready_frac; /* f_k: when the bucket's gradients are final, as a share of backward */
} scal_bucket;

typedef struct {
    double forward_s, backward_s, rest_s; /* one device: F (forward + loss), Bw, R */
    const scal_bucket *b;
    int nb;
    int batch; /* images per rank */
} scal_step;

typedef struct {
    int nodes, ranks;
    double step_s, comm_s, exposed_s; /* comm_s: all buckets' all-reduce, back to back */
    double img_s, efficiency;         /* efficiency: step(1 device) / step */
} scal_point;

double scal_ring_s(double bytes, int p, scal_link l);
/* One all-reduce of `bytes` over nodes x per_node ranks (ring on one node, else
 * hierarchical as above), before the contention factor. */
double scal_allreduce_s(double bytes, int nodes, int per_node, const scal_machine *m);
/* c = max(1, per_node x threads / cores) / max(1, threads / cores); 1 when cores <= 0. */
double scal_contention(int per_node, const scal_machine *m);
void scal_predict(const scal_step *s, const scal_machine *m, int nodes, int per_node, scal_point *out);
/* The bus bandwidth that makes nb back-to-back all-reduces of `bytes` in total over
 * p ranks take `seconds` (the measured blocking time, after dividing out contention)
 * with latency alpha; <= 0 when the latency alone exceeds the time. */
double scal_fit_bandwidth(double bytes, int nb, int p, double alpha, double seconds);

#endif
