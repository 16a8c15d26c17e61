/* fsutil.h -- the two file-system chores every module needs: read a whole file and
 * create a directory with its parents, with errors that name the file and its role.
 * defines: fs_read_file, fs_mkdir_p, fs_check_writable, fs_check_file_writable,
 *          fs_check_hdf5_checksummed */
#ifndef DY_CORE_FSUTIL_H
#define DY_CORE_FSUTIL_H

#include <stddef.h>

#include "core/err.h"

/* *buf (malloc'd) gets the contents plus a terminating NUL; *len (may be NULL) the
 * size without it.  `what` names the file in errors: "cannot open config file "x":
 * No such file or directory" (DY_ENOENT when missing, else DY_EIO). */
dy_status fs_read_file(const char *path, const char *what, char **buf, size_t *len);
/* mkdir -p: existing directories are fine. */
dy_status fs_mkdir_p(const char *dir);
/* Creates and removes a probe file in dir, so a directory that exists but cannot
 * take files (permissions, read-only or full file system) fails before hours of work
 * instead of at the first write; `what` names its role (e.g. "ckpt.dir"). */
dy_status fs_check_writable(const char *dir, const char *what);
/* The same for a file that will be written later: its folder must exist (or be
 * creatable) and take files; an existing file must be writable.  Leaves nothing. */
dy_status fs_check_file_writable(const char *path, const char *what);

/* Reads the first 9 bytes of an HDF5 file dyolo is about to hand to HDF5: the file
 * must start with HDF5's signature and a superblock of version 2 or 3, the 1.8+
 * format whose superblock and object headers carry HDF5's own checksums.  HDF5
 * 1.10.8 overflows the heap parsing some corrupt attribute messages of the older,
 * unchecksummed format (tests/fuzz/regressions/fuzz_shard/old-format-*); with
 * checksums it reports the corruption instead.  dyolo writes no user block, so the superblock is at offset 0.
 * `what` names the file's role, `hint` ends the message for an old-format file. */
dy_status fs_check_hdf5_checksummed(const char *path, const char *what, const char *hint);

#endif
