/* fuzz_config.c -- libFuzzer target for the JSON config loader (core/config.c).
 * The input is two files split at the first NUL byte: a.json, loaded as the config,
 * and b.json beside it, which a.json may "include" (so includes, include lists,
 * cycles through "a.json" and nested merges are all reachable from one input).
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"

#include "core/config.h"
#include "train/train_config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_setup();
    /* As dyolo's main does: without the library's sections every valid config that
     * sets a train/data/... key is refused, and one that loads aborted at the
     * cfg_int("train.epochs") below (found with -seed=1: {"run": {"seed": 7}}). */
    train_config_register_all();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    size_t alen, blen;
    const uint8_t *b;
    fz_split(data, len, &alen, &b, &blen);
    fz_write("a.json", data, alen);
    fz_write("b.json", b, blen);
    cfg *c = NULL;
    if (cfg_new(&c) != DY_OK) abort(); /* the built-in schema must always load */
    if (cfg_load_file(c, fz_path("a.json")) == DY_OK) {
        free(cfg_to_json(c)); /* the effective config is written into every run dir */
        (void)cfg_int(c, "train.epochs");
        (void)cfg_str(c, "model.spec");
    }
    cfg_free(c);
    fz_clean();
    return 0;
}
