/* fuzz_pickle.c -- libFuzzer target for the restricted unpickler (io/unpickle.c): the
 * input is a pickle (the data.pkl of a .pt archive), parsed by pk_parse and walked
 * (pk_walk.h).  Inside a .pt the pickle is behind the zip's CRC-32, which a mutation
 * almost never keeps valid, so the unpickler is fuzzed here directly; fuzz_pt fuzzes
 * the archive and the import built on it.
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"
#include "pk_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_setup(0, 0, LOG_ERROR);
    log_set_stream(fopen("/dev/null", "w"));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    pk_doc *doc = NULL;
    if (pk_parse(data, len, "fuzz.pkl", &doc) == DY_OK) {
        pkw_walk(doc, NULL, NULL);
        pk_doc_free(doc);
    }
    return 0;
}
