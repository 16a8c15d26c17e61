/* seed_ckpt.c -- writes the small checkpoint that seeds fuzz_ckpt's corpus: every
 * entry kind (f32, f16, i64 and u8 shared arrays, a rank array, a text, a name table)
 * and every attribute type, a few hundred bytes of data so that mutations reach the
 * parser rather than the bulk.  Usage: seed_ckpt DIR NAME (regenerate the corpus
 * file with tests/fuzz/make-seeds.sh).
 * defines: main */
#include <stdio.h>
#include <string.h>

#include "io/ckpt.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: seed_ckpt DIR NAME\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    float w[24];
    uint16_t h[8];
    int64_t rng[4] = {1, 2, 3, 4};
    uint8_t u[5] = {1, 2, 3, 4, 5};
    for (int i = 0; i < 24; i++) w[i] = (float)i * 0.25f - 2.0f;
    for (int i = 0; i < 8; i++) h[i] = (uint16_t)(0x3c00 + i);
    ckpt_table_row rows[2] = {{"model.0.conv.weight", 0, 16, "2x2x2x2"}, {"model.0.bn.bias", 16, 8, "8"}};
    ckpt_writer *wr;
    dy_status s = ckpt_writer_begin(&wr, argv[1], argv[2], MPI_COMM_WORLD);
    if (s == DY_OK) {
        ckpt_writer_set_pointers(wr, 0);
        s = ckpt_add_array(wr, "model.params", CKPT_F32, w, 24);
        if (s == DY_OK) s = ckpt_add_array(wr, "optim.half", CKPT_F16, h, 8);
        if (s == DY_OK) s = ckpt_add_array(wr, "flags", CKPT_U8, u, 5);
        if (s == DY_OK) s = ckpt_add_rank_array(wr, "rng.state", CKPT_I64, rng, 4);
        if (s == DY_OK) s = ckpt_add_text(wr, "config", "{\"train\": {\"epochs\": 3}}");
        if (s == DY_OK) s = ckpt_add_table(wr, "model.params", rows, 2);
        if (s == DY_OK) s = ckpt_attr_set_int(wr, "step", 12);
        if (s == DY_OK) s = ckpt_attr_set_float(wr, "best_fitness", 0.5);
        if (s == DY_OK) s = ckpt_attr_set_str(wr, "model_spec", "yolov5n.json");
        if (s == DY_OK) s = ckpt_commit(wr);
        ckpt_writer_free(wr);
    }
    if (s != DY_OK) fprintf(stderr, "seed_ckpt: %s\n", err_msg());
    MPI_Finalize();
    return s == DY_OK ? 0 : 1;
}
