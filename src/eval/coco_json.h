/* coco_json.h -- COCO-format files for evaluation: read a ground-truth annotation
 * file plus a detections ("results") file into an eval_set, and write both from one,
 * so any COCO tool (pycocotools) can re-evaluate dyolo's detections.
 * COCO category ids are mapped to contiguous classes in ascending id order (the order
 * pycocotools uses); the mapping is returned.
 * defines: coco_json_load, coco_json_write_gt, coco_json_write_dt */
#ifndef DY_EVAL_COCO_JSON_H
#define DY_EVAL_COCO_JSON_H

#include "eval/eval_set.h"

/* cat_ids_out: malloc'd [ncat] COCO category id of each class (may be NULL). */
dy_status coco_json_load(const char *gt_path, const char *dt_path, eval_set *out, int64_t **cat_ids_out);
/* names may be NULL ("class<i>"); category ids written are class + 1. */
dy_status coco_json_write_gt(const eval_set *s, const char *const *names, const char *path);
dy_status coco_json_write_dt(const eval_set *s, const char *path);

#endif
