/* test_pt_forward.c -- dyolo's eval-mode forward on an imported YOLOv5 checkpoint
 * equals YOLOv5's own (tests/io/pt_import.sh).
 *
 * usage: test_pt_forward WEIGHTS EXPECTED.bin NAMES
 * Loads WEIGHTS as val and detect do (weights_load), runs the forward pass in eval
 * mode on the fixed 2 x 3 x 64 x 64 images that tests/io/make_pt_fixtures.py fed to
 * YOLOv5, decodes, and compares with EXPECTED.bin (YOLOv5's output, float32
 * [2][anchors][5 + nc]): boxes within 1e-4 of the image size, objectness and class
 * scores within 1e-4.  NAMES ("red,green,blue") are the class names it must carry.
 * Prints TAP. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/weights.h"
#include "../tap.h"

enum { BATCH = 2, SIZE = 64 };

/* The images of make_pt_fixtures.py's images(). */
static void make_images(uint8_t *im)
{
    for (int b = 0; b < BATCH; b++)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < SIZE; y++)
                for (int x = 0; x < SIZE; x++)
                    im[((b * 3 + c) * SIZE + y) * SIZE + x] =
                        (uint8_t)((x * 7 + y * 13 + c * 29 + b * 53 + (x * y) % 17) % 256);
}

static float *read_expected(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    float *v = len > 0 ? malloc((size_t)len) : NULL;
    *n = v && fread(v, 1, (size_t)len, f) == (size_t)len ? (size_t)len / sizeof *v : 0;
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s WEIGHTS EXPECTED.bin NAMES\n", argv[0]);
        return 2;
    }
    MPI_Init(&argc, &argv);
    yolo_model *m = NULL;
    weights_info info;
    int ok = TAP_OK(weights_load(argv[1], MPI_COMM_SELF, &m, &info) == DY_OK, "weights_load %s", argv[1]);
    if (!ok) tap_diag("%s", err_msg());
    size_t nexp = 0;
    float *exp = read_expected(argv[2], &nexp);
    TAP_OK(exp != NULL, "read %s (%zu values)", argv[2], nexp);
    if (ok && exp) {
        char names[256] = "";
        for (int k = 0; k < info.nc; k++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "," : "", info.names[k]);
        TAP_OK(!strcmp(names, argv[3]), "class names \"%s\" (want \"%s\")", names, argv[3]);
        uint8_t *im = malloc(BATCH * 3 * SIZE * SIZE);
        make_images(im);
        dy_status s = yolo_model_plan(m, BATCH, SIZE, SIZE);
        if (s == DY_OK) s = yolo_model_forward(m, im, 0);
        TAP_OK(s == DY_OK, "eval forward %dx3x%dx%d", BATCH, SIZE, SIZE);
        const size_t no = 5 + (size_t)info.nc, n = BATCH * yolo_model_num_anchors_total(m) * no;
        TAP_OK(n == nexp, "output has YOLOv5's size (%zu values, expected %zu)", n, nexp);
        if (s == DY_OK && n == nexp) {
            float *out = malloc(n * sizeof *out);
            yolo_model_decode(m, out);
            double ebox = 0, escore = 0, smax = 0;
            size_t at_box = 0, at_score = 0;
            for (size_t i = 0; i < n; i++) {
                double d = fabs((double)out[i] - exp[i]);
                if (!isfinite(d)) d = INFINITY; /* a NaN must fail, not compare false */
                if (i % no < 4 && d > ebox) ebox = d, at_box = i;
                if (i % no >= 4 && d > escore) escore = d, at_score = i;
                if (i % no >= 4) smax = fmax(smax, exp[i]);
            }
            TAP_OK(ebox <= 1e-4 * SIZE, "boxes: max |dyolo - YOLOv5| %.3g px <= %.3g (at %zu: %g vs %g)", ebox,
                   1e-4 * SIZE, at_box, out[at_box], exp[at_box]);
            TAP_OK(escore <= 1e-4, "scores: max |dyolo - YOLOv5| %.3g <= 1e-4 (at %zu: %g vs %g)", escore, at_score,
                   out[at_score], exp[at_score]);
            TAP_OK(smax > 0.01, "the reference is not trivial (max score %.3g)", smax);
            free(out);
        }
        free(im);
    }
    free(exp);
    if (m) yolo_model_free(m), weights_info_free(&info);
    MPI_Finalize();
    return tap_done();
}
