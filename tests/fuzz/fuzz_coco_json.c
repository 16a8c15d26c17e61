/* fuzz_coco_json.c -- libFuzzer target for COCO detection JSON (data/import_coco.c:
 * images, annotations, sparse category ids, bbox, iscrowd).
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"

#include "data/dataset.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    fz_write("instances.json", data, len);
    ds_list l = {0};
    (void)ds_import_coco(fz_path("instances.json"), &l);
    ds_list_free(&l);
    fz_clean();
    return 0;
}
