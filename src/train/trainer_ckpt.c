/* trainer_ckpt.c -- the trainer's checkpoints: what is saved so that a resumed run
 * continues bit for bit (weights, BN buffers, EMA, optimizer and scaler state, the
 * exact position in the data and the schedule), and the checks on resume (config
 * changes that would make the continuation a different experiment are refused).
 * Names follow src/io/SCHEMA.md so `dyolo ckpt export` finds the weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/timer.h"
#include "dyolo_config.h"
#include "train/trainer_internal.h"

/* Keys whose change makes the continuation another experiment. */
static const char *const unsafe_keys[] = {"model.spec", "model.nc", "data.train", "data.val", "data.imgsz",
                                          "train.batch_size", "train.optimizer", "train.amp", "run.seed"};

static dy_status add_table(ckpt_writer *w, const char *name, yolo_model *m, int buffers)
{
    int n = buffers ? yolo_model_num_buffer_ranges(m) : yolo_model_num_param_ranges(m);
    ckpt_table_row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!rows) return DY_ERR(DY_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const nn_param_range *r = buffers ? yolo_model_buffer_range(m, i) : yolo_model_param_range(m, i);
        snprintf(rows[i].name, sizeof rows[i].name, "%s", r->name);
        rows[i].offset = (int64_t)r->offset;
        rows[i].count = (int64_t)r->count;
        snprintf(rows[i].shape, sizeof rows[i].shape, "%zu", r->count);
    }
    dy_status s = ckpt_add_table(w, name, rows, n);
    free(rows);
    return s;
}

static dy_status add_texts(trainer *t, ckpt_writer *w)
{
    char *conf = cfg_to_json(t->cfg);
    const char *spec = t->spec_text;
    char *hist = cJSON_PrintUnformatted(t->history), part[400];
    /* the epoch so far (its history record is made at its end; results.csv) */
    snprintf(part, sizeof part, "{\"n\":%ld,\"loss\":[%.17g,%.17g,%.17g],\"lr\":[%.17g,%.17g,%.17g]}", t->ep_n,
             t->ep_loss[0], t->ep_loss[1], t->ep_loss[2], t->ep_lr[0], t->ep_lr[1], t->ep_lr[2]);
    cJSON *names = cJSON_CreateStringArray((const char *const *)t->names, t->nc);
    char *ntext = names ? cJSON_PrintUnformatted(names) : NULL;
    dy_status s = conf && spec && hist && ntext ? DY_OK : DY_ERR(DY_ENOMEM, "checkpoint: out of memory for its texts");
    if (s == DY_OK) s = ckpt_add_text(w, "config", conf);
    if (s == DY_OK) s = ckpt_add_text(w, "model_spec", spec);
    if (s == DY_OK) s = ckpt_add_text(w, "metrics", hist);
    if (s == DY_OK) s = ckpt_add_text(w, "epoch_partial", part);
    if (s == DY_OK) s = ckpt_add_text(w, "class_names", ntext);
    free(conf), cJSON_free(hist), cJSON_free(ntext), cJSON_Delete(names);
    return s;
}

static dy_status add_attrs(trainer *t, ckpt_writer *w)
{
    const struct {
        const char *k;
        int64_t v;
    } ints[] = {{"step", t->updates},        {"epoch", t->epoch},
                {"position", t->position},   {"ni", t->ni},
                {"last_opt_step", t->last_opt_step}, {"skipped", t->skipped},
                {"ema_updates", t->ts.ema.updates},  {"optim_step", t->ts.opt.step},
                {"scaler_growth_tracker", t->ts.scaler.growth_tracker},
                {"scaler_consecutive_overflows", t->ts.scaler.consecutive_overflows},
                {"world_size", t->dist->size},       {"batch_per_rank", t->batch},
                {"global_batch", t->global_batch},   {"nc", t->nc},
                {"imgsz", t->imgsz},                 {"time", (int64_t)time(NULL)}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) DY_TRY(ckpt_attr_set_int(w, ints[i].k, ints[i].v));
    DY_TRY(ckpt_attr_set_float(w, "best_fitness", t->best_fitness));
    DY_TRY(ckpt_attr_set_float(w, "scaler_scale", t->ts.scaler.scale));
    DY_TRY(ckpt_attr_set_str(w, "dyolo_version", PACKAGE_VERSION));
    return ckpt_attr_set_str(w, "build", DY_BUILD_DESC);
}

typedef struct {
    const char *name;
    const float *data;
    size_t n;
} ckpt_array;

/* The arrays a checkpoint holds; *n of them (at most 6). */
static void list_arrays(trainer *t, ckpt_array *a, int *n)
{
    yolo_model *m = t->model;
    size_t np = yolo_model_num_params(m), nb = yolo_model_num_buffers(m);
    int k = 0;
    a[k++] = (ckpt_array){"model.params", yolo_model_params(m), np};
    a[k++] = (ckpt_array){"model.buffers", yolo_model_buffers(m), nb};
    if (t->ts.hyp.ema) {
        a[k++] = (ckpt_array){"ema.params", t->ts.ema.v, np};
        a[k++] = (ckpt_array){"ema.buffers", t->buf_ema.v, nb};
    }
    if (t->ts.opt.m) a[k++] = (ckpt_array){"optim.momentum", t->ts.opt.m, np};
    if (t->ts.opt.v) a[k++] = (ckpt_array){"optim.v", t->ts.opt.v, np};
    *n = k;
}

/* Synchronous: the writer reads the live arrays.  Asynchronous: they are copied into
 * one host snapshot kept for the whole run (its pages stay mapped, so the copy runs
 * at memory speed), which is safe to reuse because a checkpoint waits for the
 * previous one before it snapshots.  On a device backend the arrays are not host
 * memory, so they always go through the snapshot (downloaded). */
static dy_status add_arrays(trainer *t, ckpt_writer *w, int async)
{
    ckpt_array a[6];
    int n;
    const tn_backend *be = yolo_model_backend(t->model);
    list_arrays(t, a, &n);
    if (!be->host_mem) async = 1;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += a[i].n;
    if (async && total > t->ckpt_snap_cap) {
        float *p = realloc(t->ckpt_snap, total * sizeof *p);
        if (!p) return DY_ERR(DY_ENOMEM, "checkpoint snapshot (%zu MB)", total * sizeof *p >> 20);
        t->ckpt_snap = p, t->ckpt_snap_cap = total;
    }
    for (size_t i = 0, off = 0; i < (size_t)n; off += a[i].n, i++) {
        if (!async) {
            DY_TRY(ckpt_add_array_ref(w, a[i].name, CKPT_F32, a[i].data, (int64_t)a[i].n));
            continue;
        }
        DY_TRY_CTX(be->download(t->ckpt_snap + off, a[i].data, a[i].n * sizeof(float)), "checkpoint: %s",
                   a[i].name);
        DY_TRY(ckpt_add_array_pinned(w, a[i].name, CKPT_F32, t->ckpt_snap + off, (int64_t)a[i].n));
    }
    DY_TRY(add_table(w, "model.params", t->model, 0));
    return add_table(w, "model.buffers", t->model, 1);
}

int trainer_ckpt_idle(const trainer *t) { return !t->ckpt_pending || ckpt_poll(t->ckpt_pending); }

dy_status trainer_ckpt_finish(trainer *t)
{
    ckpt_writer *w = t->ckpt_pending;
    if (!w) return DY_OK;
    double t0 = timer_now();
    dy_status s = ckpt_wait(w);
    t->ckpt_pending = NULL;
    ckpt_writer_free(w);
    t->ckpt_stall_s += timer_now() - t0;
    if (s == DY_OK)
        log_info("checkpoint %s/%s written in the background in %.2f s", t->policy.dir, t->ckpt_pending_name,
                 timer_now() - t->ckpt_pending_t0);
    /* Intervals were restarted when the write began; a failure restarts them again. */
    return ckpt_policy_on_failure(&t->policy, s, t->updates, timer_now());
}

dy_status trainer_save(trainer *t, int is_best, int durable)
{
    double t0 = timer_now();
    DY_TRY(trainer_ckpt_finish(t)); /* one write at a time; its snapshot is reused */
    int async = t->policy.async && !durable;
    char name[128];
    ckpt_name_for_step(t->updates, name, sizeof name);
    ckpt_writer *w = NULL;
    dy_status s = ckpt_writer_begin(&w, t->policy.dir, name, t->dist->world);
    if (s == DY_OK) s = add_arrays(t, w, async);
    if (s == DY_OK) s = add_texts(t, w);
    if (s == DY_OK) s = add_attrs(t, w);
    if (s == DY_OK) {
        ckpt_writer_set_best(w, is_best);
        ckpt_writer_set_keep(w, t->policy.keep);
        /* HDF5 is not thread-safe: during the background write the loader's reads
         * and the writer take turns through core/h5lock.h. */
        s = async ? ckpt_commit_async(w) : ckpt_commit(w);
    }
    t->ckpt_count++;
    ckpt_policy_mark(&t->policy, t->updates, timer_now());
    if (s == DY_OK && async) {
        t->ckpt_pending = w;
        snprintf(t->ckpt_pending_name, sizeof t->ckpt_pending_name, "%s", name);
        t->ckpt_pending_t0 = t0;
        t->ckpt_stall_s += timer_now() - t0;
        return DY_OK;
    }
    ckpt_writer_free(w);
    t->ckpt_stall_s += timer_now() - t0;
    if (s == DY_OK)
        log_info("checkpoint %s/%s (step %ld, epoch %lld) in %.2f s", t->policy.dir, name, t->updates,
                 (long long)t->epoch, timer_now() - t0);
    return ckpt_policy_on_failure(&t->policy, s, t->updates, timer_now());
}

/* ------------------------------------------------------------------ resume */

static dy_status compare_configs(trainer *t, const char *saved_text)
{
    cJSON *saved = cJSON_Parse(saved_text);
    if (!saved) return DY_ERR(DY_ECORRUPT, "the checkpoint's config is not valid JSON");
    char unsafe[2048] = "", safe[2048] = "";
    for (int s = 0; cfg_sections[s]; s++)
        for (int k = 0; k < cfg_sections[s]->nkeys; k++) {
            const char *path = cfg_sections[s]->keys[k].path;
            char buf[256];
            snprintf(buf, sizeof buf, "%s", path);
            const cJSON *a = saved, *b = cfg_json(t->cfg);
            for (char *sv = NULL, *seg = strtok_r(buf, ".", &sv); seg; seg = strtok_r(NULL, ".", &sv)) {
                a = a ? cJSON_GetObjectItemCaseSensitive(a, seg) : NULL;
                b = b ? cJSON_GetObjectItemCaseSensitive(b, seg) : NULL;
            }
            if (!a || !b || cJSON_Compare(a, b, 1)) continue;
            char *av = cJSON_PrintUnformatted(a), *bv = cJSON_PrintUnformatted(b);
            int is_unsafe = 0;
            for (size_t u = 0; u < sizeof unsafe_keys / sizeof unsafe_keys[0]; u++) is_unsafe |= !strcmp(path, unsafe_keys[u]);
            char *dst = is_unsafe ? unsafe : safe;
            size_t len = strlen(dst);
            snprintf(dst + len, 2048 - len, "%s%s: %s -> %s", len ? "; " : "", path, av, bv);
            cJSON_free(av), cJSON_free(bv);
        }
    cJSON_Delete(saved);
    if (unsafe[0])
        return DY_ERR(DY_EINVAL, "refusing to resume: the checkpoint was trained with a different %s "
                                 "(start a new run directory, or restore these settings)", unsafe);
    if (safe[0]) log_warn("resuming with changed settings: %s", safe);
    return DY_OK;
}

/* model.spec is a path: the same path may hold another network now.  The checkpoint
 * keeps the spec's text; compare it as JSON, so that only formatting may change, and
 * but for the anchors (AutoAnchor may have replaced them): the run continues with the
 * checkpoint's spec and anchors. */
static dy_status compare_spec(trainer *t, const char *saved_text)
{
    const char *path = cfg_str(t->cfg, "model.spec");
    cJSON *a = cJSON_Parse(saved_text), *b = cJSON_Parse(t->spec_text);
    if (a && b && !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, "anchors"),
                                 cJSON_GetObjectItemCaseSensitive(b, "anchors"), 1))
        log_info("resume: the checkpoint's anchors (AutoAnchor's, or an earlier spec's) differ from %s's: "
                 "continuing with the checkpoint's", path);
    cJSON_DeleteItemFromObjectCaseSensitive(a, "anchors");
    cJSON_DeleteItemFromObjectCaseSensitive(b, "anchors");
    int same = a && b ? cJSON_Compare(a, b, 1) : !strcmp(saved_text, t->spec_text);
    cJSON_Delete(a), cJSON_Delete(b);
    if (!same)
        return DY_ERR(DY_EINVAL, "refusing to resume: the model spec %s differs from the one the checkpoint was "
                                 "trained with (start a new run directory, or restore the file)", path);
    DY_TRY_CTX(yolo_model_anchors_from_spec(t->model, saved_text), "resume");
    char *copy = strdup(saved_text);
    if (!copy) return DY_ERR(DY_ENOMEM, "out of memory");
    free(t->spec_text);
    t->spec_text = copy;
    return DY_OK;
}

static dy_status get_int(const ckpt_reader *r, const char *k, int64_t *v)
{
    DY_TRY_CTX(ckpt_attr_int(r, k, v), "%s", ckpt_reader_path(r));
    return DY_OK;
}

static dy_status restore_arrays(trainer *t, const ckpt_reader *r)
{
    yolo_model *m = t->model;
    const tn_backend *be = yolo_model_backend(m);
    int64_t np = (int64_t)yolo_model_num_params(m), nb = (int64_t)yolo_model_num_buffers(m);
    DY_TRY(ckpt_get_f32_on(r, be, "model.params", yolo_model_params(m), np));
    DY_TRY(ckpt_get_f32_on(r, be, "model.buffers", yolo_model_buffers(m), nb));
    if (t->ts.hyp.ema && ckpt_find(r, "ema.params")) {
        DY_TRY(ckpt_get_f32_on(r, be, "ema.params", t->ts.ema.v, np));
        DY_TRY(ckpt_get_f32_on(r, be, "ema.buffers", t->buf_ema.v, nb));
    }
    if (t->ts.opt.m) DY_TRY(ckpt_get_f32_on(r, be, "optim.momentum", t->ts.opt.m, np));
    if (t->ts.opt.v) DY_TRY(ckpt_get_f32_on(r, be, "optim.v", t->ts.opt.v, np));
    return DY_OK;
}

/* The epoch's loss sums so far; a checkpoint from before they were saved leaves
 * them empty (the resumed epoch's record then averages its own steps only). */
static void restore_partial(trainer *t, const char *text)
{
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "n"), *l = cJSON_GetObjectItemCaseSensitive(o, "loss"),
                *lr = cJSON_GetObjectItemCaseSensitive(o, "lr");
    memset(t->ep_loss, 0, sizeof t->ep_loss), t->ep_n = 0;
    if (cJSON_IsNumber(n) && cJSON_GetArraySize(l) == 3 && cJSON_GetArraySize(lr) == 3) {
        t->ep_n = (long)n->valuedouble;
        for (int i = 0; i < 3; i++) {
            t->ep_loss[i] = cJSON_GetArrayItem(l, i)->valuedouble;
            t->ep_lr[i] = cJSON_GetArrayItem(lr, i)->valuedouble;
        }
    }
    cJSON_Delete(o);
}

static dy_status restore_position(trainer *t, const ckpt_reader *r)
{
    int64_t v[10];
    const char *k[10] = {"step", "epoch", "position", "ni", "last_opt_step", "skipped", "ema_updates", "optim_step",
                         "scaler_growth_tracker", "scaler_consecutive_overflows"};
    for (int i = 0; i < 10; i++) DY_TRY(get_int(r, k[i], &v[i]));
    t->updates = (long)v[0], t->epoch = v[1], t->position = v[2], t->ni = v[3], t->last_opt_step = v[4];
    t->skipped = (long)v[5];
    t->ts.ema.updates = t->buf_ema.updates = (long)v[6];
    t->ts.opt.step = (long)v[7];
    t->ts.scaler.growth_tracker = (int)v[8], t->ts.scaler.consecutive_overflows = (int)v[9];
    double f;
    DY_TRY(ckpt_attr_float(r, "scaler_scale", &f));
    t->ts.scaler.scale = (float)f;
    DY_TRY(ckpt_attr_float(r, "best_fitness", &t->best_fitness));
    const char *hist = ckpt_text(r, "metrics");
    cJSON *h = hist ? cJSON_Parse(hist) : NULL;
    if (h) cJSON_Delete(t->history), t->history = h;
    restore_partial(t, ckpt_text(r, "epoch_partial"));
    return DY_OK;
}

/* The metrics log may hold lines written after this checkpoint (a crash): drop them
 * so the resumed run's log reads as one uninterrupted run. */
static void trim_metrics(trainer *t)
{
    if (t->dist->rank != 0) return;
    char path[1100], tmp[1110];
    snprintf(path, sizeof path, "%s/metrics.jsonl", t->run_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    metrics_close(t->metrics);
    t->metrics = NULL;
    FILE *in = fopen(path, "r"), *out = in ? fopen(tmp, "w") : NULL;
    char line[8192];
    while (out && fgets(line, sizeof line, in)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *st = o ? cJSON_GetObjectItem(o, "step") : NULL;
        const cJSON *ev = o ? cJSON_GetObjectItem(o, "event") : NULL;
        const cJSON *ep = o ? cJSON_GetObjectItem(o, "epoch") : NULL;
        int keep = st && cJSON_IsNumber(st) && st->valuedouble <= (double)t->updates;
        if (keep && ev && ep && ep->valuedouble >= (double)t->epoch) keep = 0; /* epoch not finished */
        if (keep) fputs(line, out);
        cJSON_Delete(o);
    }
    if (in) fclose(in);
    if (out && fclose(out) == 0) rename(tmp, path);
    if (metrics_open(&t->metrics, path, 1) != DY_OK) log_warn("%s", err_msg());
}

dy_status trainer_restore(trainer *t, const char *resume)
{
    ckpt_reader *r = NULL;
    if (!strcmp(resume, "auto")) {
        DY_TRY(ckpt_resume_auto(t->policy.dir, t->dist->world, &r));
        if (!r) {
            log_info("resume auto: no checkpoint in %s, starting from scratch", t->policy.dir);
            return DY_OK;
        }
    } else {
        DY_TRY(ckpt_reader_open(&r, resume, t->dist->world));
    }
    const char *conf = ckpt_text(r, "config");
    int64_t world = 0, gb = 0;
    const char *spec = ckpt_text(r, "model_spec");
    dy_status s = conf ? compare_configs(t, conf) : DY_ERR(DY_ECORRUPT, "%s has no config", ckpt_reader_path(r));
    if (s == DY_OK && spec) s = compare_spec(t, spec);
    if (s == DY_OK) s = restore_arrays(t, r);
    if (s == DY_OK) s = restore_position(t, r);
    if (s == DY_OK) s = get_int(r, "world_size", &world);
    if (s == DY_OK) s = get_int(r, "global_batch", &gb);
    if (s == DY_OK && t->position % t->global_batch != 0)
        s = DY_ERR(DY_EINVAL, "%s: sample position %lld is not a multiple of the global batch %ld",
                   ckpt_reader_path(r), (long long)t->position, t->global_batch);
    if (s == DY_OK) {
        t->resumed = 1;
        log_info("resumed from %s: epoch %lld, step %ld, sample %lld of the epoch%s", ckpt_reader_path(r),
                 (long long)t->epoch + 1, t->updates, (long long)t->position,
                 world != t->dist->size ? " (world size changed)" : "");
        if (world != t->dist->size)
            log_info("world size %lld -> %d: global batch %lld kept, %ld per rank", (long long)world, t->dist->size,
                     (long long)gb, t->batch);
        trim_metrics(t);
        ckpt_policy_mark(&t->policy, t->updates, timer_now()); /* intervals count from here */
    }
    ckpt_reader_close(r);
    return s;
}
