/* ckpt_internal.h -- helpers shared by the checkpoint writer, reader and run-directory
 * code (not part of the public API).
 * defines: ckpt_h5_file_type, ckpt_h5_mem_type, ckpt_dtype_parse, ckpt_h5_str_type,
 *          ckpt_h5_table_type, ckpt_fsync_path, ckpt_fsync_dir, ckpt_mkdir_p,
 *          ckpt_write_file_atomic, ckpt_pause_hook, ckpt_fapl, CKPT_PATH_MAX */
#ifndef DY_IO_CKPT_INTERNAL_H
#define DY_IO_CKPT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "io/ckpt.h"

#define CKPT_PATH_MAX 900 /* fits in check.h's 1 KiB message buffer */

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
/* Write text to DIR/NAME atomically: NAME.tmp, fsync, rename, fsync the directory. */
dy_status ckpt_write_file_atomic(const char *dir, const char *name, const char *text);
/* Reads DIR/NAME (a pointer file) into buf; DY_ENOENT when absent. */
dy_status ckpt_read_pointer(const char *dir, const char *name, char *buf, size_t len);
void ckpt_pause_hook(int rank);

#endif
