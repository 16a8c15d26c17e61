/* trainer_plots.h -- the plots an Ultralytics YOLOv5 user looks for in a run
 * directory, written by rank 0 alone on a background thread so that no rank waits
 * for a PNG/JPEG encoder and no collective is added:
 *   results.csv / results.png   per epoch, rebuilt from the metrics history (which
 *                               checkpoints carry, so a resumed run rewrites the same rows)
 *   train_batch0..2.jpg         the run's first three micro-batches of rank 0, augmented
 *   labels.jpg                  class histogram, box centres and sizes (training shards)
 *   val_batch0_labels/pred.jpg  rank 0's first validation batch, truth / predictions
 *   confusion_matrix.png        from the gathered validation set
 * Any failure is a warning in the log, never a failed run.  Not a public interface.
 * defines: trainer_plots_open, trainer_plots_close, trainer_plots_batch, trainer_plots_epoch,
 *          trainer_plots_val_hook, trainer_plots_val, trainer_results_csv, TRAINER_PLOT_BATCHES
 */
#ifndef DY_TRAIN_TRAINER_PLOTS_H
#define DY_TRAIN_TRAINER_PLOTS_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "eval/validate.h"
#include "train/trainer_internal.h"

#define TRAINER_PLOT_BATCHES 3

/* Rank 0: starts the worker and queues labels.jpg; other ranks: nothing. */
void trainer_plots_open(trainer *t);
/* Waits for the queued plots (tear-down). */
void trainer_plots_close(trainer *t);
/* train_batch<ni>.jpg for the first TRAINER_PLOT_BATCHES micro-batches of the run. */
void trainer_plots_batch(trainer *t, const data_batch *b);
/* results.csv and results.png from the history (after each epoch's record). */
void trainer_plots_epoch(trainer *t);
/* The hook validate_run calls with rank 0's first batch (NULL on other ranks). */
const validate_hook *trainer_plots_val_hook(trainer *t);
/* After a validation: confusion_matrix.png and val_batch0_*.jpg. */
void trainer_plots_val(trainer *t, const validate_result *v);

/* YOLOv5's results.csv from a history array (tests read it back). */
dy_status trainer_results_csv(const cJSON *history, FILE *f);

#endif
