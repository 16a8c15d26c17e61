/* graph.h -- a network as a list of primitive nodes (fused conv+BN+SiLU, add,
 * max-pool, upsample, concat) executed in order, built only on backend ops.
 * Parameters and gradients live in one flat buffer each, BN running statistics in a
 * third, all allocated by the graph's backend (device memory on a GPU); activations and their gradients come from one arena planned once per input
 * shape (nn_graph_plan), so a training step allocates nothing.  Concatenation costs
 * nothing: producers write straight into their slice of the consumer's buffer.
 *
 * defines: nn_kind, nn_node, nn_param_range, nn_graph, nn_grad_ready_fn, nn_graph_new,
 *          nn_graph_free, nn_graph_add_*, nn_graph_finalize, nn_graph_plan,
 *          nn_graph_set_input, nn_graph_forward, nn_graph_backward, nn_graph_flops */
#ifndef DY_NN_GRAPH_H
#define DY_NN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "tensor/backend.h"

typedef enum { NN_INPUT, NN_CONV, NN_ADD, NN_MAXPOOL, NN_UPSAMPLE, NN_CONCAT } nn_kind;

#define NN_MAX_IN 8

typedef struct {
    nn_kind kind;
    int in[NN_MAX_IN], nin;
    int c, h, w;            /* output shape per image */
    /* conv */
    int k, stride, pad, groups, bn, act, bias;
    size_t poff, pcount;    /* parameter range: weight, then BN gamma, beta (or bias) */
    size_t boff;            /* BN running mean [c], running var [c] in the buffer array */
    int pool_k;
    /* planned */
    int alias_of, alias_ch; /* concat node this output is a slice of (or -1), channel */
    int consumers;
    /* activation, its gradient, conv output before BN: backend memory holding values
     * of the backend's act_dtype (f32, or binary16 on a half-storage backend) */
    void *out, *gout, *pre;
    float *mean, *invstd;
    size_t ws;
} nn_node;

typedef struct {
    char name[96];
    size_t offset, count;
    int group; /* 0: conv weights (decayed), 1: BN weights, 2: biases */
} nn_param_range;

/* Called during backward as soon as [offset, offset+count) of the gradient is final. */
typedef void (*nn_grad_ready_fn)(size_t offset, size_t count, void *user);

typedef struct {
    const tn_backend *be;
    nn_node *nodes;
    int nnodes, cap;
    nn_param_range *ranges, *buf_ranges;
    int nranges, nbuf_ranges, rcap, bcap;
    size_t nparams, nbuffers;
    float *params, *grads, *buffers;
    /* options */
    int f16;                 /* AMP: activations/gradients in binary16 -- stored as half when the
                              * backend has half storage (be->act_dtype), else f32 values
                              * rounded to binary16 after every op (the CPU's emulation) */
    const tn_backend *be_base; /* the backend the graph was made on (f32 activations) */
    int accumulate;          /* add parameter gradients instead of writing them */
    int bwd_stop;            /* backward visits nodes >= this only (frozen layers below; 0: all) */
    float bn_eps, bn_momentum;
    void (*bn_reduce)(float *buf, int n, void *user);
    void *bn_reduce_user;
    nn_grad_ready_fn grad_ready;
    void *grad_ready_user;
    double *prof_fwd, *prof_bwd; /* optional per-node seconds, accumulated */
    double *prof_conv;           /* optional per-node seconds in the convolution alone */
    /* plan */
    int batch, in_h, in_w;
    void *arena, *garena;    /* activations and their gradients (act_dtype values) */
    float *ws, *stats;       /* backend memory */
    /* input staging (graph_input.c; device backends only): two slots of backend
     * memory so that the next batch uploads (copy queue) while this one computes */
    uint8_t *in_u8[2];
    size_t in_cap[2];
    tn_event *in_ready[2], *in_used[2]; /* upload done / last read by the compute queue */
    int in_cur;                 /* slot the current batch was read from */
    const uint8_t *pref_src;    /* host batch uploading into slot pref_slot, or NULL */
    size_t pref_bytes;
    int pref_slot;
    size_t arena_floats, garena_floats, ws_floats; /* element counts */
    /* Allocated sizes in bytes: a plan reuses what is there when it
     * fits, so switching between the training, validation and rectangular-batch
     * shapes every epoch does not allocate and zero-fill hundreds of MB each time. */
    size_t arena_cap, garena_cap, ws_cap, stats_cap;
} nn_graph;

dy_status nn_graph_new(nn_graph **out, const tn_backend *be);
void nn_graph_free(nn_graph *g);

/* Builders return the new node index (or -1 after setting the error). prefix names
 * the parameters: "<prefix>.conv.weight", "<prefix>.bn.weight", ... */
int nn_graph_add_input(nn_graph *g, int c);
int nn_graph_add_conv(nn_graph *g, int in, int cout, int k, int stride, int pad, int groups,
                      int bn_act, const char *prefix);
int nn_graph_add_add(nn_graph *g, int a, int b);
int nn_graph_add_maxpool(nn_graph *g, int in, int k);
int nn_graph_add_upsample(nn_graph *g, int in);
int nn_graph_add_concat(nn_graph *g, const int *ins, int nin);

/* Allocates the flat parameter, gradient and buffer arrays (params zero, BN gamma 1,
 * running var 1). Call once after the last add. */
dy_status nn_graph_finalize(nn_graph *g);
/* Plans the activation arena for batch x in_h x in_w (re-plans when the shape changes). */
dy_status nn_graph_plan(nn_graph *g, int batch, int in_h, int in_w);
size_t nn_graph_arena_bytes(const nn_graph *g);
/* Switches between f32 activations and AMP (f16 = 1): on a backend with half storage
 * (be->half_acts) the graph moves to that table and the next plan allocates 2-byte
 * activations; elsewhere f16 means rounding f32 values (the emulation).  The plan is
 * dropped when the table changes. */
void nn_graph_set_f16(nn_graph *g, int f16);
/* Bytes per stored activation value (4, or 2 with half storage). */
size_t nn_graph_act_bytes(const nn_graph *g);
/* Whether the current plan is for this shape (a width change drops the plan). */
int nn_graph_planned(const nn_graph *g, int batch, int in_h, int in_w);

/* Fills the input node from uint8 NCHW images (0..255) in host memory (uploaded
 * first on a device backend, unless nn_graph_prefetch_u8 already sent them). */
dy_status nn_graph_set_input_u8(nn_graph *g, const uint8_t *images);
/* Starts uploading the NEXT batch (n x 3 x h x w, host memory that stays untouched
 * until it has been passed to nn_graph_set_input_u8) on the backend's copy queue, so
 * it overlaps the current step's compute.  A no-op on host-memory backends and when
 * the shape is not the planned one (the batch is then uploaded when it is used). */
dy_status nn_graph_prefetch_u8(nn_graph *g, const uint8_t *images, int n, int h, int w);
/* graph_input.c's part of planning: both slots of `bytes` (device backends); and of
 * freeing: the slots (and with events = 1 the events too).  A pending upload is
 * waited for first. */
dy_status nn_graph_input_reserve(nn_graph *g, size_t bytes);
void nn_graph_input_free(nn_graph *g, int events);
void nn_graph_forward(nn_graph *g, int training);
/* Gradients of the outputs must already be in the output nodes' gout (see
 * nn_graph_zero_grads); walks nodes in reverse and fills g->grads. */
void nn_graph_zero_grads(nn_graph *g);
void nn_graph_backward(nn_graph *g);

/* Multiply-accumulates of one image of in_h x in_w as thop counts them (convolutions
 * plus one per output element of a conv+BN; pooling, upsampling, SiLU and adds count 0). */
double nn_graph_macs(const nn_graph *g, int in_h, int in_w);
/* Output spatial size of every node for an input size (without planning). */
void nn_graph_shapes(nn_graph *g, int in_h, int in_w);

#endif
