/* shard.h -- dyolo's HDF5 shard format (schema version 3, documented in
 * datasets/README.md): writing shards in parallel from an imported dataset
 * (`dyolo pack`), and reading them back with parallel HDF5 (the loader's I/O thread).
 *
 * Every array is a flat, fixed-type dataset (parallel HDF5 cannot write
 * variable-length types collectively); ragged data (image bytes, boxes, names) is a
 * flat array plus an offsets array of n+1 entries.  Each sample carries a CRC-32C over
 * everything stored about it: payload bytes, boxes, classes, flags, original size,
 * letterbox, source id and file name (little-endian), checked on every read; the class
 * table has its own CRC (root attribute classes_crc32c), checked at open.  Version 1
 * covered only payload and labels: such shards are refused with a message to repack.
 * The manifest records each shard file's byte size and whole-file CRC-32C, checked
 * before HDF5 parses the file (HDF5 1.10 can overflow its heap on corrupt metadata).
 * Version 3 (the current one) is version 2 written in HDF5's 1.8+ file format, whose
 * metadata HDF5 checksums itself, so a shard opened without its manifest is safe too;
 * files in the older format are refused before HDF5 sees them.
 *
 * defines: SHARD_SCHEMA_VERSION, pack_opts, pack_summary, pack_run, shard_set,
 *          shard_sample, shard_open, shard_close, shard_count, shard_sample_get,
 *          shard_read_payload, shard_encoding_raw, shard_imgsz, shard_nclass,
 *          shard_class_name, shard_sample_crc, shard_class_crc, shard_file_crc,
 *          shard_sample_name, shard_file_path
 */
#ifndef DY_DATA_SHARD_H
#define DY_DATA_SHARD_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "data/dataset.h"

#define SHARD_SCHEMA_VERSION 3

typedef struct {
    ds_format format;
    const char *input;
    const char *split;    /* NULL: format default */
    const char *out;      /* prefix: PREFIX-00000.h5 ... and PREFIX.manifest.json */
    int raw;              /* store letterboxed RGB pixels instead of the source bytes */
    int imgsz;            /* raw: letterbox size */
    int shards;           /* number of shard files (>= 1) */
    int strict;           /* any issue is fatal */
} pack_opts;

typedef struct {
    long samples, boxes, background, dropped;
    long issues[ISS_COUNT];
    long total_issues;
    int64_t payload_bytes;
    int agreed;           /* on failure: every rank returned this error (0: the others
                             may wait in a collective: end the job with dist_abort) */
} pack_summary;

/* Collective over comm.  Issues are logged (rank 0, each naming its file) and
 * counted in *sum; with strict, any issue makes the call fail after the summary.
 * Import and per-item errors are agreed by all ranks; writing errors are not. */
dy_status pack_run(const pack_opts *o, MPI_Comm comm, pack_summary *sum);

/* CRC of one sample as stored: payload, then boxes (4 floats each), classes, flags,
 * orig_size (2 int32), letterbox (3 float32), source_id (int64), file name bytes. */
uint32_t shard_sample_crc(const uint8_t *payload, size_t len, const float *box, const int32_t *cls,
                          const uint8_t *flags, int nbox, const int32_t size[2], const float lb[3], int64_t source_id,
                          const char *name, size_t name_len);
/* CRC of the class table: for each class its name bytes, a 0 byte, its source id (int64). */
uint32_t shard_class_crc(char *const *names, const int64_t *source_id, int n);
/* CRC-32C and byte size of a whole file (the manifest's "crc32c" and "size_bytes"),
 * read in chunks with plain stdio: never through HDF5, whose parser it protects. */
dy_status shard_file_crc(const char *path, uint32_t *crc, uint64_t *size);

/* ---- reading */
typedef struct shard_set shard_set;

typedef struct {
    int64_t index;        /* global sample index */
    int orig_w, orig_h;   /* original image size */
    float lb[3];          /* raw encoding: letterbox (scale, pad_x, pad_y); jpeg: 1, 0, 0 */
    int64_t source_id;
    int nbox;
    const float *box;     /* nbox * 4: cx cy w h normalized to the original image */
    const int32_t *cls;
    const uint8_t *flags;
    size_t payload_len;
} shard_sample;

/* paths: one manifest (.json) or one or more shard files (.h5), in global order.
 * Collective over comm (MPI-IO driver).  Metadata is loaded in memory; payloads are
 * read on demand with independent I/O.  With a manifest that records sizes and CRCs,
 * every shard is verified before HDF5 opens it: sizes on every rank, CRCs split over
 * the ranks (rank r reads shards r, r+P, ...), agreed with one MPI_Allreduce; any
 * mismatch makes every rank return DY_ECORRUPT (the rank that found it names the
 * file and both CRCs).  Shard files given directly are not verified this way. */
dy_status shard_open(shard_set **out, const char *const *paths, int npaths, MPI_Comm comm);
dy_status shard_close(shard_set *s); /* collective */
int64_t shard_count(const shard_set *s);
void shard_sample_get(const shard_set *s, int64_t i, shard_sample *out);
/* Read sample i's payload into *buf (grown as needed, capacity *cap) and verify its
 * CRC; errors name the shard file and the sample. */
dy_status shard_read_payload(shard_set *s, int64_t i, uint8_t **buf, size_t *cap, size_t *len);
/* Source file name of sample i into buf (NUL-terminated, truncated); returns its length. */
size_t shard_sample_name(const shard_set *s, int64_t i, char *buf, size_t n);
/* Path of shard file k (NULL past the end) and its global sample range. */
const char *shard_file_path(const shard_set *s, int k, int64_t *first, int64_t *n);
int shard_encoding_raw(const shard_set *s);
int shard_imgsz(const shard_set *s);
int shard_nclass(const shard_set *s);
const char *shard_class_name(const shard_set *s, int c);

#endif
