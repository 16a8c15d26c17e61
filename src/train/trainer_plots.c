/* trainer_plots.c -- implementation of trainer_plots.h.  One worker thread takes
 * jobs in order (so two results.png writes never race); the training thread only
 * copies what a job needs (a batch's pixels, the history) and queues it. */
#include "train/trainer_plots.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "eval/confusion.h"
#include "eval/plot.h"
#include "eval/plot_batch.h"
#include "eval/plot_labels.h"

typedef struct job {
    dy_status (*run)(struct trainer_plots *p, void *arg);
    void (*drop)(void *arg);
    void *arg;
    struct job *next;
} job;

/* A batch to draw: its pixels and boxes, copied out of the loader's buffers. */
typedef struct {
    char path[1100];
    uint8_t *images;
    int n, h, w;
    plot_box *boxes;
    int nbox, cap;
} batch_job;

struct trainer_plots {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    int closing;
    char dir[900];
    const char *const *names; /* the trainer's; it outlives the worker */
    int nc;
    /* validation capture (training thread only) */
    validate_hook hook;
    batch_job *vgt, *vpred;
};

/* ------------------------------------------------------------------ worker */

static void *worker(void *arg)
{
    struct trainer_plots *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->closing) pthread_cond_wait(&p->cv, &p->mu);
        job *j = p->head;
        if (j) p->head = j->next, p->tail = p->head ? p->tail : NULL;
        pthread_mutex_unlock(&p->mu);
        if (!j) return NULL;
        if (j->run(p, j->arg) != DY_OK) log_warn("plots: %s (training goes on)", err_msg());
        j->drop(j->arg);
        free(j);
    }
}

static void submit(struct trainer_plots *p, dy_status (*run)(struct trainer_plots *, void *), void (*drop)(void *),
                   void *arg)
{
    job *j = malloc(sizeof *j);
    if (!j) {
        log_warn("plots: out of memory, one plot skipped");
        drop(arg);
        return;
    }
    *j = (job){run, drop, arg, NULL};
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ------------------------------------------------------------------ batches */

static void batch_free(void *arg)
{
    batch_job *b = arg;
    if (!b) return;
    free(b->images), free(b->boxes), free(b);
}

static batch_job *batch_new(const char *dir, const char *name, const data_batch *d)
{
    batch_job *b = calloc(1, sizeof *b);
    int n = d->n < PLOT_BATCH_MAX ? d->n : PLOT_BATCH_MAX;
    size_t bytes = (size_t)n * 3 * (size_t)d->h * (size_t)d->w;
    if (!b || n < 1 || !(b->images = malloc(bytes))) {
        free(b);
        return NULL;
    }
    snprintf(b->path, sizeof b->path, "%s/%s", dir, name);
    memcpy(b->images, d->images, bytes);
    b->n = n, b->h = d->h, b->w = d->w;
    return b;
}

static int batch_add(batch_job *b, plot_box x)
{
    if (b->nbox == b->cap) {
        int cap = b->cap ? 2 * b->cap : 64;
        plot_box *nb = realloc(b->boxes, sizeof *nb * (size_t)cap);
        if (!nb) return -1;
        b->boxes = nb, b->cap = cap;
    }
    b->boxes[b->nbox++] = x;
    return 0;
}

/* The batch's targets (normalised cx cy w h) as label boxes in its pixels. */
static int batch_add_targets(batch_job *b, const data_batch *d)
{
    for (int k = 0; k < d->ntargets; k++) {
        const float *t = d->targets + 6 * k;
        float cx = t[2] * (float)d->w, cy = t[3] * (float)d->h, w = t[4] * (float)d->w, h = t[5] * (float)d->h;
        if ((int)t[0] >= b->n) continue;
        if (batch_add(b, (plot_box){(int)t[0], (int)t[1], cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, -1}))
            return -1;
    }
    return 0;
}

static dy_status run_batch(struct trainer_plots *p, void *arg)
{
    batch_job *b = arg;
    return plot_batch_jpeg(b->path, b->images, b->n, b->h, b->w, b->boxes, b->nbox, p->names, p->nc);
}

void trainer_plots_batch(trainer *t, const data_batch *b)
{
    if (!t->plots || t->ni >= TRAINER_PLOT_BATCHES || !b || b->n < 1) return;
    char name[64];
    snprintf(name, sizeof name, "train_batch%lld.jpg", (long long)t->ni);
    batch_job *j = batch_new(t->plots->dir, name, b);
    if (!j || batch_add_targets(j, b)) {
        log_warn("plots: out of memory, %s skipped", name);
        batch_free(j);
        return;
    }
    submit(t->plots, run_batch, batch_free, j);
}

/* ------------------------------------------------------------------ labels.jpg */

typedef struct {
    int32_t *cls;
    float *box;
    size_t n;
} labels_job;

static void labels_free(void *arg)
{
    labels_job *l = arg;
    free(l->cls), free(l->box), free(l);
}

static dy_status run_labels(struct trainer_plots *p, void *arg)
{
    labels_job *l = arg;
    char path[1100];
    snprintf(path, sizeof path, "%s/labels.jpg", p->dir);
    return plot_labels_jpeg(path, l->cls, l->box, l->n, p->names, p->nc);
}

/* The shard metadata is in memory: copying the labels is quick; drawing is queued. */
static void queue_labels(trainer *t)
{
    shard_set *sh = loader_shards(t->train);
    int64_t ns = shard_count(sh);
    size_t n = 0;
    shard_sample s;
    for (int64_t i = 0; i < ns; i++) shard_sample_get(sh, i, &s), n += (size_t)s.nbox;
    labels_job *l = calloc(1, sizeof *l);
    if (l) l->cls = malloc(sizeof *l->cls * (n + 1)), l->box = malloc(sizeof *l->box * 4 * (n + 1));
    if (!l || !l->cls || !l->box) {
        log_warn("plots: out of memory, labels.jpg skipped");
        if (l) labels_free(l);
        return;
    }
    for (int64_t i = 0; i < ns; i++) {
        shard_sample_get(sh, i, &s);
        memcpy(l->cls + l->n, s.cls, sizeof *l->cls * (size_t)s.nbox);
        memcpy(l->box + 4 * l->n, s.box, sizeof *l->box * 4 * (size_t)s.nbox);
        l->n += (size_t)s.nbox;
    }
    submit(t->plots, run_labels, labels_free, l);
}

/* ------------------------------------------------------------------ results */

/* YOLOv5's columns; x/lr0..2 are its parameter groups: biases, weights with decay,
 * BatchNorm weights. */
static const char *const csv_cols[] = {"epoch",          "train/box_loss",     "train/obj_loss",
                                       "train/cls_loss", "metrics/precision",  "metrics/recall",
                                       "metrics/mAP_0.5", "metrics/mAP_0.5:0.95", "val/box_loss",
                                       "val/obj_loss",   "val/cls_loss",       "x/lr0",
                                       "x/lr1",          "x/lr2"};
/* the history record's key for each column (a record without it: an empty cell;
 * checkpoints made before the validation loss have no val_*) */
static const char *const csv_keys[] = {"epoch",    "train_box", "train_obj", "train_cls", "P",     "R",     "mAP50",
                                       "mAP50_95", "val_box",   "val_obj",   "val_cls",   "x_lr0", "x_lr1", "x_lr2"};
#define NCOLS ((int)(sizeof csv_cols / sizeof csv_cols[0]))

static double rec_val(const cJSON *rec, int col)
{
    const cJSON *v = csv_keys[col] ? cJSON_GetObjectItemCaseSensitive(rec, csv_keys[col]) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

dy_status trainer_results_csv(const cJSON *history, FILE *f)
{
    int bad = 0;
    for (int c = 0; c < NCOLS; c++) bad |= fprintf(f, c ? ",%20s" : "%20s", csv_cols[c]) < 0;
    bad |= fputc('\n', f) == EOF;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, history)
    {
        for (int c = 0; c < NCOLS; c++) {
            double v = rec_val(rec, c);
            if (c) bad |= fputc(',', f) == EOF;
            if (c == 0)
                bad |= fprintf(f, "%20.0f", v) < 0;
            else if (isfinite(v)) /* an empty cell: pandas reads NaN */
                bad |= fprintf(f, "%20.8g", v) < 0;
        }
        bad |= fputc('\n', f) == EOF;
    }
    return bad ? DY_ERR(DY_EIO, "writing results.csv: %s", strerror(errno)) : DY_OK;
}

static dy_status write_csv(const char *dir, const cJSON *h)
{
    char path[1100], tmp[1110];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return DY_ERR(DY_EIO, "cannot write \"%s\": %s", tmp, strerror(errno));
    dy_status s = trainer_results_csv(h, f);
    if (fclose(f) != 0 && s == DY_OK) s = DY_ERR(DY_EIO, "cannot write \"%s\": %s", tmp, strerror(errno));
    /* renamed whole: a kill leaves the previous epoch's complete file */
    if (s == DY_OK && rename(tmp, path) != 0) s = DY_ERR(DY_EIO, "cannot rename \"%s\": %s", tmp, strerror(errno));
    if (s != DY_OK) remove(tmp);
    return s;
}

static dy_status write_results_png(const char *dir, const cJSON *h)
{
    /* YOLOv5's plot_results order: columns 1 2 3 4 5 8 9 10 6 7 */
    static const int order[10] = {1, 2, 3, 4, 5, 8, 9, 10, 6, 7};
    enum { PW = 300, PH = 240 };
    int n = cJSON_GetArraySize(h);
    double *x = malloc(sizeof *x * (size_t)(n + 1)), *y = malloc(sizeof *y * (size_t)(n + 1));
    plot_canvas cv = {0};
    dy_status s = x && y ? plot_canvas_init(&cv, 5 * PW, 2 * PH) : DY_ERR(DY_ENOMEM, "results.png: out of memory");
    for (int p = 0; s == DY_OK && p < 10; p++) {
        int i = 0;
        const cJSON *rec;
        cJSON_ArrayForEach(rec, h) x[i] = rec_val(rec, 0), y[i] = rec_val(rec, order[p]), i++;
        plot_panel(&cv, (p % 5) * PW, (p / 5) * PH, PW, PH, csv_cols[order[p]], x, y, n);
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/results.png", dir);
    if (s == DY_OK) s = plot_write_png(path, &cv);
    plot_canvas_free(&cv);
    free(x), free(y);
    return s;
}

static dy_status run_results(struct trainer_plots *p, void *arg)
{
    dy_status s = write_csv(p->dir, arg);
    dy_status s2 = write_results_png(p->dir, arg);
    return s != DY_OK ? s : s2;
}

static void json_free(void *arg) { cJSON_Delete(arg); }

void trainer_plots_epoch(trainer *t)
{
    if (!t->plots) return;
    cJSON *h = cJSON_Duplicate(t->history, 1);
    if (!h) {
        log_warn("plots: out of memory, results.csv not updated");
        return;
    }
    submit(t->plots, run_results, json_free, h);
}

/* ------------------------------------------------------------------ validation */

static void val_capture(void *ctx, const data_batch *b, int i, const nms_box *boxes, int n)
{
    struct trainer_plots *p = ctx;
    if (i == 0) {
        batch_free(p->vgt), batch_free(p->vpred);
        p->vgt = batch_new(p->dir, "val_batch0_labels.jpg", b);
        p->vpred = batch_new(p->dir, "val_batch0_pred.jpg", b);
        if (p->vgt && batch_add_targets(p->vgt, b)) batch_free(p->vgt), p->vgt = NULL;
    }
    if (!p->vpred || i >= p->vpred->n) return;
    for (int k = 0; k < n; k++)
        if (boxes[k].score >= CONFUSION_CONF &&
            batch_add(p->vpred, (plot_box){i, boxes[k].cls, boxes[k].x1, boxes[k].y1, boxes[k].x2, boxes[k].y2,
                                           boxes[k].score})) {
            batch_free(p->vpred), p->vpred = NULL;
            return;
        }
}

const validate_hook *trainer_plots_val_hook(trainer *t)
{
    if (!t->plots) return NULL;
    batch_free(t->plots->vgt), batch_free(t->plots->vpred);
    t->plots->vgt = t->plots->vpred = NULL;
    t->plots->hook = (validate_hook){val_capture, t->plots};
    return &t->plots->hook;
}

static dy_status run_confusion(struct trainer_plots *p, void *arg)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/confusion_matrix.png", p->dir);
    return confusion_write_png(arg, p->names, path);
}

static void confusion_drop(void *arg)
{
    confusion_free(arg);
    free(arg);
}

void trainer_plots_val(trainer *t, const validate_result *v)
{
    struct trainer_plots *p = t->plots;
    if (!p) return;
    if (p->vgt) submit(p, run_batch, batch_free, p->vgt);
    if (p->vpred) submit(p, run_batch, batch_free, p->vpred);
    p->vgt = p->vpred = NULL;
    /* counting is linear in the set and quick; only drawing goes to the worker */
    confusion_matrix *c = calloc(1, sizeof *c);
    dy_status s = c ? confusion_init(c, t->nc) : DY_ERR(DY_ENOMEM, "confusion matrix: out of memory");
    if (s == DY_OK) s = confusion_from_set(c, &v->set, CONFUSION_CONF, CONFUSION_IOU);
    if (s == DY_OK) {
        submit(p, run_confusion, confusion_drop, c);
        return;
    }
    log_warn("plots: %s (training goes on)", err_msg());
    if (c) confusion_drop(c);
}

/* ------------------------------------------------------------------ life cycle */

void trainer_plots_open(trainer *t)
{
    if (t->dist->rank != 0) return;
    struct trainer_plots *p = calloc(1, sizeof *p);
    if (!p) {
        log_warn("plots: out of memory: no plots in the run directory");
        return;
    }
    snprintf(p->dir, sizeof p->dir, "%s", t->run_dir);
    p->names = (const char *const *)t->names;
    p->nc = t->nc;
    int e = pthread_mutex_init(&p->mu, NULL);
    if (!e && (e = pthread_cond_init(&p->cv, NULL)) != 0) pthread_mutex_destroy(&p->mu);
    if (!e && (e = pthread_create(&p->th, NULL, worker, p)) != 0)
        pthread_cond_destroy(&p->cv), pthread_mutex_destroy(&p->mu);
    if (e) {
        log_warn("plots: cannot start the plot thread (%s): no plots in the run directory", strerror(e));
        free(p);
        return;
    }
    t->plots = p;
    if (t->ni == 0)
        queue_labels(t); /* a resumed run has it already */
    else
        trainer_plots_epoch(t); /* results.csv as the checkpoint's history says, at once */
}

void trainer_plots_close(trainer *t)
{
    struct trainer_plots *p = t->plots;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    int e = pthread_join(p->th, NULL);
    if (e) log_warn("plots: joining the plot thread: %s", strerror(e));
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    batch_free(p->vgt), batch_free(p->vpred);
    free(p);
    t->plots = NULL;
}
