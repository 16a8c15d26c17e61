/* autoanchor.h -- YOLOv5's AutoAnchor (utils/autoanchor.py of v7.0) as pure math on a
 * list of box sizes in pixels at the training size: how well anchors fit them (best
 * possible recall: the share of boxes whose width and height are both within
 * anchor_t of some anchor) and, for a dataset they fit badly, new anchors by k-means
 * on the whitened sizes followed by a mutation search on YOLOv5's fitness.  Without
 * it a dataset of, say, long thin objects trains with anchors that match none of
 * its boxes, where Ultralytics re-fits them before training.  The trainer collects
 * the sizes and decides (train/trainer_anchor.c).
 *
 * Random numbers come from the project's counter-based streams (core/rng.h), so the
 * result is a function of (sizes, seed); it is not YOLOv5's numpy draw for draw.
 *
 * defines: anchor_fit, ANCHOR_BPR_MIN, ANCHOR_PURPOSE, anchor_metric, anchor_fitness,
 *          anchor_kmeans, anchor_evolve, anchor_compute, anchor_order, anchor_round_f16
 */
#ifndef DY_MODEL_AUTOANCHOR_H
#define DY_MODEL_AUTOANCHOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* YOLOv5 recomputes anchors when the best possible recall is not above this. */
#define ANCHOR_BPR_MIN 0.98
#define ANCHOR_PURPOSE 0x414e4348u /* "ANCH" */

typedef struct {
    double bpr; /* share of boxes with an anchor within thr in both ratios */
    double aat; /* mean number of such anchors per box ("anchors/target") */
} anchor_fit;

/* wh: n (w, h) pairs; k: nk (w, h) anchors in pixels; thr: model.anchor_t. */
anchor_fit anchor_metric(const float *wh, size_t n, const float *k, int nk, double thr);

/* The evolution's fitness: the mean over boxes of the best anchor's ratio metric
 * min(r, 1/r) (worst of w and h), counted only where it is above 1/thr. */
double anchor_fitness(const float *wh, size_t n, const float *k, int nk, double thr);

/* scipy.cluster.vq.kmeans(wh / sigma, nk, iter=30) * sigma: the lowest-distortion of
 * 30 Lloyd runs, each from nk distinct random boxes and run until the mean distance
 * improves by at most 1e-5; clusters that lose every member are dropped, as scipy
 * does.  Writes nk anchors to k and returns 1, or returns 0 when fewer than nk
 * clusters survive (or n < nk): YOLOv5 then starts from random anchors. */
int anchor_kmeans(const float *wh, size_t n, int nk, uint64_t seed, float *k);

/* gen generations: each multiplies the anchors by 1 + N(0, 1) * 0.1 * u (u uniform
 * per generation, each value mutated with probability 0.9, factors clipped to
 * 0.3..3, anchors to >= 2 px) and keeps the result if its fitness is higher.
 * Improves k (nk pairs) in place; returns its fitness. */
double anchor_evolve(const float *wh, size_t n, float *k, int nk, double thr, int gen, uint64_t seed);

/* kmean_anchors: the boxes of at least 2 px in w or h, k-means (random anchors in
 * 0..imgsz if it fails), gen generations of evolution, sorted by area.  k: nk pairs.
 * Fails only when no box is left or memory runs out. */
dy_status anchor_compute(const float *wh, size_t n, int nk, int imgsz, double thr, int gen, uint64_t seed,
                         float *k);

/* check_anchor_order: the levels' mean anchor areas must grow with their strides;
 * reverses the levels of k (nl levels of na pairs) when they do not.  Returns 1 when
 * it reversed them. */
int anchor_order(float *k, int nl, int na, const float *stride);

/* YOLOv5 keeps anchors in grid units (pixels / stride) and rounds them to binary16
 * ("pre-reduce anchor precision"); this rounds pixel anchors the same way. */
void anchor_round_f16(float *k, int nl, int na, const float *stride);

#endif
