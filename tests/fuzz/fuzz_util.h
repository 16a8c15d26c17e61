/* fuzz_util.h -- helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * The parsers under test read files, not buffers (they resolve includes, sibling
 * label files and image folders relative to the file), so each target writes its
 * input into a private scratch folder on tmpfs (/dev/shm: no disk I/O per run) and
 * calls the parser on that path.  The folder is emptied after every input so one
 * run cannot leak state into the next, and removed at exit.
 *
 * The HDF5 readers (shards, checkpoints) need MPI for the MPI-IO driver: fz_mpi_init
 * makes this process an MPI singleton once, in LLVMFuzzerInitialize, which costs
 * well under a second and keeps every run in-process (fast) and fully reproducible.
 * HDF5's own error stacks are silenced: dyolo turns them into messages.
 *
 * defines: fz_dir, fz_path, fz_write, fz_clean, fz_setup, fz_mpi_init, fz_split,
 *          fz_end_hdf5_run
 */
#ifndef DY_TESTS_FUZZ_UTIL_H
#define DY_TESTS_FUZZ_UTIL_H

#include <ftw.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/log.h"

static char fz_dir[256];

/* fz_dir/name into a static buffer (one at a time is enough for every target). */
static inline const char *fz_path(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", fz_dir, name);
    return p;
}

/* Write bytes to fz_dir/name, creating parent folders named in `name`. */
static inline void fz_write(const char *name, const uint8_t *data, size_t len)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", fz_dir, name);
    for (char *s = p + strlen(fz_dir) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        mkdir(p, 0700);
        *s = '/';
    }
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        abort(); /* the harness is broken, not the parser */
    }
    if (len && fwrite(data, 1, len, f) != len) abort();
    fclose(f);
}

static int fz_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag;
    if (ftw->level > 0) remove(p);
    return 0;
}

/* Empty the scratch folder (keeps the folder itself). */
static inline void fz_clean(void) { nftw(fz_dir, fz_rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static void fz_atexit(void)
{
    fz_clean();
    rmdir(fz_dir);
}

/* Once per process: scratch folder, quiet logs and HDF5 error stacks. */
static inline void fz_setup(void)
{
    /* FUZZ_SCRATCH (run-fuzz.sh sets it): a fixed folder, so that the paths the
     * parsers compare and print are the same in every run and a seeded run tries the
     * same inputs; otherwise a fresh one. */
    const char *fixed = getenv("FUZZ_SCRATCH");
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    if (fixed && *fixed) {
        snprintf(fz_dir, sizeof fz_dir, "%s", fixed);
        mkdir(fz_dir, 0700);
        fz_clean();
    } else {
        snprintf(fz_dir, sizeof fz_dir, "%s/dyolo-fuzz-XXXXXX", base);
        if (!mkdtemp(fz_dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    atexit(fz_atexit);
    log_setup(0, 0, LOG_ERROR);
    log_set_stream(fopen("/dev/null", "w"));
    check_h5_quiet();
}

/* MPI singleton for the MPI-IO readers; MPI_Finalize runs at exit. */
static void fz_mpi_fini(void) { MPI_Finalize(); }
static inline void fz_mpi_init(void)
{
    int prov;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &prov);
    atexit(fz_mpi_fini);
    check_h5_quiet();
}

/* Split data at the first NUL byte: the part before into *a, the rest into *b
 * (targets that need two files from one input: a config and its include...). */
static inline void fz_split(const uint8_t *data, size_t len, size_t *alen, const uint8_t **b, size_t *blen)
{
    const uint8_t *z = memchr(data, 0, len);
    *alen = z ? (size_t)(z - data) : len;
    *b = z ? z + 1 : data + len;
    *blen = z ? len - *alen - 1 : 0;
}

/* End of one input of an HDF5 reader's target: every HDF5 object the reader opened
 * must be closed again (a leaked id is a leaked file handle in a long job), then the
 * scratch folder is emptied.  `what` names the call in the report. */
static inline void fz_end_hdf5_run(const char *target, const char *what)
{
    ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open != 0) {
        fprintf(stderr, "%s: %zd HDF5 objects still open after %s\n", target, open, what);
        abort();
    }
    fz_clean();
}

#endif
