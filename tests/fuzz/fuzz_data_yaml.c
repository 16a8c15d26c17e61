/* fuzz_data_yaml.c -- libFuzzer target for the Ultralytics data.yaml reader
 * (data/import_yolo.c: libyaml, names as list or mapping, path/train/val as a folder,
 * a list of folders or a .txt image list).  The input is data.yaml in a folder that
 * also holds images/train/a.jpg with labels/train/a.txt and a list.txt, so that the
 * split entries a mutated yaml names can resolve.
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"

#include "data/dataset.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_setup();
    return 0;
}

static void try_split(const char *split)
{
    ds_list l = {0};
    (void)ds_import_yolo(fz_path("data.yaml"), split, &l);
    ds_list_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static const char label[] = "0 0.5 0.5 0.25 0.25\n1 0.1 0.1 0.3 0.1 0.2 0.4\n";
    static const char list[] = "images/train/a.jpg\n./images/train/a.jpg\n\n";
    fz_write("images/train/a.jpg", (const uint8_t *)"", 0); /* never decoded by the importer */
    fz_write("labels/train/a.txt", (const uint8_t *)label, sizeof label - 1);
    fz_write("list.txt", (const uint8_t *)list, sizeof list - 1);
    fz_write("data.yaml", data, len);
    try_split("train");
    try_split("val");
    fz_clean();
    return 0;
}
