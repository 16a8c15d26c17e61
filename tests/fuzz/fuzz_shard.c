/* fuzz_shard.c -- libFuzzer target for shard files (data/shard_read.c): the input is
 * one HDF5 shard, opened with the MPI-IO driver on MPI_COMM_SELF as the loader
 * opens it; then every sample's metadata, name and payload (with its CRC check) are
 * read.  After the close no HDF5 object may remain open: a leaked handle keeps the
 * file (and its memory) open in a long training or packing process, and LeakSanitizer
 * cannot see it because HDF5 still references it.
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"

#include <hdf5.h>

#include "data/shard.h"

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
    fz_write("s.h5", data, len);
    const char *paths[1] = {fz_path("s.h5")};
    shard_set *s = NULL;
    if (shard_open(&s, paths, 1, MPI_COMM_SELF) == DY_OK) {
        uint8_t *buf = NULL;
        size_t cap = 0, got;
        char name[256];
        for (int c = 0; c < shard_nclass(s); c++) (void)strlen(shard_class_name(s, c));
        for (int64_t i = 0; i < shard_count(s) && i < 64; i++) {
            shard_sample m;
            shard_sample_get(s, i, &m);
            for (int k = 0; k < m.nbox * 4; k++) (void)m.box[k];
            (void)shard_sample_name(s, i, name, sizeof name);
            (void)shard_read_payload(s, i, &buf, &cap, &got);
        }
        free(buf);
        shard_close(s);
    }
    fz_end_hdf5_run("fuzz_shard", "shard_open/shard_close");
    return 0;
}
