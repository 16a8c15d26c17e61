/* transfer.c -- pretrained weights into a model by name and size, and the frozen
 * prefix of the parameter buffer (see transfer.h). */
#include "train/transfer.h"

#include <stdlib.h>
#include <string.h>

#include "io/ckpt.h"

/* The arrays and tables of a weights file or a checkpoint (EMA first). */
typedef struct {
    const char *params, *buffers, *ptable, *btable, *source;
} layout;

static const layout layouts[] = {
    {"params", "buffers", "params", "buffers", "weights"},
    {"ema.params", "ema.buffers", "model.params", "model.buffers", "ema"},
    {"model.params", "model.buffers", "model.params", "model.buffers", "model"},
};

/* An f32 array, or a name table (an array and its table share a name). */
static const ckpt_entry *find(const ckpt_reader *r, const char *name, ckpt_kind kind)
{
    const ckpt_entry *e = ckpt_find_kind(r, name, kind);
    return e && (kind != CKPT_KIND_ARRAY || e->dtype == CKPT_F32) ? e : NULL;
}

static const layout *find_layout(const ckpt_reader *r)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (find(r, layouts[i].params, CKPT_KIND_ARRAY) && find(r, layouts[i].ptable, CKPT_KIND_TABLE))
            return &layouts[i];
    return NULL;
}

/* Copies the rows of `table` over array `arr` into dst wherever the model's range of
 * the same name has the same size; counts how many. */
static int copy_matching(const ckpt_reader *r, const char *arr, const char *table, float *dst,
                         const nn_param_range *(*range)(const yolo_model *, int), int nranges,
                         const yolo_model *m)
{
    const ckpt_entry *a = find(r, arr, CKPT_KIND_ARRAY), *t = find(r, table, CKPT_KIND_TABLE);
    if (!a || !t) return 0;
    const ckpt_table_row *rows = t->data;
    const float *src = a->data;
    int done = 0;
    for (int i = 0; i < nranges; i++) {
        const nn_param_range *pr = range(m, i);
        for (int64_t k = 0; k < t->n; k++) {
            const ckpt_table_row *row = &rows[k];
            if (strcmp(row->name, pr->name) || row->count != (int64_t)pr->count) continue;
            if (row->offset < 0 || row->offset > a->n || row->count > a->n - row->offset) break; /* not in the array */
            memcpy(dst + pr->offset, src + row->offset, sizeof(float) * pr->count);
            done++;
            break;
        }
    }
    return done;
}

dy_status train_transfer(yolo_model *m, const char *path, MPI_Comm comm, train_transfer_report *rep)
{
    memset(rep, 0, sizeof *rep);
    char real[1400];
    DY_TRY_CTX(ckpt_resolve_pointer(path, real, sizeof real), "model.weights");
    ckpt_reader *r = NULL;
    DY_TRY_CTX(ckpt_reader_open(&r, real, comm), "model.weights");
    const layout *L = find_layout(r);
    size_t np = yolo_model_num_params(m), nb = yolo_model_num_buffers(m);
    float *p = malloc(sizeof(float) * (np + 1)), *b = malloc(sizeof(float) * (nb + 1));
    dy_status s = L ? DY_OK
                    : DY_ERR(DY_EFORMAT, "model.weights = %s: no weights in it (neither a dyolo-weights file nor a "
                                         "checkpoint with parameter tables)", real);
    if (s == DY_OK && (!p || !b)) s = DY_ERR(DY_ENOMEM, "model.weights: out of memory");
    if (s == DY_OK) s = yolo_model_state_get(m, p, b);
    if (s == DY_OK) {
        snprintf(rep->source, sizeof rep->source, "%s", L->source);
        rep->params_total = yolo_model_num_param_ranges(m);
        rep->buffers_total = yolo_model_num_buffer_ranges(m);
        rep->params_done = copy_matching(r, L->params, L->ptable, p, yolo_model_param_range, rep->params_total, m);
        rep->buffers_done = copy_matching(r, L->buffers, L->btable, b, yolo_model_buffer_range, rep->buffers_total, m);
        if (rep->params_done == 0)
            s = DY_ERR(DY_EINVAL, "model.weights = %s: none of its %s tensors has a name and size of this model "
                                  "(another architecture?)", real, L->source);
    }
    if (s == DY_OK) s = yolo_model_state_put(m, p, b);
    free(p);
    free(b);
    ckpt_reader_close(r);
    return s;
}

/* The spec layer of a parameter name "model.<layer>.<...>" (-1 if not of that form). */
static int layer_of(const char *name)
{
    if (strncmp(name, "model.", 6)) return -1;
    char *end;
    long l = strtol(name + 6, &end, 10);
    return end != name + 6 && *end == '.' ? (int)l : -1;
}

size_t train_frozen_params(const yolo_model *m, int layers)
{
    size_t end = 0;
    for (int i = 0; layers > 0 && i < yolo_model_num_param_ranges(m); i++) {
        const nn_param_range *r = yolo_model_param_range(m, i);
        int l = layer_of(r->name);
        if (l < 0 || l >= layers) break;
        if (r->offset == end) end += r->count; /* layers are laid out in spec order */
    }
    return end;
}

int train_frozen_node(const yolo_model *m, size_t frozen_params)
{
    if (!frozen_params) return 0;
    nn_graph *g = yolo_model_graph((yolo_model *)m);
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].kind == NN_CONV && g->nodes[i].poff >= frozen_params) return i;
    return g->nnodes;
}
