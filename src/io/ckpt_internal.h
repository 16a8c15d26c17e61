/* ckpt_internal.h -- helpers shared by the checkpoint writer, reader and run-directory
 * code (not part of the public API).
 * defines: ckpt_h5_file_type, ckpt_h5_mem_type, ckpt_dtype_parse, ckpt_h5_str_type,
 *          ckpt_h5_table_type, ckpt_fsync_path, ckpt_fsync_dir, ckpt_mkdir_p,
 *          ckpt_write_file_renamed, ckpt_pause_hook, ckpt_fapl, CKPT_PATH_MAX,
 *          CKPT_RAW_ALIGN, CKPT_RAW_MIN, ckpt_raw, ckpt_raw_enabled, ckpt_raw_open,
 *          ckpt_raw_write, ckpt_raw_close */
#ifndef DY_IO_CKPT_INTERNAL_H
#define DY_IO_CKPT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "io/ckpt.h"

#define CKPT_PATH_MAX 900 /* fits in check.h's 1 KiB message buffer */
/* Datasets of at least CKPT_RAW_MIN bytes start at a multiple of CKPT_RAW_ALIGN (the
 * O_DIRECT granularity), and shared-array slabs are multiples of it. */
#define CKPT_RAW_ALIGN 4096
#define CKPT_RAW_MIN 65536

hid_t ckpt_h5_file_type(ckpt_dtype t);
hid_t ckpt_h5_mem_type(ckpt_dtype t);
dy_status ckpt_dtype_parse(const char *s, ckpt_dtype *out);
/* Fixed-length string type of len bytes (caller closes). */
hid_t ckpt_h5_str_type(size_t len);
/* Compound type matching ckpt_table_row (caller closes). */
hid_t ckpt_h5_table_type(void);
/* File-access property list: MPI-IO on comm, metadata checksummed (v1.8+ format). */
hid_t ckpt_fapl(MPI_Comm comm);
dy_status ckpt_fsync_path(const char *path);
dy_status ckpt_fsync_dir(const char *dir);
dy_status ckpt_mkdir_p(const char *dir);
/* Replace DIR/NAME by text: NAME.tmp, fsync when sync, rename.  The caller fsyncs
 * the directory (once for several renames). */
dy_status ckpt_write_file_renamed(const char *dir, const char *name, const char *text, int sync);
/* Reads DIR/NAME (a pointer file) into buf; DY_ENOENT when absent. */
dy_status ckpt_read_pointer(const char *dir, const char *name, char *buf, size_t len);
void ckpt_pause_hook(int rank);

/* Direct data path of the writer (ckpt_rawio.c): pwrite at a dataset's file address,
 * O_DIRECT where the file system allows it; the caller fsyncs the file afterwards. */
typedef struct ckpt_raw ckpt_raw;
int ckpt_raw_enabled(void); /* 0 when DYOLO_CKPT_DIRECT=0 */
dy_status ckpt_raw_open(ckpt_raw **out, const char *path);
/* Writes len bytes of src at file offset off; *crc is updated with them. */
dy_status ckpt_raw_write(ckpt_raw *r, const void *src, size_t len, uint64_t off, const char *what, uint32_t *crc);
void ckpt_raw_close(ckpt_raw *r);

#endif
