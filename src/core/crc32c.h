/* crc32c.h -- CRC-32C (Castagnoli), the per-sample and per-dataset checksum of
 * shards and checkpoints.  Same polynomial as iSCSI/ext4, so values can be checked
 * with any standard implementation (e.g. Python's crc32c package).
 * defines: crc32c, crc32c_update, crc32c_update_portable */
#ifndef DY_CORE_CRC32C_H
#define DY_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc of a whole buffer. */
uint32_t crc32c(const void *data, size_t len);
/* Continue a running crc (start with 0).  Uses SSE4.2 when the CPU has it. */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);
/* The table-driven version, whatever the CPU (tests compare the two). */
uint32_t crc32c_update_portable(uint32_t crc, const void *data, size_t len);

#endif
