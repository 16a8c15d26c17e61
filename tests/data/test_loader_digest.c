/* test_loader_digest.c -- runs the loader under MPI and prints one line per image
 * produced: "epoch index crc(image) crc(targets) ntargets", so a shell test can
 * check that a sample's augmented output is identical whichever rank/thread (and
 * world size) made it, and that ranks' slices are disjoint and cover the dataset.
 * usage: test_loader_digest SHARDS train|val|valrect BATCH WORKERS EPOCHS IMGSZ [START_POS] */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/crc32c.h"
#include "data/loader.h"

/* Val contract: (net - pad) / scale, per axis, maps every target back onto the sample's
 * stored box in original pixels.  Returns the largest error in pixels. */
static double map_back_error(data_loader *l, const data_batch *b)
{
    double worst = 0;
    for (int t = 0; t < b->ntargets; t++) {
        const float *x = &b->targets[6 * t];
        int i = (int)x[0];
        const float *lb = &b->letterbox[4 * i];
        shard_sample m;
        shard_sample_get(loader_shards(l), b->index[i], &m);
        double best = 1e9; /* targets keep the stored order, but match by nearest box */
        for (int k = 0; k < m.nbox; k++) {
            double e = 0;
            double net[4] = {x[2] * b->w, x[3] * b->h, x[4] * b->w, x[5] * b->h};
            double org[4] = {m.box[4 * k] * m.orig_w, m.box[4 * k + 1] * m.orig_h, m.box[4 * k + 2] * m.orig_w,
                             m.box[4 * k + 3] * m.orig_h};
            double back[4] = {(net[0] - lb[2]) / lb[0], (net[1] - lb[3]) / lb[1], net[2] / lb[0], net[3] / lb[1]};
            for (int j = 0; j < 4; j++) e = fmax(e, fabs(back[j] - org[j]));
            best = fmin(best, e);
        }
        worst = fmax(worst, best);
    }
    return worst;
}

static dy_status run(char **argv, int argc, int rank)
{
    loader_opts o;
    loader_opts_default(&o);
    o.train = !strcmp(argv[2], "train");
    o.rect = !strcmp(argv[2], "valrect");
    o.batch = atoi(argv[3]), o.workers = atoi(argv[4]), o.imgsz = atoi(argv[6]), o.prefetch = 3, o.seed = 7;
    int epochs = atoi(argv[5]);
    int64_t start = argc > 7 ? atoll(argv[7]) : 0;
    const char *paths[1] = {argv[1]};
    data_loader *l;
    DY_TRY(loader_open(&l, paths, 1, &o, MPI_COMM_WORLD));
    for (int e = 0; e < epochs; e++) {
        DY_TRY(loader_start_epoch(l, e, e == 0 ? start : 0));
        data_batch *b;
        for (;;) {
            DY_TRY(loader_next(l, &b));
            if (!b) break;
            size_t isz = (size_t)3 * b->h * b->w;
            if (!o.train) printf("maperr %.4f\n", map_back_error(l, b));
            for (int i = 0; i < b->n; i++) {
                uint32_t ct = 0;
                int nt = 0;
                for (int t = 0; t < b->ntargets; t++)
                    if ((int)b->targets[6 * t] == i) {
                        ct = crc32c_update(ct, &b->targets[6 * t + 1], 5 * sizeof(float));
                        nt++;
                    }
                printf("%lld %lld %08x %08x %d r%d %dx%d\n", (long long)b->epoch, (long long)b->index[i],
                       crc32c(b->images + i * isz, isz), ct, nt, rank, b->h, b->w);
            }
            loader_release(l, b);
        }
    }
    return loader_close(l);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: test_loader_digest SHARDS train|val BATCH WORKERS EPOCHS IMGSZ [START]\n");
        return 2;
    }
    int prov, rank;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    check_h5_quiet();
    dy_status s = run(argv, argc, rank);
    if (s != DY_OK) fprintf(stderr, "test_loader_digest: rank %d: error: %s\n", rank, err_msg());
    fflush(stdout);
    MPI_Finalize();
    return s == DY_OK ? 0 : 1;
}
