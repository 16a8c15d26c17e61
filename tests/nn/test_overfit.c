/* test_overfit.c -- proof that the engine learns: yolov5n (nc = 2) trained with plain
 * SGD (written here; the real optimizer lives in src/train/) on 8 synthetic 128 px
 * images of coloured rectangles must cut its total loss by at least 10x, and after a
 * simple NMS its boxes must land on the objects (IoU > 0.5 with the right class for
 * at least 90% of them). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/timer.h"
#include "model/model.h"
#include "tests/tap.h"

enum { B = 8, S = 128, MAXT = 3 * B };
static float LR = 0.05f, MOM = 0.937f;
enum { NSTEPS = 450, MAXSTEPS = 650 };

static int draw(uint8_t *img, float *tg)
{
    rng_stream r;
    rng_stream_init(&r, 42, 1, 0, 0);
    int nt = 0;
    memset(img, 110, (size_t)B * 3 * S * S);
    for (int b = 0; b < B; b++) {
        int n = 1 + (int)rng_below(&r, 3);
        for (int k = 0; k < n; k++) {
            int w = 18 + (int)rng_below(&r, 40), h = 18 + (int)rng_below(&r, 40);
            int x0 = (int)rng_below(&r, (uint32_t)(S - w)), y0 = (int)rng_below(&r, (uint32_t)(S - h));
            int cls = (int)rng_below(&r, 2);
            /* keep objects apart: skip one that overlaps an earlier one of this image */
            int clash = 0;
            for (int t = 0; t < nt; t++) {
                const float *o = tg + 6 * t;
                if ((int)o[0] != b) continue;
                if (fabsf(o[2] * S - (x0 + w / 2.f)) < (o[4] * S + w) / 2 + 4 &&
                    fabsf(o[3] * S - (y0 + h / 2.f)) < (o[5] * S + h) / 2 + 4) clash = 1;
            }
            if (clash) continue;
            static const uint8_t col[2][3] = {{220, 40, 40}, {40, 60, 220}};
            for (int c = 0; c < 3; c++)
                for (int y = y0; y < y0 + h; y++)
                    memset(img + (((size_t)b * 3 + c) * S + y) * S + x0, col[cls][c], (size_t)w);
            float *t = tg + 6 * nt++;
            t[0] = (float)b;
            t[1] = (float)cls;
            t[2] = (x0 + w / 2.f) / S;
            t[3] = (y0 + h / 2.f) / S;
            t[4] = (float)w / S;
            t[5] = (float)h / S;
        }
    }
    return nt;
}

static float iou(const float *a, const float *b) /* cx, cy, w, h */
{
    float iw = fminf(a[0] + a[2] / 2, b[0] + b[2] / 2) - fmaxf(a[0] - a[2] / 2, b[0] - b[2] / 2);
    float ih = fminf(a[1] + a[3] / 2, b[1] + b[3] / 2) - fmaxf(a[1] - a[3] / 2, b[1] - b[3] / 2);
    if (iw <= 0 || ih <= 0) return 0;
    return iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih);
}

typedef struct {
    float box[4], conf;
    int cls;
} det;

static int cmp_det(const void *a, const void *b)
{
    float x = ((const det *)a)->conf, y = ((const det *)b)->conf;
    return (x < y) - (x > y);
}

/* Greedy per-class NMS over one image's decoded rows; returns the kept count. */
static int nms(const float *rows, size_t na, int nc, det *out, int maxo)
{
    int n = 0;
    det *cand = malloc(sizeof(det) * na);
    for (size_t i = 0; i < na; i++) {
        const float *r = rows + i * (5 + (size_t)nc);
        int best = 0;
        for (int c = 1; c < nc; c++) if (r[5 + c] > r[5 + best]) best = c;
        float conf = r[4] * r[5 + best];
        if (conf < 0.25f) continue;
        memcpy(cand[n].box, r, 4 * sizeof(float));
        cand[n].conf = conf;
        cand[n++].cls = best;
    }
    qsort(cand, (size_t)n, sizeof(det), cmp_det);
    int kept = 0;
    for (int i = 0; i < n && kept < maxo; i++) {
        int ok = 1;
        for (int j = 0; j < kept && ok; j++)
            if (out[j].cls == cand[i].cls && iou(out[j].box, cand[i].box) > 0.45f) ok = 0;
        if (ok) out[kept++] = cand[i];
    }
    free(cand);
    return kept;
}

int main(int argc, char **argv)
{
    (void)argc;
    tn_cpu_blas_fix_coretype(argv);
    if (getenv("OVERFIT_LR")) LR = (float)atof(getenv("OVERFIT_LR"));
    if (getenv("OVERFIT_MOM")) MOM = (float)atof(getenv("OVERFIT_MOM"));
    const char *top = getenv("TOP_SRCDIR");
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/configs/models/yolov5n.json", top ? top : "..");
    yolo_model *m;
    if (!TAP_OK(yolo_model_create(spec, 2, &m) == DY_OK, "yolov5n builds with nc=2")) {
        tap_diag("%s", err_msg());
        return tap_done();
    }
    yolo_model_init(m, 1);
    yolo_model_opts o = {.threads = 1, .loss_scale = 1.f};
    yolo_model_set_opts(m, &o);
    TAP_OK(yolo_model_plan(m, B, S, S) == DY_OK, "plan %dx%d batch %d", S, S, B);
    uint8_t *img = malloc((size_t)B * 3 * S * S);
    float tg[6 * MAXT];
    int nt = draw(img, tg);
    size_t np = yolo_model_num_params(m);
    float *mom = calloc(np, sizeof(float)), *p = yolo_model_params(m), *g = yolo_model_grads(m);
    const tn_backend *be = tn_backend_cpu();
    double t0 = timer_now(), first = 0, last = 0;
    int steps = 0;
    for (; steps < MAXSTEPS; steps++) {
        yolo_loss_parts lp;
        yolo_model_forward(m, img, 1);
        if (yolo_model_loss(m, tg, nt, &lp) != DY_OK) break;
        yolo_model_backward(m);
        if (steps == 0) first = lp.total;
        last = lp.total;
        if (steps % 50 == 0) tap_diag("step %3d loss %.4f (box %.4f obj %.4f cls %.4f) %.0f s", steps, lp.total,
                                      lp.box, lp.obj, lp.cls, timer_now() - t0);
        if (last < first / 12) break;
        /* warm-up, then a linear decay to 10% that lets the fit settle */
        float lr = LR * (steps < 20 ? (steps + 1) / 20.f : fmaxf(0.1f, 1.f - 0.9f * steps / NSTEPS));
        for (int i = 0; i < yolo_model_num_param_ranges(m); i++) {
            const nn_param_range *r = yolo_model_param_range(m, i);
            be->sgd_update(r->count, p + r->offset, g + r->offset, mom + r->offset, lr, MOM,
                           r->group == 0 ? 5e-4f : 0.f, 1);
        }
    }
    tap_diag("%d steps in %.1f s: loss %.4f -> %.4f", steps, timer_now() - t0, first, last);
    TAP_OK(last <= first / 10, "total loss fell at least 10x (%.4f -> %.4f)", first, last);
    yolo_model_forward(m, img, 0);
    size_t na = yolo_model_num_anchors_total(m);
    float *dec = malloc(sizeof(float) * B * na * 7);
    yolo_model_decode(m, dec);
    det kept[64];
    int hit = 0;
    for (int b = 0; b < B; b++) {
        int k = nms(dec + (size_t)b * na * 7, na, 2, kept, 64);
        for (int t = 0; t < nt; t++) {
            if ((int)tg[6 * t] != b) continue;
            float gt[4] = {tg[6 * t + 2] * S, tg[6 * t + 3] * S, tg[6 * t + 4] * S, tg[6 * t + 5] * S};
            float best = 0;
            for (int j = 0; j < k; j++)
                if (kept[j].cls == (int)tg[6 * t + 1]) best = fmaxf(best, iou(gt, kept[j].box));
            hit += best > 0.5f;
        }
    }
    TAP_OK(hit * 10 >= nt * 9, "after NMS, %d of %d objects found with IoU > 0.5 and the right class", hit, nt);
    free(img); free(mom); free(dec);
    yolo_model_free(m);
    return tap_done();
}
