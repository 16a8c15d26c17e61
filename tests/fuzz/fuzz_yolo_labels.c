/* fuzz_yolo_labels.c -- libFuzzer target for YOLO label files (data/import_yolo.c:
 * "class cx cy w h" rows and polygon rows).  The input is labels/train/a.txt of a
 * one-image dataset, imported twice: through a data.yaml with three class names
 * (class ids checked against them) and as a bare folder (class names are the ids
 * seen, so large ids size the class table).
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
    static const char yaml[] = "path: .\ntrain: images/train\nnames: [a, b, c]\n";
    fz_write("images/train/a.jpg", (const uint8_t *)"", 0);
    fz_write("labels/train/a.txt", data, len);
    fz_write("data.yaml", (const uint8_t *)yaml, sizeof yaml - 1);
    ds_list l = {0};
    (void)ds_import_yolo(fz_path("data.yaml"), "train", &l);
    ds_list_free(&l);
    memset(&l, 0, sizeof l);
    char dir[128];
    snprintf(dir, sizeof dir, "%s", fz_path(""));
    dir[strlen(dir) - 1] = 0; /* the folder itself */
    (void)ds_import_yolo(dir, "train", &l);
    ds_list_free(&l);
    fz_clean();
    return 0;
}
