/* test_mpi_checks.c -- the checked-call macros on real MPI and parallel-HDF5
 * failures, under 1, 2 and 4 ranks, plus rank-aware logging.  Every rank reports
 * TAP; the wrapper script keeps rank 0's stream and the exit status of all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/log.h"
#include "tests/tap.h"

static dy_status bad_send(int world)
{
    int x = 0;
    MPI_CHECK(MPI_Send(&x, 1, MPI_INT, world + 5, 0, MPI_COMM_WORLD));
    return DY_OK;
}

static dy_status bad_h5_open(void)
{
    hid_t f;
    H5_CHECK_ID(f, H5Fopen("/nonexistent/shard.h5", H5F_ACC_RDONLY, H5P_DEFAULT), "opening %s",
                "/nonexistent/shard.h5");
    H5Fclose(f);
    return DY_OK;
}

static dy_status collective_h5_write(const char *path, int rank, int world)
{
    hid_t fapl, file, space, dset, mem, dxpl;
    H5_CHECK_ID(fapl, H5Pcreate(H5P_FILE_ACCESS), "fapl");
    H5_CHECK(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL), "set mpio");
    H5_CHECK_ID(file, H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "create %s", path);
    hsize_t n = (hsize_t)world * 4, off = (hsize_t)rank * 4, cnt = 4;
    H5_CHECK_ID(space, H5Screate_simple(1, &n, NULL), "space");
    H5_CHECK_ID(dset, H5Dcreate2(file, "x", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "dset");
    H5_CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, &off, NULL, &cnt, NULL), "select");
    H5_CHECK_ID(mem, H5Screate_simple(1, &cnt, NULL), "mem");
    H5_CHECK_ID(dxpl, H5Pcreate(H5P_DATASET_XFER), "dxpl");
    H5_CHECK(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), "collective");
    int v[4] = {rank, rank, rank, rank};
    H5_CHECK(H5Dwrite(dset, H5T_NATIVE_INT, mem, space, dxpl, v), "write");
    H5Pclose(dxpl);
    H5Sclose(mem);
    H5Dclose(dset);
    H5Sclose(space);
    H5Fclose(file);
    H5Pclose(fapl);
    return DY_OK;
}

int main(int argc, char **argv)
{
    int provided, rank, world;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    check_h5_quiet();
    if (rank != 0) {
        /* Only rank 0 speaks TAP; other ranks still run every check. */
        if (!freopen("/dev/null", "w", stdout)) return 1;
    }
    tap_diag("world size %d", world);
    TAP_OK(provided == MPI_THREAD_MULTIPLE, "MPI_THREAD_MULTIPLE granted");

    TAP_EQ_INT(bad_send(world), DY_EMPI, "MPI_CHECK turns an invalid rank into DY_EMPI");
    TAP_STR_HAS(err_msg(), "test_mpi_checks.c:", "MPI error names file:line");
    TAP_STR_HAS(err_msg(), "MPI_Send", "MPI error names the call");
    TAP_STR_HAS(err_msg(), "invalid rank", "MPI error carries MPI's own message");

    TAP_EQ_INT(bad_h5_open(), DY_EHDF5, "H5_CHECK_ID turns a failed open into DY_EHDF5");
    TAP_STR_HAS(err_msg(), "opening /nonexistent/shard.h5: HDF5:", "HDF5 error names the file");
    TAP_STR_HAS(err_msg(), "unable to open file", "HDF5 error carries HDF5's own message");

    char path[256];
    snprintf(path, sizeof path, "%s/dyolo-mpi-%d.h5", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", world);
    dy_status s = collective_h5_write(path, rank, world);
    if (s != DY_OK) tap_diag("%s", err_msg());
    int ok = s == DY_OK, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    TAP_OK(all, "collective parallel-HDF5 write on every rank");
    if (rank == 0) remove(path);

    /* Logging: with all_ranks each rank's line carries its rank. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    log_set_stream(f);
    log_setup(rank, 1, LOG_INFO);
    log_info("hello");
    fflush(f);
    char want[32];
    snprintf(want, sizeof want, "[r%d] info  hello", rank);
    int has = strstr(buf, want) != NULL, all_has = 0;
    MPI_Allreduce(&has, &all_has, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    TAP_OK(all_has, "every rank's log line carries its rank");
    log_set_stream(NULL);
    fclose(f);
    free(buf);

    int failed = tap_failed, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    int rc = tap_done();
    MPI_Finalize();
    return any ? 1 : rc;
}
