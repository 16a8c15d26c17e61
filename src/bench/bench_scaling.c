/* bench_scaling.c -- `dyolo bench scaling`: predicts the training step time and the
 * scaling efficiency for N ranks on M nodes from one measured single-device step and
 * the links' bandwidth and latency, with the alpha-beta all-reduce and overlap model
 * of scaling_model.h, prints the table and draws efficiency against ranks as a PNG.
 *
 * Inputs are the JSON files of `dyolo bench step --dist --json`: --step (one rank:
 * forward, backward, the rest, each bucket's size and ready time within backward),
 * optionally --calibrate (a multi-rank run on one node: its blocking all-reduce time
 * gives the intra-node bandwidth, its hook time the share of the all-reduce that runs
 * on the compute core) and --validate (runs at other rank counts: measured against
 * predicted, with the error).  Links can also be given (--nvlink-gbps, --ib-gbps,
 * --alpha-us): that is how a GPU cluster is predicted from one GPU's step.
 * A serial program: it needs no mpirun.
 *
 * defines: bench_scaling_main */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/scaling_model.h"
#include "cli/cli.h"
#include "eval/plot.h"

#define MAX_FILES 16
#define MAX_BUCKETS 256
#define MAX_NODES 32

static const char scaling_help[] =
    "usage: dyolo bench scaling --step STEP1.json [--calibrate STEPN.json] [--validate STEPK.json]...\n"
    "         [--nvlink-gbps GB/s] [--ib-gbps GB/s] [--alpha-us US] [--ib-alpha-us US]\n"
    "         [--gpus-per-node G] [--nodes 1,2,4,...] [--cores C] [--comm-share H]\n"
    "         [--max-error PCT] [--plot PNG]\n"
    "\n"
    "Predicts step time, images/s, efficiency against linear scaling and the exposed\n"
    "all-reduce for G ranks per node on each node count, from a single-device step\n"
    "measured by `dyolo bench step --dist --json FILE` (1 rank), with a ring all-reduce\n"
    "T = 2(p-1)/p n/B + 2(p-1) alpha per bucket (hierarchical across nodes: inside the\n"
    "node, then across), each bucket overlapped with the backward still to run.\n"
    "\n"
    "  --step FILE        the one-rank measurement (required)\n"
    "  --calibrate FILE   a multi-rank run on one node: intra-node bandwidth from its\n"
    "                     blocking all-reduce time, comm share from its hook time\n"
    "  --validate FILE    a run to compare with the prediction (repeatable); prints the\n"
    "                     error per rank count\n"
    "  --nvlink-gbps B    intra-node bus bandwidth in GB/s (gigaBYTES; busbw as `bench\n"
    "                     allreduce` and nccl-tests report it)\n"
    "  --ib-gbps B        inter-node bandwidth per node in GB/s, all NICs together\n"
    "                     (one 400 Gb/s NDR port = 50 GB/s)\n"
    "  --alpha-us A       latency per ring step inside a node (default 5 us)\n"
    "  --ib-alpha-us A    latency per ring step between nodes (default 10 us)\n"
    "  --gpus-per-node G  ranks per node of the table (default 8)\n"
    "  --nodes LIST       node counts of the table (default 1,2,4,8,16)\n"
    "  --cores C          CPU transport: cores the ranks of a node share (default: the\n"
    "                     --step file's for the mpi transport, 0 = none for nccl)\n"
    "  --comm-share H     share of each all-reduce run on the compute core (default:\n"
    "                     from --calibrate, else 0)\n"
    "  --max-error PCT    exit 1 when a --validate error exceeds PCT percent\n"
    "  --plot PNG         efficiency against ranks (predicted, and measured)\n"
    "  -h, --help         show this help\n";

typedef struct {
    const char *step, *calibrate, *validate[MAX_FILES], *plot;
    int nvalidate, gpn, nodes[MAX_NODES], nnodes, cores;
    double nvlink, ib, alpha_us, ib_alpha_us, share, max_err;
} sc_args;

/* One `bench step --dist --json` file, the fields the model uses. */
typedef struct {
    int ranks, nodes, per_node, threads, cores, batch, nb;
    char transport[16];
    double forward, loss, backward, step, alone, hooks, exposed, step_max, last_backward; /* s */
    scal_bucket b[MAX_BUCKETS];
} sc_run;

/* ------------------------------------------------------------------ inputs */

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static dy_status parse_run(const char *path, const cJSON *j, sc_run *r)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "ms");
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(j, "ms_max");
    const cJSON *bk = cJSON_GetObjectItemCaseSensitive(j, "buckets");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "transport");
    if (!cJSON_IsObject(ms) || !cJSON_IsObject(mx) || !cJSON_IsArray(bk) || !cJSON_IsString(tr))
        return DY_ERR(DY_EFORMAT, "%s: not a `dyolo bench step --dist --json` file (ms, ms_max, buckets, "
                      "transport)", path);
    r->ranks = (int)num(j, "ranks"), r->nodes = (int)num(j, "nodes"), r->per_node = (int)num(j, "ranks_per_node");
    r->threads = (int)num(j, "threads"), r->cores = (int)num(j, "cores"), r->batch = (int)num(j, "batch");
    snprintf(r->transport, sizeof r->transport, "%s", tr->valuestring);
    r->forward = 1e-3 * num(ms, "forward"), r->loss = 1e-3 * num(ms, "loss");
    r->backward = 1e-3 * num(ms, "backward"), r->step = 1e-3 * num(ms, "step");
    r->alone = 1e-3 * num(ms, "allreduce_alone"), r->hooks = 1e-3 * num(ms, "hooks");
    r->exposed = 1e-3 * num(mx, "exposed_comm"), r->step_max = 1e-3 * num(mx, "step");
    r->last_backward = 1e-3 * num(j, "last_backward_ms");
    r->nb = cJSON_GetArraySize(bk);
    if (r->ranks < 1 || r->per_node < 1 || r->batch < 1 || r->nb < 1 || r->nb > MAX_BUCKETS ||
        !(r->step > 0) || !(r->backward > 0) || !(r->last_backward > 0))
        return DY_ERR(DY_EFORMAT, "%s: missing or impossible values (ranks, batch, buckets, step, backward)", path);
    for (int k = 0; k < r->nb; k++) {
        const cJSON *e = cJSON_GetArrayItem(bk, k);
        double f = 1e-3 * num(e, "launch_ms") / r->last_backward;
        r->b[k].bytes = num(e, "bytes");
        r->b[k].ready_frac = f < 0 ? 0 : f > 1 ? 1 : f;
        if (!(r->b[k].bytes > 0)) return DY_ERR(DY_EFORMAT, "%s: bucket %d has no size", path, k);
    }
    return DY_OK;
}

static dy_status load_run(const char *path, sc_run *r)
{
    FILE *f = fopen(path, "rb");
    if (!f) return DY_ERR(DY_ENOENT, "%s: cannot open it", path);
    char *text = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *t = realloc(text, cap = 2 * cap + 8192);
            if (!t) break;
            text = t;
        }
        size_t got = fread(text + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    if (!text) return DY_ERR(DY_ENOMEM, "%s: out of memory", path);
    text[n] = 0;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) return DY_ERR(DY_EFORMAT, "%s: not valid JSON", path);
    dy_status s = parse_run(path, j, r);
    cJSON_Delete(j);
    return s;
}

/* ------------------------------------------------------------------ options */

static int parse_num(const char *o, const char *v, double lo, double hi, double *dst)
{
    char *end;
    double x = strtod(v, &end);
    if (*end || !(x >= lo && x <= hi))
        return cli_usage_error("bench scaling", "%s wants a number in [%g, %g], got \"%s\"", o, lo, hi, v);
    *dst = x;
    return 0;
}

static int parse_nodes(const char *v, sc_args *a)
{
    a->nnodes = 0;
    for (const char *p = v; *p;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 1 || x > 65536 || a->nnodes >= MAX_NODES || (*end && *end != ','))
            return cli_usage_error("bench scaling", "--nodes wants up to %d counts like 1,2,4, got \"%s\"",
                                   MAX_NODES, v);
        a->nodes[a->nnodes++] = (int)x;
        p = *end ? end + 1 : end;
    }
    return a->nnodes ? 0 : cli_usage_error("bench scaling", "--nodes is empty");
}

static int parse_opt(sc_args *a, const char *o, const char *v)
{
    double x = 0;
    int r;
    if (!strcmp(o, "--step")) a->step = v;
    else if (!strcmp(o, "--calibrate")) a->calibrate = v;
    else if (!strcmp(o, "--plot")) a->plot = v;
    else if (!strcmp(o, "--validate")) {
        if (a->nvalidate >= MAX_FILES) return cli_usage_error("bench scaling", "at most %d --validate", MAX_FILES);
        a->validate[a->nvalidate++] = v;
    }
    else if (!strcmp(o, "--nodes")) return parse_nodes(v, a);
    else if (!strcmp(o, "--nvlink-gbps")) return parse_num(o, v, 1e-3, 1e5, &a->nvlink);
    else if (!strcmp(o, "--ib-gbps")) return parse_num(o, v, 1e-3, 1e5, &a->ib);
    else if (!strcmp(o, "--alpha-us")) return parse_num(o, v, 0, 1e6, &a->alpha_us);
    else if (!strcmp(o, "--ib-alpha-us")) return parse_num(o, v, 0, 1e6, &a->ib_alpha_us);
    else if (!strcmp(o, "--comm-share")) return parse_num(o, v, 0, 1, &a->share);
    else if (!strcmp(o, "--max-error")) return parse_num(o, v, 0, 1e4, &a->max_err);
    else if (!strcmp(o, "--gpus-per-node")) {
        if ((r = parse_num(o, v, 1, 1024, &x))) return r;
        a->gpn = (int)x;
    } else if (!strcmp(o, "--cores")) {
        if ((r = parse_num(o, v, 0, 65536, &x))) return r;
        a->cores = (int)x;
    } else return cli_usage_error("bench scaling", "unknown option \"%s\"", o);
    return 0;
}

/* 0: run; -1: help shown; else the exit code. */
static int parse_args(int argc, char **argv, sc_args *a)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(scaling_help, stdout);
            return -1;
        }
        if (i + 1 >= argc) return cli_usage_error("bench scaling", "option \"%s\" needs a value", argv[i]);
        int r = parse_opt(a, argv[i], argv[i + 1]);
        if (r) return r;
        i++;
    }
    if (!a->step) return cli_usage_error("bench scaling", "--step FILE (a one-rank `bench step --dist --json`) is required");
    if (!(a->nvlink > 0) && !a->calibrate)
        return cli_usage_error("bench scaling", "give the intra-node bandwidth: --nvlink-gbps or --calibrate FILE");
    return 0;
}

/* ------------------------------------------------------------------ the model's inputs */

typedef struct {
    sc_run one, cal;
    scal_step step;
    scal_machine m;
    double bytes;     /* gradient bytes per step */
    int cores_fitted; /* m.cores came from the calibration run's slowdown */
    double fitted_slowdown;
} sc_model;

/* CPU transport: the cores the ranks really get.  A machine that others load too
 * gives fewer than it has, so the calibration run's own slowdown decides: its step
 * is c (F + Bw + R) + h T + exposed with T its measured blocking all-reduce, which
 * gives c, and c = ranks per node x threads / cores gives the cores: never fewer
 * than one rank's threads (then c = ranks: full time sharing; a larger slowdown is
 * not sharing but noise or spinning, and is left to show as prediction error). */
static dy_status fit_cores(sc_model *md)
{
    const sc_run *c = &md->cal, *o = &md->one;
    double cf = (c->step_max - md->m.comm_share * c->alone - c->exposed) / o->step, t = md->m.threads;
    md->fitted_slowdown = cf;
    if (cf <= 1) return DY_OK;
    double cores = c->per_node * t / cf;
    md->m.cores = cores < t ? t : cores;
    md->cores_fitted = 1;
    return DY_OK;
}

static dy_status build_model(const sc_args *a, sc_model *md)
{
    DY_TRY(load_run(a->step, &md->one));
    const sc_run *o = &md->one;
    if (o->ranks != 1)
        return DY_ERR(DY_EINVAL, "--step %s: measured on %d ranks; the model starts from one rank", a->step, o->ranks);
    md->step = (scal_step){.forward_s = o->forward + o->loss, .backward_s = o->backward, .b = o->b, .nb = o->nb,
                           .batch = o->batch};
    double rest = o->step - md->step.forward_s - md->step.backward_s;
    md->step.rest_s = rest > 0 ? rest : 0;
    for (int k = 0; k < o->nb; k++) md->bytes += o->b[k].bytes;
    scal_machine *m = &md->m;
    m->intra.alpha = 1e-6 * a->alpha_us, m->inter.alpha = 1e-6 * a->ib_alpha_us;
    m->inter.bw = 1e9 * a->ib;
    int cpu = !strcmp(o->transport, "mpi");
    m->cores = a->cores >= 0 ? a->cores : cpu ? o->cores : 0;
    m->threads = o->threads > 0 ? o->threads : 1;
    m->comm_share = a->share >= 0 ? a->share : 0;
    if (a->calibrate) {
        sc_run *c = &md->cal;
        DY_TRY(load_run(a->calibrate, c));
        if (c->ranks < 2 || c->nodes != 1 || !(c->alone > 0))
            return DY_ERR(DY_EINVAL, "--calibrate %s: needs a run of 2 or more ranks on one node (it has %d on %d)",
                          a->calibrate, c->ranks, c->nodes);
        if (a->share < 0) m->comm_share = c->hooks / c->alone > 1 ? 1 : c->hooks / c->alone;
        if (cpu && a->cores < 0) DY_TRY(fit_cores(md));
        double cf = scal_contention(c->per_node, m);
        m->intra.bw = scal_fit_bandwidth(md->bytes, o->nb, c->ranks, m->intra.alpha, c->alone / cf);
        if (!(m->intra.bw > 0))
            return DY_ERR(DY_EINVAL, "--calibrate %s: its all-reduce time %.3f ms is below the latency alone "
                          "(--alpha-us %g): lower --alpha-us", a->calibrate, 1e3 * c->alone, a->alpha_us);
    }
    if (a->nvlink > 0) m->intra.bw = 1e9 * a->nvlink;
    for (int i = 0; i < a->nnodes; i++)
        if (a->nodes[i] > 1 && !(m->inter.bw > 0))
            return DY_ERR(DY_EINVAL, "--nodes has %d nodes: give the inter-node bandwidth with --ib-gbps",
                          a->nodes[i]);
    return DY_OK;
}

/* ------------------------------------------------------------------ report */

static void print_inputs(const sc_args *a, const sc_model *md)
{
    const sc_run *o = &md->one;
    const scal_machine *m = &md->m;
    printf("dyolo bench scaling: one-rank step from %s (%s transport, batch %d, %d thread(s))\n", a->step,
           o->transport, o->batch, o->threads);
    printf("  forward+loss %.2f ms, backward %.2f ms, rest %.2f ms, step %.2f ms; %d bucket(s), %.2f MB, ready at "
           "%% of backward:", 1e3 * md->step.forward_s, 1e3 * md->step.backward_s, 1e3 * md->step.rest_s,
           1e3 * o->step, o->nb, md->bytes / 1048576);
    for (int k = 0; k < o->nb; k++) printf(" %.0f", 100 * o->b[k].ready_frac);
    printf("\n  intra-node link %.3f GB/s, alpha %.1f us%s; inter-node %.3f GB/s per node, alpha %.1f us\n",
           1e-9 * m->intra.bw, 1e6 * m->intra.alpha, a->calibrate && !(a->nvlink > 0) ? " (fitted to --calibrate)" : "",
           1e-9 * m->inter.bw, 1e6 * m->inter.alpha);
    printf("  CPU sharing: %s; comm share on the compute core h = %.2f\n",
           m->cores > 0 ? "yes" : "no (one device per rank)", m->comm_share);
    if (m->cores > 0)
        printf("  (%.2f core(s) per node%s, %d thread(s) per rank; --calibrate's compute slowdown %.2fx)\n\n",
               m->cores, md->cores_fitted ? ", fitted to it: other load included" : "", m->threads,
               md->fitted_slowdown);
}

static void print_row(const scal_point *p)
{
    printf("| %5d | %5d | %10.2f | %10.1f | %9.1f%% | %12.2f | %11.2f |\n", p->nodes, p->ranks, 1e3 * p->step_s,
           p->img_s, 100 * p->efficiency, 1e3 * p->comm_s, 1e3 * p->exposed_s);
}

static void print_table_head(void)
{
    printf("| nodes | ranks | step ms    | img/s      | efficiency | all-reduce ms | exposed ms  |\n");
    printf("|-------|-------|------------|------------|------------|---------------|-------------|\n");
}

#define MAX_PTS (MAX_NODES + 1)

static int predict_table(const sc_args *a, const sc_model *md, scal_point *pts)
{
    int n = 0;
    print_table_head();
    scal_predict(&md->step, &md->m, 1, 1, &pts[n]);
    print_row(&pts[n++]);
    for (int i = 0; i < a->nnodes; i++) {
        scal_predict(&md->step, &md->m, a->nodes[i], a->gpn, &pts[n]);
        if (pts[n].ranks > 1) print_row(&pts[n++]);
    }
    printf("(ranks = nodes x %d per node; efficiency = one-rank step / step, per-rank batch fixed)\n", a->gpn);
    return n;
}

/* Measured against predicted for each --validate file; returns the worst |error|. */
static dy_status validate(const sc_args *a, const sc_model *md, scal_point *pred, scal_point *meas, int *n,
                          double *worst)
{
    *worst = 0;
    *n = 0;
    if (!a->nvalidate) return DY_OK;
    printf("\nvalidation: measured (max over ranks of each rank's mean step) vs predicted\n");
    printf("| ranks | nodes | measured ms | predicted ms | error   | measured exposed | predicted exposed |\n");
    printf("|-------|-------|-------------|--------------|---------|------------------|-------------------|\n");
    for (int i = 0; i < a->nvalidate; i++) {
        sc_run r;
        DY_TRY(load_run(a->validate[i], &r));
        scal_point *p = &pred[*n], *q = &meas[*n];
        scal_predict(&md->step, &md->m, r.nodes, r.per_node, p);
        double err = (p->step_s - r.step_max) / r.step_max;
        *q = (scal_point){.nodes = r.nodes, .ranks = r.ranks, .step_s = r.step_max,
                          .efficiency = md->one.step / r.step_max};
        printf("| %5d | %5d | %11.2f | %12.2f | %+6.1f%% | %16.2f | %17.2f |\n", r.ranks, r.nodes, 1e3 * r.step_max,
               1e3 * p->step_s, 100 * err, 1e3 * r.exposed, 1e3 * p->exposed_s);
        if (fabs(err) > *worst) *worst = fabs(err);
        (*n)++;
    }
    printf("worst prediction error: %.1f%%%s\n", 100 * *worst,
           a->max_err > 0 ? (100 * *worst > a->max_err ? " (above --max-error)" : " (within --max-error)") : "");
    return DY_OK;
}

static void to_plot(const scal_point *p, int n, double lmax, double *x, double *y)
{
    for (int i = 0; i < n; i++) {
        x[i] = lmax > 0 ? log2((double)p[i].ranks) / lmax : 0;
        y[i] = p[i].efficiency < 0 ? 0 : p[i].efficiency > 1 ? 1 : p[i].efficiency;
    }
}

static dy_status plot(const sc_args *a, const scal_point *t, int nt, const scal_point *vp, const scal_point *vm,
                      int nv)
{
    int maxr = 1;
    for (int i = 0; i < nt; i++) maxr = t[i].ranks > maxr ? t[i].ranks : maxr;
    for (int i = 0; i < nv; i++) maxr = vm[i].ranks > maxr ? vm[i].ranks : maxr;
    double lmax = log2((double)maxr), x[3][MAX_PTS + MAX_FILES], y[3][MAX_PTS + MAX_FILES];
    to_plot(t, nt, lmax, x[0], y[0]);
    to_plot(vp, nv, lmax, x[1], y[1]);
    to_plot(vm, nv, lmax, x[2], y[2]);
    char title[160], xl[96];
    snprintf(title, sizeof title, "dyolo scaling model: efficiency vs ranks (%d per node)", a->gpn);
    snprintf(xl, sizeof xl, "log2(ranks) / log2(%d)", maxr);
    /* thick 0: plot.c gives each thin series its own palette colour */
    plot_series s[3] = {{"model, table", x[0], y[0], nt, 0},
                        {"model, validated runs", x[1], y[1], nv, 0},
                        {"measured", x[2], y[2], nv, 0}};
    return plot_lines_png(a->plot, title, xl, "efficiency vs linear", s, nv ? 3 : 1);
}

static dy_status run(const sc_args *a, double *worst)
{
    sc_model md;
    memset(&md, 0, sizeof md);
    DY_TRY(build_model(a, &md));
    print_inputs(a, &md);
    scal_point t[MAX_PTS], vp[MAX_FILES], vm[MAX_FILES];
    int nt = predict_table(a, &md, t), nv = 0;
    DY_TRY(validate(a, &md, vp, vm, &nv, worst));
    if (a->plot) {
        DY_TRY(plot(a, t, nt, vp, vm, nv));
        printf("plot: %s\n", a->plot);
    }
    return DY_OK;
}

int bench_scaling_main(int argc, char **argv)
{
    sc_args a = {.gpn = 8, .nodes = {1, 2, 4, 8, 16}, .nnodes = 5, .cores = -1, .alpha_us = 5, .ib_alpha_us = 10,
                 .share = -1};
    int r = parse_args(argc, argv, &a);
    if (r) return r < 0 ? CLI_EXIT_OK : r;
    double worst = 0;
    if (run(&a, &worst) != DY_OK) return cli_fail("bench scaling");
    if (a.max_err > 0 && 100 * worst > a.max_err) {
        fprintf(stderr, "dyolo bench scaling: error: worst prediction error %.1f%% exceeds --max-error %g%%\n",
                100 * worst, a.max_err);
        return CLI_EXIT_ERROR;
    }
    return CLI_EXIT_OK;
}
