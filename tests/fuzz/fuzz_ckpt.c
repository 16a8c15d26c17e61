/* fuzz_ckpt.c -- libFuzzer target for checkpoint files (io/ckpt_read.c): the input is
 * one HDF5 checkpoint, opened on MPI_COMM_SELF (so every shared array is read and
 * checked by this one rank); then every entry and attribute is walked as `dyolo ckpt
 * info` does.  As in fuzz_shard, no HDF5 object may remain open afterwards.
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"

#include <hdf5.h>

#include "io/ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_setup();
    fz_mpi_init();
    /* Open MPI loads and initialises its MPI-IO components at the first file open and
     * keeps them for the life of the process: do that here, not inside a checked run. */
    LLVMFuzzerTestOneInput((const uint8_t *)"not hdf5", 8);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    fz_write("c.h5", data, len);
    ckpt_reader *r = NULL;
    if (ckpt_reader_open(&r, fz_path("c.h5"), MPI_COMM_SELF) == DY_OK) {
        for (int i = 0; i < ckpt_reader_nentries(r); i++) {
            const ckpt_entry *e = ckpt_reader_entry(r, i);
            (void)strlen(e->name);
            if (e->kind == CKPT_KIND_TEXT) (void)strlen(ckpt_text(r, e->name));
            if (e->kind == CKPT_KIND_TABLE)
                for (int64_t k = 0; k < e->n; k++) (void)strnlen(((const ckpt_table_row *)e->data)[k].name, CKPT_NAME_MAX);
        }
        for (int i = 0; i < ckpt_reader_nattrs(r); i++) {
            const ckpt_attr *a = ckpt_reader_attr(r, i);
            if (a->type == 2) (void)strlen(a->s);
        }
        ckpt_reader_close(r);
    }
    fz_end_hdf5_run("fuzz_ckpt", "ckpt_reader_open/close");
    return 0;
}
