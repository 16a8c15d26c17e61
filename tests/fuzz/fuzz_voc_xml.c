/* fuzz_voc_xml.c -- libFuzzer target for Pascal VOC annotations (data/import_voc.c:
 * expat, objects, names, bndbox, difficult, size).  The input is two annotation
 * files split at the first NUL byte, Annotations/a.xml and Annotations/b.xml, since
 * the class table is collected over every file of the dataset.
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
    size_t alen, blen;
    const uint8_t *b;
    fz_split(data, len, &alen, &b, &blen);
    fz_write("Annotations/a.xml", data, alen);
    if (blen) fz_write("Annotations/b.xml", b, blen);
    char dir[128];
    snprintf(dir, sizeof dir, "%s", fz_path(""));
    dir[strlen(dir) - 1] = 0;
    ds_list l = {0};
    (void)ds_import_voc(dir, NULL, &l);
    ds_list_free(&l);
    fz_clean();
    return 0;
}
