/* optim.h -- the optimizer over the flat parameter buffer: SGD with Nesterov momentum
 * (PyTorch semantics, as YOLOv5 uses it) or AdamW, with YOLOv5's three parameter
 * groups, and global-norm gradient clipping.
 *
 * Groups (YOLOv5 smart_optimizer's g[0..2]): OPT_GROUP_DECAY conv/linear weights get
 * weight decay; OPT_GROUP_BN BatchNorm weights and OPT_GROUP_BIAS biases do not.
 * Each group has its own learning rate (the schedule warms biases up from
 * warmup_bias_lr and the others from 0).  Ranges of the same group that touch are
 * merged at creation into spans, so a step is a few fused loops over contiguous
 * memory; nothing is allocated per step.
 *
 * SGD (torch.optim.SGD, dampening 0, nesterov):  g += wd*p;  buf = mom*buf + g;
 *   p -= lr * (g + mom*buf)
 * AdamW (torch.optim.AdamW, betas (momentum, beta2)):  p *= 1 - lr*wd;
 *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *   p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
 *
 * State (step, m, v) is plain data for checkpoints: optim.m and optim.v hold n
 * floats each (v is NULL for SGD), in the backend's memory.  The update and the
 * clipping run as backend ops (one fused pass per span; kernels_hd.h).
 *
 * defines: optim_group_id, optim_kind, optim_range, optim_span, optim, optim_create,
 *          optim_destroy, optim_step, optim_clip_grad_norm, optim_kind_parse, OPT_NGROUPS
 */
#ifndef DY_TRAIN_OPTIM_H
#define DY_TRAIN_OPTIM_H

#include <stddef.h>

#include "core/err.h"
#include "tensor/backend.h"

/* OPT_GROUP_FROZEN: parameters the optimizer never touches (train.freeze). */
typedef enum {
    OPT_GROUP_DECAY = 0,
    OPT_GROUP_BN = 1,
    OPT_GROUP_BIAS = 2,
    OPT_NGROUPS = 3,
    OPT_GROUP_FROZEN = OPT_NGROUPS
} optim_group_id;
typedef enum { OPTIM_SGD = 0, OPTIM_ADAMW } optim_kind;

typedef struct {
    size_t offset, count;
    int group; /* optim_group_id */
} optim_range;

typedef struct {
    size_t offset, count;
    int group;
} optim_span;

typedef struct {
    optim_kind kind;
    size_t n;            /* parameters */
    float lr[OPT_NGROUPS]; /* set by the schedule before each step */
    float momentum;        /* SGD momentum, AdamW beta1 */
    float beta2, eps;      /* AdamW */
    float weight_decay;    /* group OPT_GROUP_DECAY only (already nbs-scaled) */
    long step;             /* updates applied (AdamW bias correction) */
    optim_span *spans;
    int nspans;
    float *m, *v;          /* state: momentum buffer / first moment; second moment */
    const tn_backend *be;  /* owns m, v and runs the passes */
} optim;

dy_status optim_kind_parse(const char *s, optim_kind *out);
/* ranges: every parameter with its group, in any order, covering [0, n) exactly once.
 * be: the backend of the parameter buffers (NULL: the CPU backend). */
dy_status optim_create(optim *o, const tn_backend *be, optim_kind kind, size_t n, const optim_range *ranges,
                       int nranges, float weight_decay);
void optim_destroy(optim *o);
void optim_step(optim *o, float *params, const float *grads);
/* Scale grads so their global L2 norm is at most max_norm (torch clip_grad_norm_:
 * coefficient max_norm / (norm + 1e-6) when below 1); returns the norm before. */
float optim_clip_grad_norm(const tn_backend *be, float *grads, size_t n, float max_norm);

#endif
