/* test_eval_dist.c -- distributed evaluation gives bit-identical metrics: each rank
 * holds a disjoint slice of a random validation set, gathers, evaluates with both
 * protocols, and compares with the whole set evaluated locally.  Rank 0 prints the
 * metrics as hex so the wrapper can compare world sizes 1-4 too. */
#include <stdlib.h>
#include <string.h>

#include "eval/coco_eval.h"
#include "eval/eval_dist.h"
#include "eval/yolo_ap.h"
#include "tests/tap.h"

enum { NIMG = 40, NCAT = 3 };

/* Deterministic LCG so every rank builds the same global set. */
static double uni(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* Appends image `img`'s boxes to s (same sequence on every rank). */
static void add_image(eval_set *s, int img)
{
    unsigned long long st = 1234567ull + (unsigned long long)img * 7919ull;
    eval_set_add_image(s, img);
    int ng = (int)(uni(&st) * 6);
    for (int i = 0; i < ng; i++) {
        eval_gt g = {.image_id = img, .ann_id = img * 100 + i + 1, .category = (int)(uni(&st) * NCAT)};
        g.x = uni(&st) * 400, g.y = uni(&st) * 400, g.w = 8 + uni(&st) * 150, g.h = 8 + uni(&st) * 150;
        g.area = g.w * g.h;
        g.iscrowd = uni(&st) < 0.1;
        eval_set_add_gt(s, &g);
        if (uni(&st) < 0.8) {
            eval_dt d = {.image_id = img, .category = g.category, .score = uni(&st)};
            d.x = g.x + (uni(&st) - 0.5) * 10, d.y = g.y + (uni(&st) - 0.5) * 10, d.w = g.w, d.h = g.h;
            eval_set_add_dt(s, &d);
        }
    }
    for (int i = 0; i < 3; i++) {
        eval_dt d = {.image_id = img, .category = (int)(uni(&st) * NCAT), .score = uni(&st) * 0.5};
        d.x = uni(&st) * 400, d.y = uni(&st) * 400, d.w = 20, d.h = 30;
        eval_set_add_dt(s, &d);
    }
}

int main(int argc, char **argv)
{
    int rank, world;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    if (rank && !freopen("/dev/null", "w", stdout)) return 1;
    eval_set full, mine, all;
    eval_set_init(&full, NCAT);
    eval_set_init(&mine, NCAT);
    for (int i = 0; i < NIMG; i++) {
        add_image(&full, i + 1);
        if (i % world == rank) add_image(&mine, i + 1); /* interleaved slices */
    }
    TAP_EQ_INT(eval_set_allgather(&mine, MPI_COMM_WORLD, &all), DY_OK, "allgather");
    TAP_EQ_INT(all.ngt, full.ngt, "all ground truth gathered");
    TAP_EQ_INT(all.ndt, full.ndt, "all detections gathered");
    TAP_EQ_INT(all.nimages, NIMG, "all images gathered");
    coco_eval_result c1, c2;
    yolo_ap_result y1, y2;
    coco_eval_run(&full, &c1), coco_eval_run(&all, &c2);
    yolo_ap_run(&full, &y1), yolo_ap_run(&all, &y2);
    TAP_OK(!memcmp(c1.stats, c2.stats, sizeof c1.stats), "coco stats bit-identical to the undistributed run");
    TAP_OK(y1.map == y2.map && y1.map50 == y2.map50 && y1.mp == y2.mp && y1.mr == y2.mr,
           "yolo metrics bit-identical to the undistributed run");
    TAP_OK(c2.stats[0] > 0 && c2.stats[0] < 1, "a non-trivial AP (%.4f)", c2.stats[0]);
    printf("# METRICS");
    for (int i = 0; i < COCO_NSTATS; i++) printf(" %a", c2.stats[i]);
    printf(" %a %a %a %a\n", y2.map, y2.map50, y2.mp, y2.mr);
    int bad = tap_failed, any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    coco_eval_free(&c1), coco_eval_free(&c2), yolo_ap_free(&y1), yolo_ap_free(&y2);
    eval_set_free(&full), eval_set_free(&mine), eval_set_free(&all);
    int rc = tap_done();
    MPI_Finalize();
    return any ? 1 : rc;
}
