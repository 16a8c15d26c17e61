/* fuzz_image.c -- libFuzzer target for image bytes (data/image.c): JPEG/PNG header
 * probe, full decode, region decode (the loader's crop path, libjpeg with setjmp
 * error handling) and letterbox.  Works on the buffer directly: these functions take
 * memory, as the loader passes shard payloads.
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"

#include "data/image.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    int w = 0, h = 0;
    if (img_decode_header(data, len, &w, &h) != DY_OK) return 0;
    /* Headers may claim up to 2^28 pixels (img_alloc's limit); decoding that many
     * is legal but takes seconds, which would only slow the search down. */
    if ((int64_t)w * h > (int64_t)1 << 22) return 0;
    img_rgb im = {0};
    if (img_decode(data, len, &im, "fuzz") == DY_OK) {
        img_rgb lb = {0};
        float s, px, py;
        if (img_letterbox(&im, 64, 48, 1, &lb, &s, &px, &py) == DY_OK) img_free(&lb);
        img_free(&im);
    }
    int rect[4] = {w / 4, h / 3, w / 2 + 1, h - 1};
    if (img_decode_region(data, len, w, h, rect, &im, "fuzz") == DY_OK) img_free(&im);
    return 0;
}
