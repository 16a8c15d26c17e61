/* graph_input.c -- the graph's input: uint8 batches from host memory into the input
 * node, and on a device backend the upload pipeline that keeps the GPU fed.
 *
 * Two device slots take turns.  While step k computes from slot s, the trainer hands
 * over batch k+1 (nn_graph_prefetch_u8, called once step k's backward is queued) and
 * it is copied into slot s^1 on the backend's copy queue, after the compute queue's
 * last read of that slot (event in_used) and recorded by in_ready.  Step k+1's
 * nn_graph_set_input_u8 finds that batch pending, makes the compute queue wait for
 * in_ready on the device (the host never blocks) and converts it (u8 -> f32/half on
 * the device).  With the loader's batches in page-locked memory (loader_opts
 * host_alloc) the copy is a true DMA overlapped with the compute; from pageable memory
 * it is still correct, only staged by the driver.  Anything else (another batch, a
 * different shape, a re-plan in between) falls back to an upload on the compute queue.
 *
 * defines: nn_graph_set_input_u8, nn_graph_prefetch_u8, nn_graph_input_reserve,
 *          nn_graph_input_free */
#include "nn/graph.h"

static size_t input_bytes(const nn_graph *g)
{
    const nn_node *n = &g->nodes[0];
    return (size_t)g->batch * n->c * n->h * n->w;
}

/* A pending upload must land before its slot or source may change. */
static dy_status settle_prefetch(nn_graph *g)
{
    if (!g->pref_src) return DY_OK;
    g->pref_src = NULL;
    return g->be->event_wait(g->in_ready[g->pref_slot]);
}

void nn_graph_input_free(nn_graph *g, int events)
{
    const tn_backend *be = g->be;
    (void)settle_prefetch(g); /* tearing down: a failure here was or will be reported by status() */
    for (int s = 0; s < 2; s++) {
        be->free(g->in_u8[s]);
        g->in_u8[s] = NULL;
        g->in_cap[s] = 0;
        if (!events) continue;
        if (g->in_ready[s]) be->event_destroy(g->in_ready[s]);
        if (g->in_used[s]) be->event_destroy(g->in_used[s]);
        g->in_ready[s] = g->in_used[s] = NULL;
    }
}

dy_status nn_graph_input_reserve(nn_graph *g, size_t bytes)
{
    if (g->be->host_mem) return DY_OK;
    DY_TRY_CTX(settle_prefetch(g), "the input batch being uploaded");
    for (int s = 0; s < 2; s++) {
        if (g->in_u8[s] && g->in_cap[s] >= bytes) continue;
        g->be->free(g->in_u8[s]);
        g->in_u8[s] = NULL, g->in_cap[s] = 0;
        void *p = NULL;
        DY_TRY_CTX(g->be->alloc(bytes ? bytes : 1, &p), "input staging slot %d (%zu bytes)", s, bytes);
        g->in_u8[s] = p, g->in_cap[s] = bytes;
    }
    for (int s = 0; s < 2; s++) {
        if (!g->in_ready[s]) DY_TRY_CTX(g->be->event_create(&g->in_ready[s]), "input staging events");
        if (!g->in_used[s]) DY_TRY_CTX(g->be->event_create(&g->in_used[s]), "input staging events");
    }
    return DY_OK;
}

dy_status nn_graph_set_input_u8(nn_graph *g, const uint8_t *images)
{
    const tn_backend *be = g->be;
    const nn_node *n = &g->nodes[0];
    const uint8_t *x = images;
    if (!be->host_mem) {
        size_t bytes = input_bytes(g);
        int slot;
        if (g->pref_src == images && g->pref_bytes == bytes) {
            slot = g->pref_slot;
            be->stream_wait(g->in_ready[slot]); /* on the device: the host goes on */
            g->pref_src = NULL;
        } else {
            DY_TRY_CTX(settle_prefetch(g), "the input batch being uploaded");
            slot = g->in_cur ^ 1;
            DY_TRY_CTX(be->upload(g->in_u8[slot], images, bytes), "uploading the input batch");
        }
        x = g->in_u8[slot];
        g->in_cur = slot;
    }
    be->u8_to_f32(g->batch, n->c, n->h, n->w, x, n->out);
    if (!be->host_mem) be->event_record(g->in_used[g->in_cur]); /* the slot's last reader */
    return DY_OK;
}

dy_status nn_graph_prefetch_u8(nn_graph *g, const uint8_t *images, int n, int h, int w)
{
    const tn_backend *be = g->be;
    size_t bytes = input_bytes(g);
    if (be->host_mem || !be->upload_async || !g->in_u8[0] || n != g->batch || h != g->nodes[0].h ||
        w != g->nodes[0].w)
        return DY_OK;
    DY_TRY_CTX(settle_prefetch(g), "the input batch being uploaded");
    int slot = g->in_cur ^ 1;
    DY_TRY_CTX(be->upload_async(g->in_u8[slot], images, bytes, g->in_used[slot], g->in_ready[slot]),
               "starting the upload of the next input batch");
    g->pref_src = images;
    g->pref_bytes = bytes;
    g->pref_slot = slot;
    return DY_OK;
}
