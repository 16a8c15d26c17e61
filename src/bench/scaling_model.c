/* scaling_model.c -- the alpha-beta all-reduce and overlap model of
 * `dyolo bench scaling` (equations in scaling_model.h). */
#include "bench/scaling_model.h"

double scal_ring_s(double bytes, int p, scal_link l)
{
    if (p <= 1) return 0;
    return 2.0 * (p - 1) / p * bytes / l.bw + 2.0 * (p - 1) * l.alpha;
}

double scal_allreduce_s(double bytes, int nodes, int per_node, const scal_machine *m)
{
    if (nodes <= 1) return scal_ring_s(bytes, per_node, m->intra);
    /* Inside the node: reduce-scatter + all-gather = one ring all-reduce's cost.
     * Across: each rank's n/G over B_x/G, i.e. the full n over the node's B_x. */
    return scal_ring_s(bytes, per_node, m->intra) + scal_ring_s(bytes, nodes, m->inter);
}

/* Relative to one rank: the one-rank step was measured with the same cores, and a
 * single rank that already had to share them (cores < threads) was slowed as much. */
double scal_contention(int per_node, const scal_machine *m)
{
    if (m->cores <= 0) return 1;
    double t = m->threads > 0 ? m->threads : 1, c = per_node * t / m->cores, c1 = t / m->cores;
    return (c > 1 ? c : 1) / (c1 > 1 ? c1 : 1);
}

void scal_predict(const scal_step *s, const scal_machine *m, int nodes, int per_node, scal_point *out)
{
    double c = scal_contention(per_node, m), total = 0;
    for (int k = 0; k < s->nb; k++) total += c * scal_allreduce_s(s->b[k].bytes, nodes, per_node, m);
    double bw = c * s->backward_s + m->comm_share * total, end = 0;
    for (int k = 0; k < s->nb; k++) {
        double ready = s->b[k].ready_frac * bw;
        double start = ready > end ? ready : end;
        end = start + c * scal_allreduce_s(s->b[k].bytes, nodes, per_node, m);
    }
    double exposed = end > bw ? end - bw : 0;
    double one = s->forward_s + s->backward_s + s->rest_s;
    out->nodes = nodes;
    out->ranks = nodes * per_node;
    out->comm_s = total;
    out->exposed_s = exposed;
    out->step_s = c * (s->forward_s + s->rest_s) + bw + exposed;
    out->img_s = out->step_s > 0 ? out->ranks * s->batch / out->step_s : 0;
    out->efficiency = out->step_s > 0 ? one / out->step_s : 0;
}

double scal_fit_bandwidth(double bytes, int nb, int p, double alpha, double seconds)
{
    if (p <= 1) return 0;
    double t = seconds - 2.0 * (p - 1) * alpha * nb;
    return t > 0 ? 2.0 * (p - 1) / p * bytes / t : 0;
}
