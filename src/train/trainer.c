/* trainer.c -- set-up, the training loop and tear-down of `dyolo train` (see
 * trainer.h); checkpoints live in trainer_ckpt.c, validation in trainer_val.c. */
#include "train/trainer.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fault.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/timer.h"
#include "dist/dist_config.h"
#include "dist/watchdog.h"
#include "train/micro_step.h"
#include "train/signals.h"
#include "train/transfer.h"
#include "train/trainer_internal.h"
#include "train/trainer_plots.h"

/* ------------------------------------------------------------------ set-up */

/* Rank 0 creates the run directory and writes the effective config; all agree. */
static dy_status setup_run_dir(trainer *t)
{
    snprintf(t->run_dir, sizeof t->run_dir, "%s", cfg_str(t->cfg, "run.out_dir"));
    dy_status s = ckpt_policy_init(&t->policy, t->cfg, 0, timer_now());
    if (s == DY_OK && t->dist->rank == 0) {
        char path[1100];
        s = fs_mkdir_p(t->run_dir);
        if (s == DY_OK) s = fs_mkdir_p(t->policy.dir);
        if (s == DY_OK) s = fs_check_writable(t->policy.dir, "ckpt.dir");
        snprintf(path, sizeof path, "%s/config.json", t->run_dir);
        if (s == DY_OK) s = cfg_write_json(t->cfg, path);
        snprintf(path, sizeof path, "%s/metrics.jsonl", t->run_dir);
        if (s == DY_OK) s = metrics_open(&t->metrics, path, 1);
    }
    return ckpt_agree(t->dist->world, s);
}

static dy_status open_loader(trainer *t, const char *key, int train, int batch, data_loader **out)
{
    const char *path = cfg_str(t->cfg, key);
    loader_opts lo;
    loader_opts_from_cfg(t->cfg, train, &lo);
    lo.batch = batch;
    if (train && !t->rt.be->host_mem) { /* page-locked batches: the upload is a DMA beside compute */
        lo.host_alloc = t->rt.be->host_alloc;
        lo.host_free = t->rt.be->host_free;
    }
    DY_TRY_CTX(loader_open(out, &path, 1, &lo, t->dist->world), "%s = \"%s\"", key, path);
    return DY_OK;
}

static dy_status setup_data(trainer *t)
{
    if (!*cfg_str(t->cfg, "data.train"))
        return DY_ERR(DY_EINVAL, "data.train is empty: set it to the shard manifest written by "
                                 "`dyolo pack --out PREFIX` (PREFIX.manifest.json)");
    t->global_batch = (long)cfg_int(t->cfg, "train.batch_size");
    DY_TRY(dist_split_batch(t->dist, t->global_batch, &t->batch));
    t->imgsz = (int)cfg_int(t->cfg, "data.imgsz");
    t->epochs = (int)cfg_int(t->cfg, "train.epochs");
    t->val_batch = (int)cfg_int(t->cfg, "data.val_batch");
    DY_TRY(open_loader(t, "data.train", 1, (int)t->batch, &t->train));
    shard_set *sh = loader_shards(t->train);
    t->nc = shard_nclass(sh);
    t->names = calloc((size_t)t->nc + 1, sizeof *t->names);
    if (!t->names) return DY_ERR(DY_ENOMEM, "out of memory");
    for (int k = 0; k < t->nc; k++) t->names[k] = strdup(shard_class_name(sh, k));
    int want = (int)cfg_int(t->cfg, "model.nc");
    if (want && want != t->nc)
        return DY_ERR(DY_EINVAL, "model.nc = %d but the training shards have %d classes", want, t->nc);
    if (*cfg_str(t->cfg, "data.val")) {
        DY_TRY(open_loader(t, "data.val", 0, t->val_batch, &t->val));
        if (shard_nclass(loader_shards(t->val)) != t->nc)
            return DY_ERR(DY_EINVAL, "data.val has %d classes, data.train has %d",
                          shard_nclass(loader_shards(t->val)), t->nc);
    }
    if (loader_steps(t->train) < 1)
        return DY_ERR(DY_EINVAL, "data.train has %lld images: fewer than one global batch of %ld",
                      (long long)loader_size(t->train), t->global_batch);
    return DY_OK;
}

/* model.weights and train.freeze (train/transfer.h). */
static dy_status setup_transfer(trainer *t)
{
    yolo_model *m = t->model;
    const char *w = cfg_str(t->cfg, "model.weights");
    if (*w) {
        train_transfer_report rep;
        DY_TRY(train_transfer(m, w, t->dist->world, &rep));
        log_info("model.weights: transferred %d/%d parameter tensors and %d/%d BN statistics from %s (%s weights)",
                 rep.params_done, rep.params_total, rep.buffers_done, rep.buffers_total, w, rep.source);
        if (2 * rep.params_done < rep.params_total)
            log_warn("model.weights: fewer than half of the model's tensors came from %s: are they weights of "
                     "model.spec's architecture?", w);
    }
    int layers = t->ts.hyp.freeze;
    t->frozen = train_frozen_params(m, layers);
    if (layers > 0 && t->frozen >= yolo_model_num_params(m))
        return DY_ERR(DY_EINVAL, "train.freeze = %d freezes every layer of the model: nothing left to train", layers);
    yolo_model_graph(m)->bwd_stop = train_frozen_node(m, t->frozen);
    if (layers > 0)
        log_info("train.freeze = %d: layers model.0-%d fixed (%zu of %zu parameters)", layers, layers - 1, t->frozen,
                 yolo_model_num_params(m));
    return DY_OK;
}

/* The local part: build, initialise and plan the model; no collective. */
static dy_status build_model(trainer *t)
{
    DY_TRY(fault_at("setup")); /* tests: e.g. a model spec one node cannot read */
    /* one read of the spec: the text built from is the text the checkpoints keep */
    DY_TRY_CTX(fs_read_file(cfg_str(t->cfg, "model.spec"), "model spec", &t->spec_text, NULL), "model.spec");
    DY_TRY(yolo_model_from_config_text(t->cfg, t->spec_text, t->nc, t->rt.be, &t->model));
    yolo_model_opts o = *yolo_model_opts_ptr(t->model);
    o.threads = t->rt.threads; /* runtime.threads, or the node's CPUs over its local ranks */
    yolo_model_set_opts(t->model, &o);
    DY_TRY(yolo_model_init(t->model, (uint64_t)cfg_int(t->cfg, "run.seed")));
    return yolo_model_plan(t->model, (int)t->batch, t->imgsz, t->imgsz);
}

/* DDP over the trainable ranges (frozen layers get no gradient, so no all-reduce)
 * and the model's hooks; no collective. */
static dy_status hook_model(trainer *t, const ddp_opts *dopt)
{
    yolo_model *m = t->model;
    int nr = yolo_model_num_param_ranges(m), nd = 0;
    ddp_range *dr = malloc(sizeof *dr * (size_t)nr);
    if (!dr) return DY_ERR(DY_ENOMEM, "out of memory");
    for (int i = 0; i < nr; i++)
        if (yolo_model_param_range(m, i)->offset >= t->frozen)
            dr[nd++] = (ddp_range){yolo_model_param_range(m, i)->offset, yolo_model_param_range(m, i)->count};
    dy_status s = ddp_create(t->comm, yolo_model_grads(m), dr, nd, dopt, &t->ddp);
    free(dr);
    DY_TRY(s);
    train_micro_attach(m, t->ddp, t->comm, cfg_bool(t->cfg, "dist.sync_bn"), cfg_bool(t->cfg, "dist.global_loss_norm"));
    t->bn_mean = dist_bn_stats_mean(t->cfg);
    return DY_OK;
}

static dy_status setup_model(trainer *t, const ddp_opts *dopt)
{
    /* Agreed before the collectives that follow: a rank that failed to build its
     * model must not leave the others waiting in them. */
    DY_TRY(dist_agree(t->dist->world, build_model(t)));
    DY_TRY(dist_agree(t->dist->world, setup_transfer(t))); /* reads model.weights collectively */
    DY_TRY(dist_agree(t->dist->world, hook_model(t, dopt)));
    yolo_model *m = t->model;
    /* Same seed gives the same weights, but rank 0's are the truth (as in DDP). */
    DY_TRY(ddp_broadcast_params(t->comm, yolo_model_params(m), yolo_model_num_params(m), COMM_F32));
    DY_TRY(ddp_broadcast_params(t->comm, yolo_model_buffers(m), yolo_model_num_buffers(m), COMM_F32));
    return DY_OK;
}

static dy_status setup_state(trainer *t)
{
    yolo_model *m = t->model;
    int nr = yolo_model_num_param_ranges(m);
    optim_range *or = malloc(sizeof *or * (size_t)nr);
    if (!or) return DY_ERR(DY_ENOMEM, "out of memory");
    for (int i = 0; i < nr; i++) {
        const nn_param_range *r = yolo_model_param_range(m, i);
        or[i] = (optim_range){r->offset, r->count, r->offset < t->frozen ? OPT_GROUP_FROZEN : r->group};
    }
    train_hyp hyp = t->ts.hyp; /* train_state_init resets t->ts */
    hyp.sched.batches_per_epoch = (long)loader_steps(t->train);
    const tn_backend *be = t->rt.be;
    dy_status s = train_state_init(&t->ts, be, &hyp, yolo_model_params(m), yolo_model_num_params(m), or, nr);
    free(or);
    DY_TRY(s);
    t->ts.frozen = t->frozen;
    DY_TRY(ema_init(&t->buf_ema, be, yolo_model_buffers(m), yolo_model_num_buffers(m), t->ts.hyp.ema_decay,
                    t->ts.hyp.ema_tau));
    void *vp = NULL, *vb = NULL;
    DY_TRY_CTX(be->alloc(sizeof(float) * (yolo_model_num_params(m) + 1), &vp), "validation weights");
    t->val_params = vp;
    DY_TRY_CTX(be->alloc(sizeof(float) * (yolo_model_num_buffers(m) + 1), &vb), "validation buffers");
    t->val_buffers = vb;
    t->history = cJSON_CreateArray();
    if (!t->history) return DY_ERR(DY_ENOMEM, "out of memory");
    t->last_opt_step = -1;
    t->best_fitness = -1;
    return DY_OK;
}

static dy_status setup(trainer *t, const trainer_opts *o)
{
    DY_TRY(train_hyp_from_cfg(t->cfg, &t->ts.hyp));
    /* the device first: a job that cannot have its GPU fails before it writes anything */
    DY_TRY(dist_runtime_open(t->cfg, t->dist, &t->rt));
    t->comm = t->rt.comm;
    DY_TRY(setup_run_dir(t));
    DY_TRY(setup_data(t));
    DY_TRY(setup_model(t, &t->rt.dopt));
    /* the next batch uploads during backward where there is a device to feed and the
     * loader can hand out two batches at once */
    t->can_prefetch = !t->rt.be->host_mem && cfg_int(t->cfg, "data.prefetch") >= 2;
    DY_TRY(setup_state(t));
    DY_TRY(signals_install(t->policy.signals));
    if (o->resume) DY_TRY(trainer_restore(t, o->resume));
    if (!t->resumed) DY_TRY(trainer_autoanchor(t));
    trainer_plots_open(t); /* rank 0; never fails the run */
    return DY_OK;
}

static void teardown(trainer *t)
{
    /* An asynchronous write still in flight (an error path): let it end before the
     * loaders close their files and MPI goes away. */
    if (t->ckpt_pending && trainer_ckpt_finish(t) != DY_OK) log_warn("%s", err_msg());
    trainer_plots_close(t); /* before the names it reads are freed */
    free(t->ckpt_snap);
    signals_uninstall();
    if (t->train) loader_close(t->train);
    if (t->val) loader_close(t->val);
    ddp_destroy(t->ddp);
    yolo_model_free(t->model);
    free(t->spec_text);
    train_state_free(&t->ts);
    ema_free(&t->buf_ema);
    if (t->rt.be) {
        t->rt.be->free(t->val_params);
        t->rt.be->free(t->val_buffers);
    }
    /* last: the backend's memory above must go before a CUDA backend closes */
    dist_runtime_close(&t->rt);
    t->comm = NULL;
    metrics_close(t->metrics);
    cJSON_Delete(t->history);
    for (int k = 0; t->names && k < t->nc; k++) free(t->names[k]);
    free(t->names);
}

/* ------------------------------------------------------------------ the loop */

typedef struct {
    double box, obj, cls;   /* running means over the epoch's steps (all ranks) */
    long steps;
    double t0, wait, images;
} epoch_stats;

/* The after_backward hook: while backward runs on the device, fetch the next batch
 * and start its upload (nn_graph_prefetch_u8).  Holding two batches at once needs
 * data.prefetch >= 2 (can_prefetch); the trainer's position, not the loader's, is
 * what a checkpoint records, so fetching ahead changes no resume point. */
static dy_status prefetch_next(void *user)
{
    trainer *t = user;
    t->next_wait = 0;
    if (!t->want_next || t->next) return DY_OK;
    double w0 = timer_now();
    dy_status s = loader_next(t->train, &t->next);
    t->next_wait = timer_now() - w0;
    DY_TRY(s);
    if (!t->next) return DY_OK;
    return yolo_model_prefetch(t->model, t->next->images, t->next->n, t->next->h, t->next->w);
}

/* One micro-batch (train/micro_step.c: forward, loss, backward with the DDP
 * all-reduce overlapped through the gradient hook and, every `accumulate`
 * micro-batches, the optimizer step), plus the trainer's bookkeeping. */
static dy_status micro_step(trainer *t, data_batch *b, train_step_info *info, int *stepped)
{
    train_micro mc = {t->model, t->ddp, t->comm, &t->ts, &t->buf_ema, MPI_COMM_NULL,
                      t->can_prefetch ? prefetch_next : NULL, t, t->bn_mean};
    train_micro_out mo;
    DY_TRY(train_micro_step(&mc, b->images, b->targets, b->ntargets, (int)t->epoch, (long)t->ni,
                            (long)t->last_opt_step, &mo));
    for (int i = TRAIN_TM_DATA; i <= TRAIN_TM_OPTIM; i++) t->tm[i] += mo.tm[i];
    t->tm_steps++;
    t->cyc[0] += mo.parts.box, t->cyc[1] += mo.parts.obj, t->cyc[2] += mo.parts.cls;
    t->cyc_n++;
    *stepped = mo.stepped;
    if (mo.stepped) {
        *info = mo.info;
        t->last_opt_step = t->ni;
        t->updates++;
        t->skipped += info->skipped;
    }
    t->ni++;
    t->position += t->global_batch;
    return DY_OK;
}

/* After each optimizer step, ONE small all-reduce carries what every rank must agree
 * on: the step's losses (each rank only sees its part of the global batch), a
 * pending preemption signal, a due checkpoint and whether every rank's background
 * checkpoint write has ended (then it is joined everywhere at this step).  Rank 0
 * then writes one metrics line with the losses of the step's micro-batches averaged
 * over ranks (not running means, which would depend on where a resumed run started). */
static dy_status step_agree(trainer *t, const train_step_info *info, epoch_stats *es, int *stop, int *ckpt_now)
{
    /* Test hook: the last rank signals itself after this optimizer step, so the
     * preemption tests interrupt at a known point. */
    const char *hook = getenv("DYOLO_TEST_SIGNAL_AT_STEP");
    if (hook && t->updates == atol(hook) && t->dist->rank == t->dist->size - 1) raise(SIGUSR1);
    double n = t->cyc_n ? t->cyc_n : 1;
    double v[6] = {t->cyc[0] / n, t->cyc[1] / n, t->cyc[2] / n, signals_pending() != 0,
                   ckpt_policy_due(&t->policy, t->updates, timer_now(), 0), trainer_ckpt_idle(t)};
    t->cyc[0] = t->cyc[1] = t->cyc[2] = 0, t->cyc_n = 0;
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v, 6, MPI_DOUBLE, MPI_SUM, t->dist->world));
    *stop = v[3] > 0;
    *ckpt_now = v[4] > 0;
    if (t->ckpt_pending && v[5] == t->dist->size) DY_TRY(trainer_ckpt_finish(t));
    double box = v[0] / t->dist->size, obj = v[1] / t->dist->size, cls = v[2] / t->dist->size;
    t->ep_loss[0] += box, t->ep_loss[1] += obj, t->ep_loss[2] += cls, t->ep_n++;
    /* YOLOv5's x/lr0..2 order: biases, weights with decay, BatchNorm weights */
    t->ep_lr[0] = info->sched.lr[OPT_GROUP_BIAS], t->ep_lr[1] = info->sched.lr[OPT_GROUP_DECAY];
    t->ep_lr[2] = info->sched.lr[OPT_GROUP_BN];
    es->steps++;
    es->box += (box - es->box) / (double)es->steps;
    es->obj += (obj - es->obj) / (double)es->steps;
    es->cls += (cls - es->cls) / (double)es->steps;
    if (!t->metrics) return DY_OK;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", (double)t->epoch);
    cJSON_AddNumberToObject(o, "step", (double)t->updates);
    cJSON_AddNumberToObject(o, "ni", (double)t->ni);
    cJSON_AddNumberToObject(o, "box", box);
    cJSON_AddNumberToObject(o, "obj", obj);
    cJSON_AddNumberToObject(o, "cls", cls);
    cJSON_AddNumberToObject(o, "lr0", info->sched.lr[0]);
    cJSON_AddNumberToObject(o, "loss_scale", t->ts.hyp.amp ? t->ts.scaler.scale : 1.0);
    cJSON_AddNumberToObject(o, "grad_norm", info->grad_norm);
    cJSON_AddNumberToObject(o, "skipped", (double)t->skipped);
    dy_status st = metrics_write(t->metrics, o);
    cJSON_Delete(o);
    return st;
}

static void progress_extra(const trainer *t, const epoch_stats *es, char *buf, size_t len)
{
    double el = timer_now() - es->t0;
    snprintf(buf, len, "box %.4f obj %.4f cls %.4f lr %.5f scale %g %.1f img/s wait %.0f%%", es->box, es->obj,
             es->cls, t->ts.opt.lr[0], t->ts.hyp.amp ? t->ts.scaler.scale : 1.0, el > 0 ? es->images / el : 0,
             el > 0 ? 100 * es->wait / el : 0);
}

/* Gives back a batch fetched ahead (prefetch_next) that will not be trained on. */
static void release_next(trainer *t)
{
    if (t->next) loader_release(t->train, t->next);
    t->next = NULL;
}

/* The epoch's micro-steps from `start`; may leave a batch fetched ahead in t->next
 * (run_epoch gives it back whatever happens). */
static dy_status epoch_steps(trainer *t, int *stop, epoch_stats *es, log_progress *bar, int64_t start,
                             int64_t steps)
{
    train_step_info info = {0};
    char extra[256];
    for (int64_t k = start; k < steps; k++) {
        data_batch *b = t->next;
        t->next = NULL;
        double w0 = timer_now();
        if (!b) DY_TRY(loader_next(t->train, &b));
        es->wait += timer_now() - w0;
        t->tm[0] += timer_now() - w0;
        if (!b) break;
        trainer_plots_batch(t, b); /* rank 0, the run's first micro-batches: a copy, drawn later */
        int stepped = 0;
        t->want_next = k + 1 < steps;
        dy_status s = micro_step(t, b, &info, &stepped);
        es->wait += t->next_wait;
        loader_release(t->train, b);
        DY_TRY(s);
        es->images += (double)t->global_batch;
        if (!stepped) continue;
        int ckpt_now = 0;
        DY_TRY(step_agree(t, &info, es, stop, &ckpt_now));
        progress_extra(t, es, extra, sizeof extra);
        if (k + 1 < steps) log_progress_update(bar, (long)(k + 1), extra);
        /* A signal's checkpoint is durable before we exit (an async one is waited for). */
        if (*stop || (ckpt_now && k + 1 < steps)) DY_TRY(trainer_save(t, 0, *stop));
        if (*stop) return DY_OK;
    }
    return DY_OK;
}

/* Runs the rest of the current epoch; *stop = 1 when a signal asks to checkpoint
 * and leave. */
static dy_status run_epoch(trainer *t, int *stop)
{
    epoch_stats es = {0};
    es.t0 = timer_now();
    log_progress bar;
    char label[64], extra[256];
    snprintf(label, sizeof label, "epoch %lld/%d", (long long)t->epoch + 1, t->epochs);
    int64_t steps = loader_steps(t->train), start = t->position / t->global_batch;
    log_progress_begin(&bar, label, (long)steps, cfg_float(t->cfg, "log.progress_interval"));
    DY_TRY(loader_start_epoch(t->train, t->epoch, t->position));
    *stop = 0;
    dy_status s = epoch_steps(t, stop, &es, &bar, start, steps);
    release_next(t); /* fetched ahead and not trained on: a resumed run reads it again */
    if (s != DY_OK || *stop) return s;
    progress_extra(t, &es, extra, sizeof extra);
    log_progress_end(&bar, (long)steps, extra);
    return DY_OK;
}

static dy_status epoch_end(trainer *t)
{
    trainer_val_out v = {.fitness = -1};
    int last = t->epoch + 1 == t->epochs;
    long vi = (long)cfg_int(t->cfg, "train.val_interval");
    if (t->val && (last || (vi > 0 && (t->epoch + 1) % vi == 0))) DY_TRY(trainer_val(t, &v));
    double fit = v.fitness;
    int best = fit > t->best_fitness;
    if (best) t->best_fitness = fit;
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "epoch", (double)t->epoch);
    cJSON_AddNumberToObject(rec, "step", (double)t->updates);
    if (t->ep_n > 0) { /* the epoch's mean step losses and last learning rates (results.csv) */
        static const char *const lk[3] = {"train_box", "train_obj", "train_cls"}, *const rk[3] = {"x_lr0", "x_lr1", "x_lr2"};
        for (int i = 0; i < 3; i++) cJSON_AddNumberToObject(rec, lk[i], t->ep_loss[i] / (double)t->ep_n);
        for (int i = 0; i < 3; i++) cJSON_AddNumberToObject(rec, rk[i], t->ep_lr[i]);
    }
    if (fit >= 0) {
        static const char *const vk[3] = {"val_box", "val_obj", "val_cls"};
        cJSON_AddNumberToObject(rec, "P", v.p);
        cJSON_AddNumberToObject(rec, "R", v.r);
        cJSON_AddNumberToObject(rec, "mAP50", v.map50);
        cJSON_AddNumberToObject(rec, "mAP50_95", v.map);
        cJSON_AddNumberToObject(rec, "fitness", fit);
        for (int i = 0; i < 3; i++)
            if (isfinite(v.loss[i])) cJSON_AddNumberToObject(rec, vk[i], v.loss[i]);
    }
    cJSON_AddItemToArray(t->history, rec);
    memset(t->ep_loss, 0, sizeof t->ep_loss), t->ep_n = 0;
    trainer_plots_epoch(t); /* rank 0: results.csv and results.png, from the history */
    if (t->metrics) {
        cJSON *o = cJSON_Duplicate(rec, 1);
        cJSON_AddStringToObject(o, "event", "epoch_end");
        metrics_write(t->metrics, o);
        cJSON_Delete(o);
    }
    t->epoch++;
    t->position = 0;
    /* A new best fitness is checkpointed even when the policy is not due (e.g.
     * ckpt.epoch_end=false), as YOLOv5 writes best.pt: else the best epoch is lost. */
    int keep = best && t->policy.keep_best;
    if (keep || ckpt_policy_due(&t->policy, t->updates, timer_now(), 1) || last) DY_TRY(trainer_save(t, best, last));
    return DY_OK;
}

/* Where a micro-step's time goes (rank 0's view), and how much of the gradient
 * all-reduce backward hid: 1 - exposed / (exposed + overlapped), with the
 * overlapped part measured by DDP from launch to completion. */
static void add_timing(const trainer *t, cJSON *o)
{
    static const char *const names[6] = {"data_wait", "forward", "loss", "backward", "exposed_comm", "optimizer"};
    cJSON *tm = cJSON_AddObjectToObject(o, "ms_per_micro_step");
    double n = t->tm_steps ? (double)t->tm_steps : 1;
    for (int i = 0; i < 6; i++) cJSON_AddNumberToObject(tm, names[i], 1000.0 * t->tm[i] / n);
    ddp_stats ds;
    ddp_stats_get(t->ddp, &ds);
    cJSON *d = cJSON_AddObjectToObject(o, "ddp");
    cJSON_AddNumberToObject(d, "collectives", (double)ds.collectives);
    cJSON_AddNumberToObject(d, "syncs", (double)ds.syncs);
    cJSON_AddNumberToObject(d, "nosync_micro_steps", (double)ds.nosync_steps);
    cJSON_AddNumberToObject(d, "exposed_s", ds.exposed_s);
    cJSON_AddNumberToObject(d, "comm_s", ds.comm_s);
    cJSON_AddNumberToObject(d, "hidden_fraction", ds.hidden);
    /* every buffer of the backend (parameters, gradients, optimizer and EMA state,
     * activations, workspaces) at its peak over the run: device memory on a GPU */
    const tn_backend *be = t->rt.be;
    if (be && be->mem_stats) {
        size_t now = 0, peak = 0;
        be->mem_stats(&now, &peak);
        cJSON_AddNumberToObject(o, "peak_backend_mib", peak / 1048576.0);
    }
    cJSON *c = cJSON_AddObjectToObject(o, "checkpoints");
    cJSON_AddNumberToObject(c, "count", (double)t->ckpt_count);
    cJSON_AddBoolToObject(c, "async", t->policy.async);
    cJSON_AddNumberToObject(c, "stall_s", t->ckpt_stall_s); /* training thread held up */
}

static dy_status write_summary(trainer *t, trainer_result *res, double secs, double images)
{
    res->steps = t->updates;
    res->images_per_s = secs > 0 ? images / secs : 0;
    res->best_fitness = t->best_fitness;
    snprintf(res->run_dir, sizeof res->run_dir, "%s", t->run_dir);
    if (t->dist->rank != 0) return DY_OK;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "outcome", res->outcome == TRAINER_FINISHED ? "finished" : "preempted");
    cJSON_AddNumberToObject(o, "epoch", (double)t->epoch);
    cJSON_AddNumberToObject(o, "steps", (double)t->updates);
    cJSON_AddNumberToObject(o, "skipped_steps", (double)t->skipped);
    cJSON_AddNumberToObject(o, "images_per_s", res->images_per_s);
    cJSON_AddNumberToObject(o, "world_size", t->dist->size);
    cJSON_AddNumberToObject(o, "best_fitness", t->best_fitness);
    cJSON_AddItemToObject(o, "history", cJSON_Duplicate(t->history, 1));
    add_timing(t, o);
    char path[1100];
    snprintf(path, sizeof path, "%s/summary.json", t->run_dir);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    FILE *f = s ? fopen(path, "w") : NULL;
    int bad = !f || fprintf(f, "%s\n", s) < 0;
    if (f) bad |= fclose(f) != 0;
    cJSON_free(s);
    return bad ? DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(errno)) : DY_OK;
}

static dy_status train_loop(trainer *t, trainer_result *res)
{
    double t0 = timer_now(), images = 0;
    int64_t ni0 = t->ni;
    res->outcome = TRAINER_FINISHED;
    log_info("training %s: %d classes, %lld images, global batch %ld (%ld per rank x %d ranks), %d epochs",
             cfg_str(t->cfg, "model.spec"), t->nc, (long long)loader_size(t->train), t->global_batch, t->batch,
             t->dist->size, t->epochs);
    while (t->epoch < t->epochs) {
        int stop = 0;
        DY_TRY(run_epoch(t, &stop));
        if (stop) {
            res->outcome = TRAINER_PREEMPTED;
            break;
        }
        DY_TRY(epoch_end(t));
    }
    DY_TRY(trainer_ckpt_finish(t));
    images = (double)(t->ni - ni0) * (double)t->global_batch;
    return write_summary(t, res, timer_now() - t0, images);
}

dy_status trainer_run(const cfg *c, dist_ctx *d, const trainer_opts *o, trainer_result *res)
{
    trainer t;
    memset(&t, 0, sizeof t);
    memset(res, 0, sizeof *res);
    t.cfg = c;
    t.dist = d;
    dy_status s = setup(&t, o);
    /* A failure on one rank must not leave the others in a collective. */
    s = ckpt_agree(d->world, s);
    res->agreed = s != DY_OK;
    if (s == DY_OK) s = train_loop(&t, res);
    if (s == DY_OK) s = fault_at("teardown"); /* tests: e.g. a summary one rank cannot write */
    /* A failure the other ranks do not know of: they may be waiting in a collective
     * (an all-reduce of the step, a file close) that this rank will never join, and
     * tear-down is collective too (closing the shards, freeing communicators).  So
     * nothing is released: the caller ends the job (cli_fail_dist -> dist_abort). */
    if (s != DY_OK && !res->agreed && d->size > 1) return s;
    /* Agreed, but a rank that failed half-way through set-up may not hold what the
     * others close collectively: should that hang, the watchdog prints the cause. */
    if (s != DY_OK) dist_watchdog_note(err_msg());
    teardown(&t);
    if (s != DY_OK) dist_watchdog_note(NULL);
    return s;
}
