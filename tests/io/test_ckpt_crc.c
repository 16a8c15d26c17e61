/* test_ckpt_crc.c -- the checkpoint's accelerated CRC-32C equals core/crc32c.c (and
 * the standard check value) for every length and alignment, and running updates. */
#include <stdlib.h>

#include "core/crc32c.h"
#include "io/ckpt_internal.h"
#include "tests/tap.h"

int main(void)
{
    TAP_EQ_INT(ckpt_crc32c("123456789", 9), 0xE3069283u, "standard check value of \"123456789\"");
    unsigned char *buf = malloc(4096 + 16);
    for (int i = 0; i < 4096 + 16; i++) buf[i] = (unsigned char)(i * 131 + (i >> 5));
    int bad = 0;
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len < 300; len++) bad += ckpt_crc32c(buf + off, len) != crc32c(buf + off, len);
    TAP_EQ_INT(bad, 0, "equal to core/crc32c for lengths 0..299 at 9 alignments");
    uint32_t a = ckpt_crc32c_update(ckpt_crc32c(buf, 1001), buf + 1001, 3000);
    TAP_EQ_INT(a, crc32c(buf, 4001), "running update equals the whole");
    ckpt_crc_force_portable = 1;
    TAP_EQ_INT(ckpt_crc32c(buf, 4096), crc32c(buf, 4096), "portable path forced");
    free(buf);
    return tap_done();
}
