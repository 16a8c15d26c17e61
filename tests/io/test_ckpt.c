/* test_ckpt.c -- checkpoint writer/reader under MPI (run with 1, 2 and 4 ranks).
 *   test_ckpt suite DIR              the in-process battery (TAP on rank 0)
 *   test_ckpt write DIR STEP N [async]  write one checkpoint (exit 1 on error)
 *   test_ckpt read DIR STEP N        verify and compare one checkpoint bit for bit
 * The write/read modes let the shell tests read with another world size than the
 * writer's and fill a small filesystem. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/log.h"
#include "tests/io/ckpt_testdata.h"
#include "tests/tap.h"

#define N 100003 /* odd: slabs of unequal size */

static int rank, world;
static char dir[512], logpath[600];

static dy_status open_step(int64_t step, ckpt_reader **r)
{
    char name[64], path[700];
    ckpt_name_for_step(step, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return ckpt_reader_open(r, path, MPI_COMM_WORLD);
}

static int64_t auto_step(void)
{
    ckpt_reader *r = NULL;
    int64_t step = -1;
    if (ckpt_resume_auto(dir, MPI_COMM_WORLD, &r) == DY_OK && r) ckpt_attr_int(r, "step", &step);
    else if (rank == 0) tap_diag("resume_auto: %s", err_msg());
    ckpt_reader_close(r);
    return step;
}

static int exists(int64_t step)
{
    char name[64], path[700];
    ckpt_name_for_step(step, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static int log_has(const char *needle)
{
    char buf[65536] = {0};
    int fd = open(logpath, O_RDONLY), found;
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    found = n > 0 && strstr(buf, needle) != NULL;
    MPI_Bcast(&found, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return found;
}

/* Rank 0 flips one byte inside the raw data of dataset `dset` of checkpoint `step`. */
static void flip_byte(int64_t step, const char *dset, long at)
{
    if (rank == 0) {
        char name[64], path[700];
        ckpt_name_for_step(step, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, dset, H5P_DEFAULT);
        haddr_t off = H5Dget_offset(d);
        H5Dclose(d);
        H5Fclose(f);
        int fd = open(path, O_RDWR);
        unsigned char c = 0;
        if (pread(fd, &c, 1, (off_t)(off + (haddr_t)at)) != 1) tap_diag("pread failed");
        c ^= 0x10;
        if (pwrite(fd, &c, 1, (off_t)(off + (haddr_t)at)) != 1) tap_diag("pwrite failed");
        close(fd);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void retain(int keep)
{
    if (rank == 0 && ckpt_retain(dir, keep) != DY_OK) tap_diag("retain: %s", err_msg());
    MPI_Barrier(MPI_COMM_WORLD);
}

static void suite_write_read(void)
{
    char why[256] = "";
    ckpt_reader *r = NULL;
    dy_status s = td_write(dir, 1, N, MPI_COMM_WORLD, 0, 1);
    if (s) tap_diag("%s", err_msg());
    TAP_EQ_INT(s, DY_OK, "write a checkpoint collectively");
    s = open_step(1, &r);
    if (s) tap_diag("%s", err_msg());
    TAP_EQ_INT(s, DY_OK, "it opens and every checksum verifies");
    TAP_OK(r && !td_check(r, 1, N, why, sizeof why), "read back bit-identical (%s)", why);
    int64_t ws = 0;
    TAP_OK(r && ckpt_attr_int(r, "world_size", &ws) == DY_OK && ws == world, "world_size attribute is %d", world);
    float x[10];
    TAP_EQ_INT(r ? ckpt_get(r, "model.params", CKPT_F32, x, 10) : DY_OK, DY_EINVAL, "wrong length is refused");
    TAP_STR_HAS(err_msg(), "model.params is f32[100003]", "and the error says the real shape");
    TAP_EQ_INT(r ? ckpt_get(r, "nope", CKPT_F32, x, 10) : DY_OK, DY_ENOENT, "missing array is DY_ENOENT");
    ckpt_reader_close(r);
}

static void suite_retention(void)
{
    dy_status s = DY_OK;
    for (int64_t step = 2; step <= 4 && s == DY_OK; step++) {
        s = td_write(dir, step, N, MPI_COMM_WORLD, 0, 0);
        retain(2);
    }
    TAP_EQ_INT(s, DY_OK, "three more checkpoints written");
    TAP_OK(exists(4) && exists(3) && !exists(2) && exists(1), "keep=2 kept steps 4 and 3 plus the best (1)");
    TAP_EQ_INT(auto_step(), 4, "resume auto picks the newest (step 4)");
}

static void suite_corruption(void)
{
    ckpt_reader *r = NULL;
    flip_byte(4, "/arrays/model.params", 4 * 70001 + 2);
    dy_status s = open_step(4, &r);
    TAP_EQ_INT(s, DY_ECORRUPT, "a flipped byte is caught by the checksum");
    TAP_STR_HAS(err_msg(), "dataset model.params", "the error names the dataset");
    TAP_STR_HAS(err_msg(), "ckpt-000000000004.h5", "the error names the file");
    TAP_EQ_INT(auto_step(), 3, "resume auto skips it and takes step 3");
    TAP_OK(log_has("skipping checkpoint"), "with a warning about the corrupt one");

    if (rank == 0) {
        char name[64], path[700];
        struct stat st;
        ckpt_name_for_step(3, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (stat(path, &st) != 0 || truncate(path, st.st_size / 2) != 0) tap_diag("truncate failed");
    }
    MPI_Barrier(MPI_COMM_WORLD);
    s = open_step(3, &r);
    TAP_EQ_INT(s, DY_ECORRUPT, "a truncated file is refused");
    TAP_STR_HAS(err_msg(), "ckpt-000000000003.h5", "naming the file");
    TAP_EQ_INT(auto_step(), 1, "resume auto falls back to step 1");

    if (rank == 0) {
        char p[700];
        snprintf(p, sizeof p, "%s/latest", dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/ckpt-000000000009.h5.tmp", dir);
        FILE *f = fopen(p, "w");
        if (f) fputs("half-written", f), fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    TAP_EQ_INT(auto_step(), 1, "missing latest and a leftover .tmp: still step 1");
    TAP_OK(log_has("latest is missing"), "warning about the missing latest");
    TAP_OK(log_has("partial checkpoint"), "warning about the leftover .tmp");
    retain(2);
    char p[700];
    snprintf(p, sizeof p, "%s/ckpt-000000000009.h5.tmp", dir);
    TAP_OK(access(p, F_OK) != 0, "retention removes the leftover .tmp");

    /* A truncated file newer than the good ones is not one of the newest `keep`: it
     * once made retention delete the last good checkpoint (issue #17 item 13). */
    if (rank == 0) {
        char src[700], dst[700];
        struct stat st;
        snprintf(src, sizeof src, "%s/ckpt-000000000004.h5", dir);
        snprintf(dst, sizeof dst, "%s/ckpt-000000000010.h5", dir);
        FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
        if (!in || !out || stat(src, &st) != 0) tap_diag("copy failed");
        for (off_t k = 0; in && out && k < st.st_size / 2; k++) fputc(fgetc(in), out);
        if (in) fclose(in);
        if (out) fclose(out);
    }
    retain(1);
    TAP_OK(exists(4) && exists(10), "keep=1 with a truncated newest file keeps the newest complete one (4)");
    MPI_Barrier(MPI_COMM_WORLD); /* every rank has looked before rank 0 removes the file */
    if (rank == 0) {
        snprintf(p, sizeof p, "%s/ckpt-000000000010.h5", dir);
        unlink(p);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void suite_async_export(void)
{
    char why[256] = "";
    ckpt_reader *r = NULL;
    dy_status s = td_write(dir, 5, N, MPI_COMM_WORLD, 1, 0);
    if (s) tap_diag("%s", err_msg());
    TAP_EQ_INT(s, DY_OK, "asynchronous write");
    s = open_step(5, &r);
    TAP_OK(s == DY_OK && !td_check(r, 5, N, why, sizeof why), "async checkpoint is the snapshot, bit for bit (%s)", why);
    ckpt_reader_close(r);
    TAP_EQ_INT(auto_step(), 5, "and it is the new latest");

    char out[700], name[64], src[700];
    snprintf(out, sizeof out, "%s/weights.h5", dir);
    ckpt_name_for_step(5, name, sizeof name);
    snprintf(src, sizeof src, "%s/%s", dir, name);
    s = ckpt_export(src, out, MPI_COMM_WORLD);
    if (s) tap_diag("%s", err_msg());
    TAP_EQ_INT(s, DY_OK, "export weights");
    s = ckpt_reader_open(&r, out, MPI_COMM_WORLD);
    td_state t;
    td_alloc(&t, N, 5);
    float *f = malloc(N * 4);
    const char *schema = "", *from = "";
    TAP_OK(s == DY_OK && ckpt_get(r, "params", CKPT_F32, f, N) == DY_OK && !memcmp(f, t.ema, N * 4),
           "exported params are the EMA weights");
    TAP_OK(s == DY_OK && ckpt_attr_str(r, "schema", &schema) == DY_OK && !strcmp(schema, CKPT_WEIGHTS_SCHEMA_NAME) &&
               ckpt_attr_str(r, "weights_from", &from) == DY_OK && !strcmp(from, "ema"),
           "export is a weights file (schema %s, from %s)", schema, from);
    TAP_OK(s == DY_OK && ckpt_find(r, "buffers") && ckpt_find(r, "params") && ckpt_text(r, "config") &&
               !ckpt_find(r, "optim.momentum"),
           "with buffers, name table and config, without optimizer state");
    free(f);
    td_free(&t);
    ckpt_reader_close(r);
    TAP_EQ_INT(auto_step(), 5, "export did not move latest");
}

/* A crash between the rename and the `latest` update leaves a complete newer file. */
static void suite_stale_latest(void)
{
    dy_status s = td_write(dir, 6, 1000, MPI_COMM_WORLD, 0, 0);
    if (rank == 0) {
        char p[700];
        snprintf(p, sizeof p, "%s/latest", dir);
        FILE *f = fopen(p, "w");
        if (f) fputs("ckpt-000000000005.h5\n", f), fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    TAP_OK(s == DY_OK && auto_step() == 6, "a complete file newer than latest is preferred");
    TAP_OK(log_has("which " ) && log_has("latest does not name"), "with a warning that latest is stale");
}

static void suite_errors(void)
{
    char bad[700];
    snprintf(bad, sizeof bad, "%s/weights.h5/sub", dir);
    ckpt_writer *w = NULL;
    dy_status s = ckpt_writer_begin(&w, bad, "x.h5", MPI_COMM_WORLD);
    float v[4] = {1, 2, 3, 4};
    if (s == DY_OK) s = ckpt_add_array(w, "a", CKPT_F32, v, 4);
    if (s == DY_OK) s = ckpt_commit(w);
    ckpt_writer_free(w);
    TAP_EQ_INT(s, DY_EIO, "unwritable directory: every rank gets DY_EIO");
    TAP_STR_HAS(err_msg(), "weights.h5", "naming the path");
    TAP_STR_HAS(err_msg(), "Not a directory", "with the OS message");
    s = rank == world - 1 ? DY_ERR(DY_EIO, "disk on fire") : DY_OK;
    s = ckpt_agree(MPI_COMM_WORLD, s);
    TAP_EQ_INT(s, DY_EIO, "ckpt_agree: one rank's failure is everyone's");
    TAP_STR_HAS(err_msg(), "disk on fire", "with that rank's message");
}

static int suite(void)
{
    snprintf(logpath, sizeof logpath, "%s/log.txt", dir);
    FILE *lf = rank == 0 ? fopen(logpath, "w") : NULL;
    if (lf) setvbuf(lf, NULL, _IONBF, 0), log_set_stream(lf);
    tap_diag("world size %d", world);
    suite_write_read();
    suite_retention();
    suite_corruption();
    suite_async_export();
    suite_stale_latest();
    suite_errors();
    if (lf) log_set_stream(stderr), fclose(lf);
    return tap_done();
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    check_h5_quiet();
    log_setup(rank, 0, LOG_INFO);
    if (argc < 3) return 2;
    snprintf(dir, sizeof dir, "%s", argv[2]);
    int rc = 0;
    if (!strcmp(argv[1], "suite")) {
        if (rank != 0 && !freopen("/dev/null", "w", stdout)) return 1;
        rc = suite();
    } else if (argc >= 5) {
        int64_t step = atoll(argv[3]), n = atoll(argv[4]);
        dy_status s;
        if (!strcmp(argv[1], "write")) {
            s = td_write(dir, step, n, MPI_COMM_WORLD, argc > 5 && !strcmp(argv[5], "async"), 0);
        } else {
            ckpt_reader *r = NULL;
            char why[256] = "";
            s = open_step(step, &r);
            if (s == DY_OK && td_check(r, step, n, why, sizeof why)) s = DY_ERR(DY_ECORRUPT, "content: %s", why);
            ckpt_reader_close(r);
        }
        if (s != DY_OK) printf("ERROR rank %d: %s\n", rank, err_msg());
        else if (rank == 0) printf("OK %s step %lld on %d ranks\n", argv[1], (long long)step, world);
        rc = s != DY_OK;
    }
    MPI_Finalize();
    return rc;
}
