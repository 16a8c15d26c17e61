/* test_autoanchor.c -- AutoAnchor (model/autoanchor.h): the fit metric on sizes worked
 * out by hand, k-means on separated clusters and its failure cases, the evolution
 * (never worse, deterministic), a dataset of long thin boxes that the default anchors
 * cannot fit and evolved ones do, the order and precision fixes, and the spec text
 * round trip that carries new anchors into checkpoints (model/model.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/rng.h"
#include "model/autoanchor.h"
#include "model/model.h"
#include "tensor/backend.h"
#include "tests/tap.h"

/* yolov5n.json's anchors, P3..P5 */
static const float DEF[18] = {10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326};
static const float STRIDE[3] = {8, 16, 32};

static void test_metric(void)
{
    /* (10,13) fits 3 anchors (itself, 16x30 at 0.433, 33x23 at 0.303); (100,100) fits
     * the six from 30x61 up (worst ratio 0.268 for 373x326); (400,10) fits none. */
    float wh[6] = {10, 13, 100, 100, 400, 10};
    anchor_fit f = anchor_metric(wh, 3, DEF, 9, 4.0);
    TAP_NEAR(f.bpr, 2.0 / 3.0, 1e-12, "BPR: 2 of 3 boxes have an anchor within 4x");
    TAP_NEAR(f.aat, 3.0, 1e-12, "anchors above threshold: (3 + 6 + 0) / 3");
    TAP_NEAR(anchor_fitness(wh, 1, DEF, 9, 4.0), 1.0, 1e-12, "fitness of a box equal to an anchor is 1");
    TAP_NEAR(anchor_fitness(wh + 4, 1, DEF, 9, 4.0), 0.0, 1e-12, "a box no anchor fits adds 0 to the fitness");
    TAP_NEAR(anchor_fitness(wh, 3, DEF, 9, 4.0), (1.0 + 100.0 / 116) / 3, 1e-6,
             "fitness: the mean of the best ratios above 1/4 (100x100 best by 116x90)");
    anchor_fit z = anchor_metric(wh, 0, DEF, 9, 4.0);
    TAP_OK(z.bpr == 0 && z.aat == 0, "no boxes: BPR 0");
}

/* n boxes around each of nc centres, jitter +-1 px */
static float *clusters(const float *ctr, int nc, int n, uint64_t seed)
{
    float *wh = malloc(sizeof *wh * 2 * (size_t)(nc * n));
    rng_stream r;
    rng_stream_init(&r, seed, 7, 0, 0);
    for (int c = 0; c < nc; c++)
        for (int i = 0; i < n; i++) {
            wh[2 * (c * n + i)] = ctr[2 * c] + rng_uniform_range(&r, -1, 1);
            wh[2 * (c * n + i) + 1] = ctr[2 * c + 1] + rng_uniform_range(&r, -1, 1);
        }
    return wh;
}

static void test_kmeans(void)
{
    const float ctr[6] = {10, 10, 50, 20, 20, 80};
    float *wh = clusters(ctr, 3, 40, 1), k[6];
    int ok = anchor_kmeans(wh, 120, 3, 5, k), found = 0;
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < 3; j++) found += fabsf(k[2 * j] - ctr[2 * c]) < 0.5f && fabsf(k[2 * j + 1] - ctr[2 * c + 1]) < 0.5f;
    TAP_OK(ok && found == 3, "k-means finds the three cluster centres (%g,%g %g,%g %g,%g)", k[0], k[1], k[2], k[3], k[4],
           k[5]);
    TAP_OK(!anchor_kmeans(wh, 2, 3, 5, k), "k-means with fewer boxes than anchors fails (random init follows)");
    float same[8] = {5, 5, 5, 5, 5, 5, 5, 5};
    TAP_OK(!anchor_kmeans(same, 4, 2, 5, k), "identical boxes (zero spread) fail like scipy's non-finite input");
    free(wh);
}

/* long thin boxes: 150..300 x 4..8 px, which no default anchor fits within 4x */
static float *thin(int n)
{
    float *wh = malloc(sizeof *wh * 2 * (size_t)n);
    rng_stream r;
    rng_stream_init(&r, 3, 9, 0, 0);
    for (int i = 0; i < n; i++) wh[2 * i] = rng_uniform_range(&r, 150, 300), wh[2 * i + 1] = rng_uniform_range(&r, 4, 8);
    return wh;
}

static void test_evolve_and_compute(void)
{
    float *wh = thin(300), k[18], k2[18];
    TAP_NEAR(anchor_metric(wh, 300, DEF, 9, 4.0).bpr, 0.0, 1e-12, "the default anchors fit none of the thin boxes");
    memcpy(k, DEF, sizeof k);
    double f0 = anchor_fitness(wh, 300, k, 9, 4.0), f1 = anchor_evolve(wh, 300, k, 9, 4.0, 300, 11);
    TAP_OK(f1 >= f0 && fabs(f1 - anchor_fitness(wh, 300, k, 9, 4.0)) < 1e-12,
           "evolution never lowers the fitness and returns that of its anchors (%.3f -> %.3f)", f0, f1);
    TAP_OK(anchor_compute(wh, 300, 9, 320, 4.0, 1000, 42, k) == DY_OK, "anchor_compute runs");
    anchor_fit f = anchor_metric(wh, 300, k, 9, 4.0);
    TAP_OK(f.bpr >= 0.98, "evolved anchors fit the thin boxes: BPR %.3f, %.2f anchors/target", f.bpr, f.aat);
    int sorted = 1;
    for (int a = 1; a < 9; a++) sorted &= k[2 * a - 2] * k[2 * a - 1] <= k[2 * a] * k[2 * a + 1];
    TAP_OK(sorted, "anchors come sorted by area (small ones to P3)");
    TAP_OK(anchor_compute(wh, 300, 9, 320, 4.0, 1000, 42, k2) == DY_OK && !memcmp(k, k2, sizeof k),
           "same sizes and seed: the same anchors");
    float tiny[4] = {1, 1, 1.5f, 0.5f};
    TAP_OK(anchor_compute(tiny, 2, 9, 320, 4.0, 10, 1, k2) != DY_OK, "only boxes under 2 px: a clear error");
    /* 5 boxes for 9 anchors: k-means cannot run; YOLOv5 starts from random anchors in
     * 0..imgsz (its fitness is flat where no box fits, so this start rarely fits thin
     * boxes: the caller keeps the old anchors unless the BPR improves) */
    int good = anchor_compute(wh, 5, 9, 320, 4.0, 100, 1, k2) == DY_OK;
    for (int a = 0; a < 9; a++) good &= k2[2 * a] > 0 && k2[2 * a] < 3 * 320 && k2[2 * a + 1] > 0 && k2[2 * a + 1] < 3 * 320;
    for (int a = 1; a < 9; a++) good &= k2[2 * a - 2] * k2[2 * a - 1] <= k2[2 * a] * k2[2 * a + 1];
    TAP_OK(good, "fewer boxes than anchors: random start in 0..imgsz, sorted anchors");
    free(wh);
}

static void test_order_round(void)
{
    float k[18];
    for (int l = 0; l < 3; l++) memcpy(k + 6 * l, DEF + 6 * (2 - l), 6 * sizeof *k);
    TAP_OK(anchor_order(k, 3, 3, STRIDE) == 1 && !memcmp(k, DEF, sizeof k), "levels in reverse area order are flipped");
    TAP_OK(anchor_order(k, 3, 3, STRIDE) == 0 && !memcmp(k, DEF, sizeof k), "levels in stride order are kept");
    float r[18];
    memcpy(r, DEF, sizeof r);
    r[0] = 10.3f; /* 1.2875 grid cells at stride 8: binary16 holds 1.287109375 */
    anchor_round_f16(r, 3, 3, STRIDE);
    TAP_NEAR(r[0], 1.287109375 * 8, 1e-9, "anchors rounded to binary16 in grid units (YOLOv5's half().float())");
    TAP_OK(!memcmp(r + 1, DEF + 1, sizeof r - sizeof *r), "integer anchors are exact in binary16: unchanged");
}

static void test_spec_roundtrip(void)
{
    const char *top = getenv("TOP_SRCDIR");
    char path[1024], *text = NULL, *out = NULL;
    snprintf(path, sizeof path, "%s/configs/models/yolov5n.json", top ? top : "..");
    yolo_model *m = NULL, *m2 = NULL;
    if (fs_read_file(path, "spec", &text, NULL) != DY_OK || yolo_model_create_json(text, "n", 3, &m) != DY_OK) {
        TAP_OK(0, "cannot build %s: %s", path, err_msg());
        return;
    }
    float k[18];
    for (int j = 0; j < 18; j++) k[j] = DEF[j] * 1.5f + 0.25f;
    yolo_model_set_anchors(m, k);
    TAP_OK(yolo_model_head(m)->anchors[1][2][1] == k[11] && yolo_model_head(m)->anchors[2][0][0] == k[12],
           "set_anchors fills levels in order");
    TAP_OK(yolo_spec_with_anchors(text, m, &out) == DY_OK, "spec text with the model's anchors");
    TAP_OK(yolo_model_create_json(out ? out : "", "n", 3, &m2) == DY_OK &&
               !memcmp(yolo_model_head(m2)->anchors, yolo_model_head(m)->anchors, sizeof yolo_model_head(m)->anchors),
           "a model built from that text has exactly the new anchors");
    TAP_OK(yolo_model_anchors_from_spec(m2, text) == DY_OK && yolo_model_head(m2)->anchors[0][0][0] == 10.f,
           "anchors_from_spec takes a saved spec's anchors");
    TAP_OK(yolo_model_anchors_from_spec(m2, "{\"anchors\": [[10, 13]]}") != DY_OK &&
               yolo_model_head(m2)->anchors[0][0][0] == 10.f && yolo_model_head(m2)->nl == 3,
           "a saved spec with other levels/anchors is refused, the model unchanged");
    TAP_OK(yolo_model_anchors_from_spec(m2, "{not json") != DY_OK, "a corrupt saved spec is an error");
    yolo_model_free(m), yolo_model_free(m2), free(text), free(out);
}

int main(void)
{
    test_metric();
    test_kmeans();
    test_evolve_and_compute();
    test_order_round();
    test_spec_roundtrip();
    return tap_done();
}
