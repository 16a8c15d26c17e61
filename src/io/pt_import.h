/* pt_import.h -- `dyolo import`: a YOLOv5 v7.0 .pt file (train.py's checkpoint, a
 * stripped best.pt, a pickled DetectionModel, or a plain state_dict) to a
 * `dyolo-weights` file (src/io/SCHEMA.md) that val, detect and train accept.
 *
 * The .pt is read by pt_zip.h and the restricted unpickler of unpickle.h, so a
 * hostile file can only fail to import, never run code.  Tensor names are YOLOv5's
 * (`model.0.conv.weight`), which are dyolo's; every parameter and BN buffer of the
 * dyolo model must be found with the right element count, and every checkpoint
 * tensor must have a place (num_batches_tracked and the Detect anchors, which go
 * into the spec, excepted).  The model spec is the checkpoint's `model.yaml` (or
 * --model SPEC; a state_dict has no yaml), with the anchors the checkpoint holds
 * (autoanchor may have changed them).
 *
 * defines: pt_import_opts, pt_import_report, pt_import, pt_import_report_free
 */
#ifndef DY_IO_PT_IMPORT_H
#define DY_IO_PT_IMPORT_H

#include "core/err.h"

typedef struct {
    const char *spec_path; /* --model SPEC, or NULL: the checkpoint's model.yaml */
    const char *out_path;  /* the dyolo-weights file to write */
} pt_import_opts;

typedef struct {
    const char *source;      /* "ema", "model" or "state_dict" */
    int nc, nnames;          /* nnames: class names found (0: none in the file) */
    char **names;            /* [nnames] */
    int tensors;             /* checkpoint tensors mapped to parameters or buffers */
    int skipped;             /* tensors skipped (num_batches_tracked, anchors) */
    long long params, buffers;
    double depth_multiple, width_multiple;
    int anchors_changed;     /* the checkpoint's anchors differ from the spec's */
    char spec_from[300];     /* "model.yaml in the checkpoint" or the --model path */
} pt_import_report;

dy_status pt_import(const char *pt_path, const pt_import_opts *o, pt_import_report *rep);
void pt_import_report_free(pt_import_report *rep);

#endif
