/* onnx_ref.c -- helper of tests/io/onnx_export.sh: makes a weights file from a randomly
 * initialised model with random BN statistics (so that folding BN matters), dumps
 * dyolo's eval-mode decoded output on fixed images as raw floats (the reference the
 * ONNX model must reproduce), and exports with a deliberate fault (to show that the
 * comparison catches it).
 *
 *   onnx_ref make SPEC NC IMGSZ SEED OUT.h5
 *   onnx_ref dump WEIGHTS BATCH H W OUT_PREFIX   -> OUT_PREFIX.u8  images [B,3,H,W] uint8
 *                                               OUT_PREFIX.f32 decoded [B,anchors,5+nc]
 *   onnx_ref export WEIGHTS OUT.onnx H W BATCH nofold|eps|grid
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/rng.h"
#include "eval/weights.h"
#include "io/ckpt.h"
#include "io/onnx_export.h"

/* Gamma, beta, running mean and var drawn away from their initial 1, 0, 0, 1; the
 * variances go down to 0.05, where eps 1e-3 against 1e-5 changes the scale by 1%. */
static void randomise_bn(yolo_model *m, uint64_t seed)
{
    nn_graph *g = yolo_model_graph(m);
    float *P = yolo_model_params(m), *B = yolo_model_buffers(m);
    rng_stream r;
    rng_stream_init(&r, seed, 0x626e, 0, 0);
    for (int i = 0; i < g->nnodes; i++) {
        const nn_node *n = &g->nodes[i];
        if (n->kind != NN_CONV || !n->bn) continue;
        size_t wc = n->pcount - 2 * (size_t)n->c;
        for (int c = 0; c < n->c; c++) {
            P[n->poff + wc + c] = rng_uniform_range(&r, 0.5f, 1.5f);
            P[n->poff + wc + n->c + c] = rng_uniform_range(&r, -0.3f, 0.3f);
            B[n->boff + c] = rng_uniform_range(&r, -0.3f, 0.3f);
            B[n->boff + n->c + c] = rng_uniform_range(&r, 0.05f, 1.5f);
        }
    }
}

static dy_status make(const char *spec, int nc, int imgsz, uint64_t seed, const char *out)
{
    char *text = NULL;
    DY_TRY(fs_read_file(spec, "model spec", &text, NULL));
    yolo_model *m = NULL;
    dy_status s = yolo_model_create_json(text, spec, nc, &m);
    if (s == DY_OK) s = yolo_model_init(m, seed);
    if (s == DY_OK) randomise_bn(m, seed);
    ckpt_writer *w = NULL;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? out + (slash - dir) + 1 : out;
    if (slash) *slash = '\0';
    if (s == DY_OK) s = ckpt_writer_begin(&w, slash ? dir : ".", base, MPI_COMM_SELF);
    if (s == DY_OK) ckpt_writer_set_pointers(w, 0);
    if (s == DY_OK) s = ckpt_add_array(w, "params", CKPT_F32, yolo_model_params(m), (int64_t)yolo_model_num_params(m));
    if (s == DY_OK) s = ckpt_add_array(w, "buffers", CKPT_F32, yolo_model_buffers(m), (int64_t)yolo_model_num_buffers(m));
    if (s == DY_OK) s = ckpt_add_text(w, "model_spec", text);
    if (s == DY_OK) s = ckpt_add_text(w, "class_names", "[\"red cell\", \"it's\", \"platelet\"]");
    if (s == DY_OK) s = ckpt_attr_set_str(w, "schema", CKPT_WEIGHTS_SCHEMA_NAME);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "nc", nc);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "imgsz", imgsz);
    if (s == DY_OK) s = ckpt_commit(w);
    ckpt_writer_free(w);
    yolo_model_free(m);
    free(text);
    return s;
}

static dy_status write_raw(const char *prefix, const char *ext, const void *p, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.%s", prefix, ext);
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(p, 1, bytes, f) != bytes;
    if (f) bad |= fclose(f) != 0;
    return bad ? DY_ERR(DY_EIO, "cannot write %s", path) : DY_OK;
}

static dy_status dump(const char *weights, int batch, int h, int w, const char *prefix)
{
    yolo_model *m = NULL;
    weights_info wi;
    DY_TRY(weights_load(weights, MPI_COMM_SELF, &m, &wi));
    size_t npix = (size_t)batch * 3 * h * w;
    uint8_t *img = malloc(npix);
    float *out = NULL;
    dy_status s = img ? yolo_model_plan(m, batch, h, w) : DY_ERR(DY_ENOMEM, "out of memory");
    size_t nout = (size_t)batch * yolo_model_num_anchors_total(m) * (5 + (size_t)wi.nc);
    if (s == DY_OK && !(out = malloc(sizeof *out * nout))) s = DY_ERR(DY_ENOMEM, "out of memory");
    if (s == DY_OK) {
        /* Smooth gradients plus noise, different in every image and channel. */
        rng_stream r;
        rng_stream_init(&r, 7, 0x696d, 0, 0);
        for (size_t i = 0; i < npix; i++) {
            size_t x = i % w, y = i / w % h, c = i / ((size_t)w * h) % 3, b = i / ((size_t)3 * w * h);
            float v = 128.f + 90.f * (float)((x * (c + 1) + y * (b + 2)) % 64) / 64.f - 45.f +
                      rng_uniform_range(&r, -30.f, 30.f);
            img[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        s = yolo_model_forward(m, img, 0);
    }
    if (s == DY_OK) {
        yolo_model_decode(m, out);
        s = write_raw(prefix, "u8", img, npix);
    }
    if (s == DY_OK) s = write_raw(prefix, "f32", out, sizeof *out * nout);
    free(img);
    free(out);
    yolo_model_free(m);
    weights_info_free(&wi);
    return s;
}

static dy_status export_fault(const char *weights, const char *out, int h, int w, int batch, const char *fault)
{
    yolo_model *m = NULL;
    weights_info wi;
    DY_TRY(weights_load(weights, MPI_COMM_SELF, &m, &wi));
    onnx_export_opts o;
    onnx_export_defaults(&o);
    o.h = h, o.w = w, o.batch = batch;
    o.nc = wi.nc, o.names = wi.names;
    o.fault = !strcmp(fault, "nofold") ? ONNX_FAULT_NO_BN_FOLD
              : !strcmp(fault, "eps")  ? ONNX_FAULT_BN_EPS
              : !strcmp(fault, "grid") ? ONNX_FAULT_GRID
                                       : ONNX_FAULT_NONE;
    dy_status s = o.fault ? onnx_export(m, &o, out) : DY_ERR(DY_EINVAL, "unknown fault \"%s\"", fault);
    yolo_model_free(m);
    weights_info_free(&wi);
    return s;
}

int main(int argc, char **argv)
{
    int prov;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    dy_status s = DY_EINVAL;
    if (argc == 7 && !strcmp(argv[1], "make"))
        s = make(argv[2], atoi(argv[3]), atoi(argv[4]), strtoull(argv[5], NULL, 10), argv[6]);
    else if (argc == 7 && !strcmp(argv[1], "dump"))
        s = dump(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argv[6]);
    else if (argc == 8 && !strcmp(argv[1], "export"))
        s = export_fault(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), argv[7]);
    else
        err_set(DY_EINVAL, "usage: onnx_ref make|dump|export ... (see the file's header)");
    if (s != DY_OK) fprintf(stderr, "onnx_ref: error: %s\n", err_msg());
    MPI_Finalize();
    return s == DY_OK ? 0 : 1;
}
