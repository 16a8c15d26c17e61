/* fuzz_manifest.c -- libFuzzer target for shard manifests (data/shard_read.c): the
 * input is a PREFIX.manifest.json, read by shard_open on MPI_COMM_SELF, which parses
 * it and checks each listed shard's size and whole-file CRC-32C before any HDF5 call.
 * The folder holds one fixed 64-byte file, a-00000.h5, that is not HDF5: a manifest
 * that lists it with the right size and CRC (the seed does) passes the check and
 * is refused at once (no HDF5 signature), so what is fuzzed
 * is the JSON handling and the verification, not HDF5's parser (fuzz_shard does that).
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"

#include <hdf5.h>

#include "data/shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

/* The fixed "shard": size 64, CRC-32C aa6ab286 (in corpus/fuzz_manifest/ok.json). */
static uint8_t fake[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_setup();
    fz_mpi_init();
    for (int i = 0; i < 64; i++) fake[i] = (uint8_t)(i * 7 + 1);
    /* Open MPI's MPI-IO components load at the first file open and stay: do it here. */
    static const char first[] = "{\"shards\":[{\"file\":\"a-00000.h5\"}]}";
    LLVMFuzzerTestOneInput((const uint8_t *)first, sizeof first - 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    fz_write("a-00000.h5", fake, sizeof fake);
    fz_write("m.json", data, len);
    const char *paths[1] = {fz_path("m.json")};
    shard_set *s = NULL;
    if (shard_open(&s, paths, 1, MPI_COMM_SELF) == DY_OK) shard_close(s); /* cannot happen: not HDF5 */
    fz_end_hdf5_run("fuzz_manifest", "shard_open");
    return 0;
}
