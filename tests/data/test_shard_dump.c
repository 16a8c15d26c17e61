/* test_shard_dump.c -- test helper: prints what a set of shards holds so shell tests
 * can compare it with the sources.
 *   --labels         one line per box "name class cx cy w h flags" (or "name -")
 *   --classes        "class K NAME" lines
 *   --payloads DIR   writes each sample's payload to DIR/<index>.bin (CRC checked)
 *   --verify         reads every payload (CRC checked)
 *   --data-offset    prints the file offset of the first shard's images/data
 *   --offset DSET    prints the file offset of dataset DSET of one shard file
 *   --set-attr NAME V  rewrites the int64 root attribute NAME of one shard file */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "data/shard.h"

static int data_offset(const char *path, const char *dset)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f < 0 ? -1 : H5Dopen2(f, dset, H5P_DEFAULT);
    if (d < 0) return 1;
    printf("%llu\n", (unsigned long long)H5Dget_offset(d));
    H5Dclose(d);
    H5Fclose(f);
    return 0;
}

static int set_attr(const char *path, const char *name, long long v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = f < 0 ? -1 : H5Aopen(f, name, H5P_DEFAULT);
    int bad = a < 0 || H5Awrite(a, H5T_NATIVE_LLONG, &v) < 0;
    if (a >= 0) H5Aclose(a);
    if (f >= 0) H5Fclose(f);
    return bad;
}

static dy_status run(shard_set *s, const char *mode, const char *dir)
{
    char name[1024];
    if (!strcmp(mode, "--classes"))
        for (int c = 0; c < shard_nclass(s); c++) printf("class %d %s\n", c, shard_class_name(s, c));
    for (int64_t i = 0; i < shard_count(s); i++) {
        shard_sample m;
        shard_sample_get(s, i, &m);
        shard_sample_name(s, i, name, sizeof name);
        if (!strcmp(mode, "--labels")) {
            if (!m.nbox) printf("%s -\n", name);
            for (int k = 0; k < m.nbox; k++)
                printf("%s %d %.5f %.5f %.5f %.5f %d\n", name, m.cls[k], m.box[4 * k], m.box[4 * k + 1], m.box[4 * k + 2],
                       m.box[4 * k + 3], m.flags[k]);
        } else if (!strcmp(mode, "--payloads") || !strcmp(mode, "--verify")) {
            uint8_t *buf = NULL;
            size_t cap = 0, len;
            DY_TRY(shard_read_payload(s, i, &buf, &cap, &len));
            if (dir) {
                char p[2048];
                snprintf(p, sizeof p, "%s/%lld.bin", dir, (long long)i);
                FILE *f = fopen(p, "wb");
                if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) return DY_ERR(DY_EIO, "cannot write %s", p);
                printf("%lld %s\n", (long long)i, name);
            }
            free(buf);
        }
    }
    return DY_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_shard_dump SHARDS --labels|--classes|--payloads DIR|--verify|--data-offset\n");
        return 2;
    }
    check_h5_quiet();
    if (!strcmp(argv[2], "--data-offset")) return data_offset(argv[1], "images/data");
    if (!strcmp(argv[2], "--offset") && argc > 3) return data_offset(argv[1], argv[3]);
    if (!strcmp(argv[2], "--set-attr") && argc > 4) return set_attr(argv[1], argv[3], atoll(argv[4]));
    int prov;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    const char *paths[1] = {argv[1]};
    shard_set *s;
    dy_status st = shard_open(&s, paths, 1, MPI_COMM_WORLD);
    if (st == DY_OK) {
        st = run(s, argv[2], argc > 3 ? argv[3] : NULL);
        if (st != DY_OK) fprintf(stderr, "test_shard_dump: error: %s\n", err_msg());
        shard_close(s); /* also after an error: HDF5 would close it after MPI_Finalize */
        MPI_Finalize();
        return st == DY_OK ? 0 : 1;
    }
    if (st != DY_OK) fprintf(stderr, "test_shard_dump: error: %s\n", err_msg());
    MPI_Finalize();
    return st == DY_OK ? 0 : 1;
}
