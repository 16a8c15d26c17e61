/* ckpt_crc.c -- CRC-32C for checkpoint data: the SSE4.2 crc32 instruction when the
 * CPU has it (about 5x the table-driven core/crc32c.c, which made the checksum half
 * of a checkpoint's write time), else core/crc32c.c.  Same polynomial and
 * conventions, so the values are identical (tests/io/test_ckpt_crc.c checks it). */
#include <string.h>

#include "core/crc32c.h"
#include "io/ckpt_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const unsigned char *p, size_t len)
{
    uint64_t c = ~crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

static int have_sse42(void)
{
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    return cached;
}
#endif

uint32_t ckpt_crc32c_update(uint32_t crc, const void *data, size_t len)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (have_sse42() && !ckpt_crc_force_portable) return crc_sse42(crc, data, len);
#endif
    return crc32c_update(crc, data, len);
}

uint32_t ckpt_crc32c(const void *data, size_t len) { return ckpt_crc32c_update(0, data, len); }

int ckpt_crc_force_portable = 0;
