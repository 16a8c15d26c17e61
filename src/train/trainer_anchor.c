/* trainer_anchor.c -- AutoAnchor before a fresh run (YOLOv5 train.py's check_anchors,
 * model.autoanchor): rank 0 measures how well the model's anchors fit the training
 * boxes at the training size and, at 98% best possible recall or less, evolves new
 * ones (model/autoanchor.h) and keeps them if they fit better; every rank takes rank
 * 0's anchors, and the run's spec text, which every checkpoint saves, carries them to
 * resume, val, detect and export.  A resumed run keeps its checkpoint's anchors.
 *
 * defines: trainer_autoanchor */
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/log.h"
#include "core/rng.h"
#include "model/autoanchor.h"
#include "train/trainer_internal.h"

#define ANCHOR_GENERATIONS 1000

/* Every training box's (w, h) in pixels at the training size (the image's long side
 * scaled to imgsz): wh0 as is, whs times one uniform 0.9..1.1 per image, the "augment
 * scale" YOLOv5 measures the fit with. */
static dy_status label_sizes(shard_set *sh, int imgsz, uint64_t seed, float **wh0, float **whs, size_t *n)
{
    int64_t ns = shard_count(sh);
    size_t total = 0;
    shard_sample m;
    for (int64_t i = 0; i < ns; i++) {
        shard_sample_get(sh, i, &m);
        total += (size_t)m.nbox;
    }
    *wh0 = malloc(sizeof **wh0 * 2 * (total ? total : 1));
    *whs = malloc(sizeof **whs * 2 * (total ? total : 1));
    if (!*wh0 || !*whs) return DY_ERR(DY_ENOMEM, "AutoAnchor: out of memory for %zu box sizes", total);
    rng_stream r;
    rng_stream_init(&r, seed, ANCHOR_PURPOSE, 0, 0);
    size_t j = 0;
    for (int64_t i = 0; i < ns; i++) {
        shard_sample_get(sh, i, &m);
        double mx = m.orig_w > m.orig_h ? m.orig_w : m.orig_h, sc = rng_uniform_range(&r, 0.9f, 1.1f);
        double sw = mx > 0 ? imgsz * m.orig_w / mx : 0, sh_ = mx > 0 ? imgsz * m.orig_h / mx : 0;
        for (int b = 0; b < m.nbox; b++, j++) {
            (*wh0)[2 * j] = (float)(m.box[4 * b + 2] * sw), (*wh0)[2 * j + 1] = (float)(m.box[4 * b + 3] * sh_);
            (*whs)[2 * j] = (float)((*wh0)[2 * j] * sc), (*whs)[2 * j + 1] = (float)((*wh0)[2 * j + 1] * sc);
        }
    }
    *n = j;
    return DY_OK;
}

static void anchors_text(const float *k, int nk, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int a = 0; a < nk && o < len; a++)
        o += (size_t)snprintf(buf + o, len - o, "%s%.0f,%.0f", a ? " " : "", (double)k[2 * a], (double)k[2 * a + 1]);
}

/* Rank 0: measure, and evolve when the fit is poor.  k holds the current anchors on
 * entry and the new ones when *changed. */
static dy_status fit(trainer *t, const float *wh0, const float *whs, size_t n, float *k, int *changed)
{
    const yolo_head *h = yolo_model_head(t->model);
    int nk = h->nl * h->na;
    double thr = yolo_model_hyp(t->model)->anchor_t;
    anchor_fit f = anchor_metric(whs, n, k, nk, thr);
    int good = f.bpr > ANCHOR_BPR_MIN;
    log_info("AutoAnchor: %.2f anchors/target, %.3f Best Possible Recall (BPR) on %zu training boxes. %s", f.aat,
             f.bpr, n, good ? "Current anchors are a good fit to the dataset" : "Anchors are a poor fit to the "
                                                                                "dataset: evolving new ones");
    if (good || !n) return DY_OK;
    float nk_[2 * YOLO_MAX_LEVELS * YOLO_MAX_ANCHORS];
    DY_TRY(anchor_compute(wh0, n, nk, t->imgsz, thr, ANCHOR_GENERATIONS, (uint64_t)cfg_int(t->cfg, "run.seed"),
                          nk_));
    anchor_fit g = anchor_metric(whs, n, nk_, nk, thr);
    char txt[600];
    if (!(g.bpr > f.bpr)) {
        log_info("AutoAnchor: the evolved anchors fit no better (BPR %.3f): keeping the spec's", g.bpr);
        return DY_OK;
    }
    anchor_order(nk_, h->nl, h->na, h->stride);
    anchor_round_f16(nk_, h->nl, h->na, h->stride);
    memcpy(k, nk_, sizeof nk_);
    *changed = 1;
    anchors_text(k, nk, txt, sizeof txt);
    log_info("AutoAnchor: new anchors %s (BPR %.3f -> %.3f, %.2f anchors/target); saved in the checkpoints' model "
             "spec (put them in the spec file to reuse them)", txt, f.bpr, g.bpr, g.aat);
    return DY_OK;
}

static dy_status fit_rank0(trainer *t, float *k, int *changed)
{
    float *wh0 = NULL, *whs = NULL;
    size_t n = 0;
    dy_status s = label_sizes(loader_shards(t->train), t->imgsz, (uint64_t)cfg_int(t->cfg, "run.seed"), &wh0, &whs, &n);
    if (s == DY_OK) s = fit(t, wh0, whs, n, k, changed);
    free(wh0), free(whs);
    return s;
}

dy_status trainer_autoanchor(trainer *t)
{
    if (!cfg_bool(t->cfg, "model.autoanchor")) return DY_OK;
    const yolo_head *h = yolo_model_head(t->model);
    int nk = h->nl * h->na, changed = 0;
    float k[2 * YOLO_MAX_LEVELS * YOLO_MAX_ANCHORS];
    for (int l = 0; l < h->nl; l++)
        for (int a = 0; a < h->na; a++)
            k[2 * (l * h->na + a)] = h->anchors[l][a][0], k[2 * (l * h->na + a) + 1] = h->anchors[l][a][1];
    DY_TRY(dist_agree(t->dist->world, t->dist->rank == 0 ? fit_rank0(t, k, &changed) : DY_OK));
    MPI_CHECK(MPI_Bcast(&changed, 1, MPI_INT, 0, t->dist->world));
    if (!changed) return DY_OK;
    MPI_CHECK(MPI_Bcast(k, 2 * nk, MPI_FLOAT, 0, t->dist->world));
    yolo_model_set_anchors(t->model, k);
    char *spec = NULL;
    DY_TRY(yolo_spec_with_anchors(t->spec_text, t->model, &spec));
    free(t->spec_text);
    t->spec_text = spec;
    return DY_OK;
}
