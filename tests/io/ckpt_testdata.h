/* ckpt_testdata.h -- deterministic checkpoint contents for the tests: every array
 * is a function of (step, index, row) so a reader with any world size can check a
 * file bit for bit.  defines: td_fill, td_write, td_check, TD_* sizes */
#ifndef DY_TESTS_CKPT_TESTDATA_H
#define DY_TESTS_CKPT_TESTDATA_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/ckpt.h"

typedef struct {
    int64_t nparams;
    float *params, *ema, *mom;
    uint16_t *half;
    int64_t *i64;
    uint8_t *u8;
    uint32_t *u32;
} td_state;

#define TD_NSMALL 37

static inline float td_f(int64_t step, int64_t i, int which)
{
    return sinf(0.001f * (float)i + (float)step) * (float)(which + 1);
}

static inline int td_alloc(td_state *t, int64_t nparams, int64_t step)
{
    memset(t, 0, sizeof *t);
    t->nparams = nparams;
    t->params = malloc((size_t)nparams * 4 + 4);
    t->ema = malloc((size_t)nparams * 4 + 4);
    t->mom = malloc((size_t)nparams * 4 + 4);
    t->half = malloc(TD_NSMALL * 2);
    t->i64 = malloc(TD_NSMALL * 8);
    t->u8 = malloc(TD_NSMALL);
    t->u32 = malloc(TD_NSMALL * 4);
    if (!t->params || !t->ema || !t->mom || !t->half || !t->i64 || !t->u8 || !t->u32) return -1;
    for (int64_t i = 0; i < nparams; i++) {
        t->params[i] = td_f(step, i, 0);
        t->ema[i] = td_f(step, i, 1);
        t->mom[i] = td_f(step, i, 2);
    }
    for (int i = 0; i < TD_NSMALL; i++) {
        t->half[i] = (uint16_t)(0x3c00 + i + step);
        t->i64[i] = (int64_t)1 << 40 | (i * 1000 + step);
        t->u8[i] = (uint8_t)(i * 7 + step);
        t->u32[i] = 0xdead0000u + (uint32_t)(i + step);
    }
    return 0;
}

static inline void td_free(td_state *t)
{
    free(t->params);
    free(t->ema);
    free(t->mom);
    free(t->half);
    free(t->i64);
    free(t->u8);
    free(t->u32);
}

static inline void td_row(int64_t step, int row, int64_t out[8])
{
    for (int i = 0; i < 8; i++) out[i] = step * 100000 + row * 100 + i;
}

/* Write a whole checkpoint for `step` into dir (named by step); async if asked. */
static inline dy_status td_write(const char *dir, int64_t step, int64_t nparams, MPI_Comm comm, int async, int best)
{
    td_state t;
    if (td_alloc(&t, nparams, step)) return DY_ERR(DY_ENOMEM, "test data");
    int rank;
    MPI_Comm_rank(comm, &rank);
    char name[64];
    ckpt_name_for_step(step, name, sizeof name);
    ckpt_writer *w;
    int64_t row[8];
    td_row(step, rank, row);
    ckpt_table_row tab[2] = {{"model.0.conv.weight", 0, nparams - 5, "x"}, {"model.0.bn.bias", nparams - 5, 5, "5"}};
    dy_status s = ckpt_writer_begin(&w, dir, name, comm);
    if (s == DY_OK) s = ckpt_add_array(w, "model.params", CKPT_F32, t.params, nparams);
    if (s == DY_OK) s = ckpt_add_array(w, "ema.params", CKPT_F32, t.ema, nparams);
    if (s == DY_OK) s = ckpt_add_array_ref(w, "optim.momentum", CKPT_F32, t.mom, nparams);
    if (s == DY_OK) s = ckpt_add_array(w, "model.buffers", CKPT_F32, t.params, TD_NSMALL);
    if (s == DY_OK) s = ckpt_add_array(w, "ema.buffers", CKPT_F32, t.ema, TD_NSMALL);
    if (s == DY_OK) s = ckpt_add_array(w, "scaler.half", CKPT_F16, t.half, TD_NSMALL);
    if (s == DY_OK) s = ckpt_add_array(w, "sampler.i64", CKPT_I64, t.i64, TD_NSMALL);
    if (s == DY_OK) s = ckpt_add_array(w, "misc.u8", CKPT_U8, t.u8, TD_NSMALL);
    if (s == DY_OK) s = ckpt_add_array(w, "misc.u32", CKPT_U32, t.u32, TD_NSMALL);
    if (s == DY_OK) s = ckpt_add_array(w, "misc.empty", CKPT_F32, NULL, 0);
    if (s == DY_OK) s = ckpt_add_rank_array(w, "rng.state", CKPT_I64, row, 8);
    if (s == DY_OK) s = ckpt_add_text(w, "config", "{\"model\": {\"nc\": 80}, \"train\": {\"epochs\": 3}}");
    if (s == DY_OK) s = ckpt_add_table(w, "model.params", tab, 2);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "step", step);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "epoch", step / 10);
    if (s == DY_OK) s = ckpt_attr_set_float(w, "best_fitness", 0.25 + (double)step);
    if (s == DY_OK) ckpt_writer_set_best(w, best);
    if (s == DY_OK) s = async ? ckpt_commit_async(w) : ckpt_commit(w);
    if (s == DY_OK && async) {
        /* The snapshot is taken: scribbling on copied and borrowed arrays must not matter. */
        memset(t.params, 0xff, (size_t)nparams * 4);
        memset(t.mom, 0xff, (size_t)nparams * 4);
        s = ckpt_wait(w);
    }
    if (w) ckpt_writer_free(w);
    td_free(&t);
    return s;
}

/* Check every dataset of a checkpoint for `step`; returns a count of mismatches. */
static inline int td_check(const ckpt_reader *r, int64_t step, int64_t nparams, char *why, size_t len)
{
    td_state t;
    if (td_alloc(&t, nparams, step)) return 1;
    int bad = 0;
    float *f = malloc((size_t)nparams * 4 + 4);
    const char *names[3] = {"model.params", "ema.params", "optim.momentum"};
    float *want[3] = {t.params, t.ema, t.mom};
    for (int k = 0; k < 3 && !bad; k++)
        if (ckpt_get(r, names[k], CKPT_F32, f, nparams) != DY_OK || memcmp(f, want[k], (size_t)nparams * 4))
            bad = snprintf(why, len, "%s differs", names[k]) > 0;
    uint16_t h[TD_NSMALL];
    int64_t i64[TD_NSMALL], row[8], wrow[8], v;
    uint8_t u8[TD_NSMALL];
    uint32_t u32[TD_NSMALL];
    if (!bad && (ckpt_get(r, "scaler.half", CKPT_F16, h, TD_NSMALL) || memcmp(h, t.half, sizeof h)))
        bad = snprintf(why, len, "f16 differs") > 0;
    if (!bad && (ckpt_get(r, "sampler.i64", CKPT_I64, i64, TD_NSMALL) || memcmp(i64, t.i64, sizeof i64)))
        bad = snprintf(why, len, "i64 differs") > 0;
    if (!bad && (ckpt_get(r, "misc.u8", CKPT_U8, u8, TD_NSMALL) || memcmp(u8, t.u8, sizeof u8)))
        bad = snprintf(why, len, "u8 differs") > 0;
    if (!bad && (ckpt_get(r, "misc.u32", CKPT_U32, u32, TD_NSMALL) || memcmp(u32, t.u32, sizeof u32)))
        bad = snprintf(why, len, "u32 differs") > 0;
    if (!bad && (!ckpt_find(r, "misc.empty") || ckpt_find(r, "misc.empty")->n != 0))
        bad = snprintf(why, len, "empty array missing") > 0;
    const ckpt_entry *re = ckpt_find(r, "rng.state");
    for (int64_t k = 0; !bad && re && k < re->rows; k++) {
        td_row(step, (int)k, wrow);
        if (ckpt_get_row(r, "rng.state", CKPT_I64, (int)k, row, 8) || memcmp(row, wrow, sizeof row))
            bad = snprintf(why, len, "rank row %lld differs", (long long)k) > 0;
    }
    if (!bad && !re) bad = snprintf(why, len, "rank array missing") > 0;
    const char *cfg = ckpt_text(r, "config");
    if (!bad && (!cfg || strcmp(cfg, "{\"model\": {\"nc\": 80}, \"train\": {\"epochs\": 3}}")))
        bad = snprintf(why, len, "config text differs") > 0;
    const ckpt_entry *tab = ckpt_find(r, "model.params");
    if (!bad && tab && tab->kind != CKPT_KIND_ARRAY) tab = NULL;
    for (int i = 0; !bad && i < ckpt_reader_nentries(r); i++) {
        const ckpt_entry *e = ckpt_reader_entry(r, i);
        if (e->kind == CKPT_KIND_TABLE && !strcmp(e->name, "model.params")) {
            const ckpt_table_row *tr = e->data;
            if (e->n != 2 || strcmp(tr[1].name, "model.0.bn.bias") || tr[1].offset != nparams - 5 || tr[1].count != 5)
                bad = snprintf(why, len, "name table differs") > 0;
        }
    }
    if (!bad && (ckpt_attr_int(r, "step", &v) || v != step)) bad = snprintf(why, len, "step attribute") > 0;
    free(f);
    td_free(&t);
    return bad;
}

#endif
