/* pt_zip.h -- the container of a PyTorch .pt file (torch >= 1.6): a zip archive
 * holding PREFIX/data.pkl (the pickle), PREFIX/data/KEY (one raw little-endian storage
 * per key) and PREFIX/version, read with libzip.  Every entry is read whole and its
 * CRC-32 checked by libzip; sizes are bounded so a crafted archive cannot make dyolo
 * allocate without limit.  The pickle itself is for unpickle.h.
 *
 * defines: pt_archive, pt_archive_open, pt_archive_pickle, pt_archive_storage,
 *          pt_archive_close, pt_archive_path, PT_MAX_ENTRY, PT_MAX_PICKLE
 */
#ifndef DY_IO_PT_ZIP_H
#define DY_IO_PT_ZIP_H

#include <stddef.h>

#include "core/err.h"

#define PT_MAX_ENTRY ((size_t)1 << 30)    /* bytes in one storage entry (yolov5x: 10 MB max) */
#define PT_MAX_PICKLE ((size_t)256 << 20) /* bytes of data.pkl (yolov5x: ~0.2 MB) */

typedef struct pt_archive pt_archive;

/* Opens PATH, checks the archive's consistency, finds PREFIX/data.pkl, checks
 * PREFIX/version (1..3) and PREFIX/byteorder (little, when present). */
dy_status pt_archive_open(const char *path, pt_archive **out);
/* data.pkl, owned by the archive. */
dy_status pt_archive_pickle(pt_archive *a, const void **data, size_t *len);
/* PREFIX/data/KEY, read once and kept; owned by the archive. */
dy_status pt_archive_storage(pt_archive *a, const char *key, const void **data, size_t *len);
const char *pt_archive_path(const pt_archive *a);
void pt_archive_close(pt_archive *a);

#endif
