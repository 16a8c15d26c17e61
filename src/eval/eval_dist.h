/* eval_dist.h -- distributed evaluation: every rank evaluates a disjoint slice of the
 * validation images, then the ground truth, detections and image lists are gathered
 * to every rank in a canonical order (image id, then the producing rank's order
 * within that image), so every rank computes bit-identical metrics whatever the world
 * size — and every rank can take the same decisions (best fitness) from them.
 * defines: eval_set_allgather */
#ifndef DY_EVAL_DIST_H
#define DY_EVAL_DIST_H

#include <mpi.h>

#include "eval/eval_set.h"

/* out is initialized here (same ncat as local); local is left unchanged. */
dy_status eval_set_allgather(const eval_set *local, MPI_Comm comm, eval_set *out);

#endif
