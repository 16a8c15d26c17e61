/* trainer_internal.h -- the trainer's state, shared by trainer.c (set-up and the
 * loop) and trainer_ckpt.c (save and restore).  Not a public interface.
 * defines: trainer, trainer_save, trainer_ckpt_finish, trainer_ckpt_idle, trainer_restore,
 *          trainer_val */
#ifndef DY_TRAIN_TRAINER_INTERNAL_H
#define DY_TRAIN_TRAINER_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/config.h"
#include "core/metrics.h"
#include "data/loader.h"
#include "dist/comm.h"
#include "dist/ddp.h"
#include "dist/dist.h"
#include "dist/runtime.h"
#include "io/ckpt.h"
#include "io/ckpt_policy.h"
#include "model/model.h"
#include "train/step.h"
#include "train/trainer.h"

typedef struct {
    const cfg *cfg;
    dist_ctx *dist;
    dist_runtime rt;        /* backend + transport, chosen together (dist/runtime.h) */
    comm *comm;             /* rt.comm */
    ddp *ddp;
    yolo_model *model;
    data_loader *train, *val;
    train_state ts;
    ema buf_ema;            /* EMA of the BN buffers (YOLOv5's ModelEMA covers them) */
    metrics_writer *metrics;
    cJSON *history;         /* per-epoch records, saved in checkpoints */
    char run_dir[900];
    ckpt_policy policy;     /* checkpoint directory, schedule, retention, failure policy */
    int nc;
    char **names;
    long global_batch, batch; /* global and per-rank micro-batch */
    int imgsz, epochs, val_batch;
    /* position: everything needed to continue exactly */
    int64_t epoch;          /* current epoch */
    int64_t position;       /* global sample position of the next micro-batch in the epoch */
    int64_t ni;             /* micro-batches done in total (YOLOv5's ni) */
    int64_t last_opt_step;  /* ni of the last optimizer step (-1 at start) */
    long updates;           /* optimizer steps applied (incl. skipped) */
    long skipped;           /* steps skipped by the loss scaler */
    double best_fitness;
    double tm[6];           /* seconds: data wait, forward, loss, backward, exposed comm, optimizer */
    long tm_steps;          /* micro-steps timed */
    double cyc[3];          /* box/obj/cls summed over the current accumulation cycle */
    int cyc_n;
    int64_t last_ckpt_ni;
    /* ckpt.async: the write in flight (NULL if none), its reusable host snapshot, and
     * how long the training thread was held up by checkpoints (summary.json). */
    ckpt_writer *ckpt_pending;
    char ckpt_pending_name[128];
    double ckpt_pending_t0;
    float *ckpt_snap;
    size_t ckpt_snap_cap;
    double ckpt_stall_s;
    long ckpt_count;
    float *val_params, *val_buffers; /* backend memory: the live weights while the EMA ones validate */
    size_t frozen;          /* parameters of the train.freeze layers: [0, frozen) */
    /* The epoch so far, for its history record (results.csv): sums of the step
     * losses, their count and the last step's learning rates; checkpointed, so a
     * resumed epoch ends with the record an uninterrupted one would have. */
    double ep_loss[3];
    long ep_n;
    double ep_lr[3];
    struct trainer_plots *plots; /* rank 0's plot worker (trainer_plots.h); NULL elsewhere */
    int bn_mean;           /* dist.bn_stats=mean: BN buffers averaged over ranks */
    /* Input pipeline on a device (trainer.c prefetch_next): the next batch, fetched
     * and uploading while this step's backward runs; want_next says whether the step
     * running now should fetch it (not the last of an epoch). */
    int can_prefetch, want_next;
    data_batch *next;
    double next_wait;       /* loader wait inside the last step's hook */
    /* The model spec this run trains (JSON text): model.spec's file as read at the
     * start, with AutoAnchor's anchors or, on resume, the checkpoint's; every
     * checkpoint saves it. */
    char *spec_text;
    int resumed;            /* trainer_restore continued a checkpoint */
} trainer;

/* Checkpoint now.  With ckpt.async and !durable the write continues in the
 * background (any earlier one is finished first); durable (a signal's or the last
 * checkpoint) returns once it is published. */
dy_status trainer_save(trainer *t, int is_best, int durable);
/* Wait for an asynchronous write in flight (collective: every rank has the same one)
 * and apply the failure policy to its result; DY_OK when none. */
dy_status trainer_ckpt_finish(trainer *t);
/* Local: 1 unless this rank's asynchronous write is still running. */
int trainer_ckpt_idle(const trainer *t);
dy_status trainer_restore(trainer *t, const char *resume);
/* model.autoanchor on a fresh run (collective; trainer_anchor.c). */
dy_status trainer_autoanchor(trainer *t);
/* One validation's numbers for the epoch record (the same on all ranks). */
typedef struct {
    double fitness, map50, map, p, r; /* YOLOv5's fitness, mAP50, mAP50-95, precision, recall */
    double loss[3];                   /* YOLOv5's val box, obj and cls losses */
} trainer_val_out;
/* Validates with the EMA weights. */
dy_status trainer_val(trainer *t, trainer_val_out *o);

#endif
