/* cli_detect.c -- `dyolo detect`: run trained weights on images; writes annotated
 * JPEGs and a JSON list of detections.  Runs on one process (rank 0 under mpirun);
 * the network on the backend `--device` / runtime.device picks, decode and NMS on
 * the host. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/log.h"
#include "data/image.h"
#include "dist/dist.h"
#include "dist/runtime.h"
#include "eval/draw.h"
#include "eval/nms.h"
#include "eval/weights.h"
#include "core/fsutil.h"

static const char detect_help[] =
    "usage: dyolo detect --weights W --source IMAGE_OR_DIR [--out DIR] [--conf C]\n"
    "                    [--iou I] [--imgsz PX] [--max-det N] [--threads T]\n"
    "                    [--device cpu|cuda|auto] [--config FILE] [--set KEY=VALUE]...\n"
    "\n"
    "Detect objects in one image or every .jpg/.jpeg/.png of a folder with a checkpoint\n"
    "or exported weights. Writes DIR/<image>.jpg with boxes, class names and scores,\n"
    "and DIR/detections.json (boxes as x1, y1, x2, y2 in original pixels). The\n"
    "network runs on the device `--device` (or runtime.device) picks, as for training.\n"
    "\n"
    "  --out DIR     output folder (default runs/detect)\n"
    "  --conf C      confidence threshold (default 0.25)\n"
    "  --iou I       NMS IoU threshold (default 0.45)\n"
    "  --imgsz PX    input size (default: the training size of the weights)\n"
    "  --max-det N   boxes per image at most (default 1000)\n"
    "  --threads T   compute threads (default: runtime.threads, else all cores)\n" CLI_COMMON_HELP;

typedef struct {
    const char *weights, *source, *out;
    float conf, iou;
    int imgsz, max_det, threads;
    cli_common common; /* --device, --config, --set, logging */
} det_args;

static int parse(int argc, char **argv, det_args *a)
{
    *a = (det_args){NULL, NULL, "runs/detect", 0.25f, 0.45f, 0, 1000, 0, {0}};
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&a->common, argc, argv, &i);
        if (r < 0) return cli_usage_error("detect", "option \"%s\" needs a value", argv[i]);
        if (r > 0) continue;
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(detect_help, stdout);
            return -1;
        }
        if (!v) return cli_usage_error("detect", "option \"%s\" needs a value", o);
        if (!strcmp(o, "--weights")) a->weights = v;
        else if (!strcmp(o, "--source")) a->source = v;
        else if (!strcmp(o, "--out")) a->out = v;
        else if (!strcmp(o, "--conf")) a->conf = (float)atof(v);
        else if (!strcmp(o, "--iou")) a->iou = (float)atof(v);
        else if (!strcmp(o, "--imgsz")) a->imgsz = atoi(v);
        else if (!strcmp(o, "--max-det")) a->max_det = atoi(v);
        else if (!strcmp(o, "--threads")) a->threads = atoi(v);
        else return cli_usage_error("detect", "unknown option \"%s\"", o);
        i++;
    }
    if (!a->weights || !a->source) return cli_usage_error("detect", "--weights and --source are required");
    if (a->imgsz < 0 || a->imgsz % 32 || a->max_det < 1) return cli_usage_error("detect", "bad --imgsz or --max-det");
    return 0;
}

static int is_image(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The images to process: the file itself, or the folder's images sorted by name. */
static dy_status list_sources(const char *src, char ***out, int *n)
{
    struct stat st;
    if (stat(src, &st) != 0) return DY_ERR(DY_ENOENT, "--source \"%s\": %s", src, strerror(errno));
    *n = 0;
    *out = NULL;
    if (!S_ISDIR(st.st_mode)) {
        *out = malloc(sizeof **out);
        if (!*out) return DY_ERR(DY_ENOMEM, "out of memory");
        (*out)[(*n)++] = strdup(src);
        return DY_OK;
    }
    DIR *d = opendir(src);
    if (!d) return DY_ERR(DY_EIO, "cannot read folder \"%s\": %s", src, strerror(errno));
    int cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_image(e->d_name)) continue;
        if (*n == cap) {
            char **nl = realloc(*out, sizeof **out * (size_t)(cap = cap ? 2 * cap : 64));
            if (!nl) break;
            *out = nl;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", src, e->d_name);
        (*out)[(*n)++] = strdup(path);
    }
    closedir(d);
    if (*n == 0) return DY_ERR(DY_ENOENT, "no images (.jpg, .jpeg, .png) in folder \"%s\"", src);
    qsort(*out, (size_t)*n, sizeof **out, cmp_str);
    return DY_OK;
}

static dy_status load_image(const char *path, img_rgb *im)
{
    char *buf = NULL;
    size_t n = 0;
    DY_TRY(fs_read_file(path, "image", &buf, &n));
    dy_status s = n ? img_decode((const uint8_t *)buf, n, im, path) : DY_ERR(DY_EFORMAT, "image \"%s\" is empty", path);
    free(buf);
    return s;
}

typedef struct {
    yolo_model *m;
    weights_info wi;
    int imgsz;
    float *pred;
    uint8_t *chw;
    nms_box *boxes;
    nms_ctx ctx;
} detector;

static const uint8_t palette[][3] = {{255, 56, 56}, {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49},
                                     {72, 249, 10},  {146, 204, 23},  {61, 219, 134}, {26, 147, 52},  {0, 212, 187}};

/* Detects on one decoded image; boxes in original pixels. */
static dy_status detect_one(detector *dt, const det_args *a, const img_rgb *im, int *n)
{
    img_rgb lb = {0};
    float scale, px, py;
    DY_TRY(img_letterbox(im, dt->imgsz, dt->imgsz, 1, &lb, &scale, &px, &py));
    size_t hw = (size_t)dt->imgsz * dt->imgsz;
    for (size_t i = 0; i < hw; i++)
        for (int c = 0; c < 3; c++) dt->chw[c * hw + i] = lb.px[3 * i + c];
    img_free(&lb);
    DY_TRY(yolo_model_forward(dt->m, dt->chw, 0));
    yolo_model_decode(dt->m, dt->pred);
    nms_params np = NMS_DETECT_DEFAULTS;
    np.conf_thres = a->conf, np.iou_thres = a->iou, np.max_det = a->max_det;
    DY_TRY(nms_image(&dt->ctx, dt->pred, (int)yolo_model_num_anchors_total(dt->m), dt->wi.nc, &np, dt->boxes, n));
    nms_unletterbox(dt->boxes, *n, scale, scale, px, py, im->w, im->h);
    return DY_OK;
}

/* OUT/stem.jpg, or OUT/name.jpg when an earlier image (sources are sorted) already
 * took that name: x.jpg and x.png once wrote the same file.  `list` holds the
 * earlier records with their "output". */
static dy_status output_name(const char *dir, const char *path, const cJSON *list, char *out, size_t n)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0) snprintf(out, n, "%s/%.*s.jpg", dir, (int)(strrchr(base, '.') - base), base);
        else snprintf(out, n, "%s/%s.jpg", dir, base);
        int taken = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, list) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(r, "output");
            taken |= cJSON_IsString(o) && !strcmp(o->valuestring, out);
        }
        if (!taken) return DY_OK;
    }
    return DY_ERR(DY_EIO, "%s: its output name %s is taken by another image", path, out);
}

static dy_status annotate_and_save(const detector *dt, const det_args *a, const char *path, img_rgb *im, int n,
                                   cJSON *list)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "detections");
    cJSON_AddStringToObject(o, "image", path);
    cJSON_AddNumberToObject(o, "width", im->w);
    cJSON_AddNumberToObject(o, "height", im->h);
    for (int k = 0; k < n; k++) {
        const nms_box *b = &dt->boxes[k];
        const uint8_t *col = palette[b->cls % 10];
        char label[96];
        snprintf(label, sizeof label, "%.60s %.2f", dt->wi.names[b->cls], b->score);
        draw_rect(im->px, im->w, im->h, (int)b->x1, (int)b->y1, (int)b->x2, (int)b->y2, col, 2);
        draw_label(im->px, im->w, im->h, (int)b->x1, (int)b->y1, label, col);
        cJSON *d = cJSON_CreateObject();
        double box[4] = {b->x1, b->y1, b->x2, b->y2};
        cJSON_AddNumberToObject(d, "class", b->cls);
        cJSON_AddStringToObject(d, "name", dt->wi.names[b->cls]);
        cJSON_AddNumberToObject(d, "score", b->score);
        cJSON_AddItemToObject(d, "box", cJSON_CreateDoubleArray(box, 4));
        cJSON_AddItemToArray(arr, d);
    }
    cJSON_AddItemToArray(list, o);
    char out[4096];
    DY_TRY(output_name(a->out, path, list, out, sizeof out));
    cJSON_AddStringToObject(o, "output", out);
    uint8_t *jpg = NULL;
    size_t len = 0;
    DY_TRY(img_encode_jpeg(im, 90, &jpg, &len));
    FILE *f = fopen(out, "wb");
    int bad = !f || fwrite(jpg, 1, len, f) != len;
    if (f) bad |= fclose(f) != 0;
    free(jpg);
    return bad ? DY_ERR(DY_EIO, "cannot write \"%s\": %s", out, strerror(errno)) : DY_OK;
}

static dy_status write_json(const char *dir, cJSON *list)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/detections.json", dir);
    char *s = cJSON_Print(list);
    FILE *f = s ? fopen(path, "w") : NULL;
    int bad = !f || fprintf(f, "%s\n", s) < 0;
    if (f) bad |= fclose(f) != 0;
    cJSON_free(s);
    return bad ? DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(errno)) : DY_OK;
}

static dy_status setup(detector *dt, const det_args *a, const dist_runtime *rt)
{
    DY_TRY(weights_load_on(rt->be, a->weights, MPI_COMM_SELF, &dt->m, &dt->wi));
    /* the backend named is the model's own, so a path that ignored it shows here */
    log_info("compute on %s, the network on backend %s", rt->desc, yolo_model_backend(dt->m)->name);
    dt->imgsz = a->imgsz ? a->imgsz : dt->wi.imgsz;
    yolo_model_opts o = *yolo_model_opts_ptr(dt->m);
    o.threads = a->threads ? a->threads : rt->threads;
    yolo_model_set_opts(dt->m, &o);
    DY_TRY(yolo_model_plan(dt->m, 1, dt->imgsz, dt->imgsz));
    size_t na = yolo_model_num_anchors_total(dt->m);
    dt->pred = malloc(sizeof(float) * na * (5 + (size_t)dt->wi.nc));
    dt->chw = malloc((size_t)3 * dt->imgsz * dt->imgsz);
    dt->boxes = malloc(sizeof(nms_box) * (size_t)a->max_det);
    if (!dt->pred || !dt->chw || !dt->boxes) return DY_ERR(DY_ENOMEM, "detect: out of memory");
    return fs_mkdir_p(a->out);
}

/* Returns the number of images that failed (each reported), or -1 on a fatal error. */
static int run_detect(const det_args *a, const dist_runtime *rt)
{
    detector dt;
    memset(&dt, 0, sizeof dt);
    char **files = NULL;
    int nfiles = 0, failed = 0;
    dy_status s = list_sources(a->source, &files, &nfiles);
    if (s == DY_OK) s = setup(&dt, a, rt);
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; s == DY_OK && i < nfiles; i++) {
        img_rgb im = {0};
        int n = 0;
        dy_status e = load_image(files[i], &im);
        if (e == DY_OK) e = detect_one(&dt, a, &im, &n);
        if (e == DY_OK) e = annotate_and_save(&dt, a, files[i], &im, n, list);
        if (e == DY_OK)
            log_info("%s: %d objects", files[i], n);
        else
            fprintf(stderr, "dyolo detect: error: %s\n", err_msg()), failed++;
        img_free(&im);
    }
    if (s == DY_OK) s = write_json(a->out, list);
    if (s == DY_OK) printf("%d images, %d failed; results in %s\n", nfiles, failed, a->out);
    cJSON_Delete(list);
    for (int i = 0; i < nfiles; i++) free(files[i]);
    free(files);
    free(dt.pred), free(dt.chw), free(dt.boxes);
    nms_ctx_free(&dt.ctx);
    yolo_model_free(dt.m);
    weights_info_free(&dt.wi);
    if (s != DY_OK) cli_fail("detect");
    return s != DY_OK ? -1 : failed;
}

/* Rank 0 alone: its backend is chosen as for a one-rank job (the GPU of node-local
 * rank 0 for cuda), so the other ranks of an mpirun need no device. */
static int detect_on_rank0(const det_args *a, const dist_ctx *d)
{
    dist_ctx self = *d;
    self.world = self.node = self.cross = MPI_COMM_SELF;
    self.size = self.local_size = self.nnodes = 1;
    self.local_rank = self.node_index = 0;
    cfg *c = NULL;
    dist_runtime rt = {0};
    dy_status s = cli_build_config(&a->common, &c);
    if (s == DY_OK) {
        cli_configure_logging(c, &a->common, 0);
        s = dist_runtime_open_compute(c, &self, &rt);
    }
    int failed = s == DY_OK ? run_detect(a, &rt) : (cli_fail("detect"), -1);
    dist_runtime_close(&rt); /* after run_detect freed the model: its memory is the backend's */
    cfg_free(c);
    return failed;
}

int cli_detect_main(int argc, char **argv)
{
    det_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    dist_ctx d;
    memset(&d, 0, sizeof d);
    if (dist_init(&argc, &argv, &d) != DY_OK) return cli_fail("detect");
    log_setup(d.rank, 0, LOG_INFO);
    int failed = d.rank == 0 ? detect_on_rank0(&a, &d) : 0;
    dist_finalize(&d);
    return failed == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}
