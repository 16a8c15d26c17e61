/* eval_dist.c -- implementation of eval_dist.h.  Records are exchanged as bytes
 * (MPI_BYTE) since every rank runs the same binary; counts are gathered first. */
#include "eval/eval_dist.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

/* Allgatherv of n items of `size` bytes each; *all is malloc'd, *total set. */
static dy_status gather_bytes(const void *mine, size_t n, size_t size, MPI_Comm comm, void **all, size_t *total)
{
    int world;
    MPI_CHECK(MPI_Comm_size(comm, &world));
    if (n * size > INT_MAX) return DY_ERR(DY_ERANGE, "eval gather: %zu bytes on one rank exceed MPI's int count", n * size);
    int cnt = (int)(n * size);
    int *counts = malloc(sizeof(int) * (size_t)world), *displs = malloc(sizeof(int) * (size_t)world);
    if (!counts || !displs) {
        free(counts), free(displs);
        return DY_ERR(DY_ENOMEM, "eval gather: out of memory");
    }
    dy_status st = DY_OK;
    int rc = MPI_Allgather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, comm);
    long long sum = 0;
    for (int r = 0; rc == MPI_SUCCESS && r < world; r++) displs[r] = (int)sum, sum += counts[r];
    if (rc != MPI_SUCCESS)
        st = DY_ERR(DY_EMPI, "eval gather: MPI_Allgather of counts failed");
    else if (sum > INT_MAX)
        st = DY_ERR(DY_ERANGE, "eval gather: %lld bytes in total exceed MPI's int displacements", sum);
    char *buf = st == DY_OK ? malloc((size_t)sum + 1) : NULL;
    if (st == DY_OK && !buf) st = DY_ERR(DY_ENOMEM, "eval gather: out of memory (%lld bytes)", sum);
    if (st == DY_OK && MPI_Allgatherv(mine, cnt, MPI_BYTE, buf, counts, displs, MPI_BYTE, comm) != MPI_SUCCESS)
        st = DY_ERR(DY_EMPI, "eval gather: MPI_Allgatherv failed");
    free(counts), free(displs);
    if (st != DY_OK) {
        free(buf);
        return st;
    }
    *all = buf;
    *total = (size_t)sum / size;
    return DY_OK;
}

/* Sort keys: image id, then position in the gathered array.  Every image is owned
 * by exactly one rank, so positions of one image's records keep that rank's order. */
typedef struct {
    int64_t img;
    size_t pos;
} order_key;

static int cmp_key(const void *a, const void *b)
{
    const order_key *x = a, *y = b;
    if (x->img != y->img) return (x->img > y->img) - (x->img < y->img);
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static dy_status canonical(void *items, size_t n, size_t size, size_t id_offset)
{
    order_key *k = malloc((n + 1) * sizeof *k);
    char *tmp = malloc(n * size + 1);
    if (!k || !tmp) {
        free(k), free(tmp);
        return DY_ERR(DY_ENOMEM, "eval gather: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(&k[i].img, (char *)items + i * size + id_offset, sizeof(int64_t));
        k[i].pos = i;
    }
    qsort(k, n, sizeof *k, cmp_key);
    for (size_t i = 0; i < n; i++) memcpy(tmp + i * size, (char *)items + k[i].pos * size, size);
    memcpy(items, tmp, n * size);
    free(k), free(tmp);
    return DY_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

dy_status eval_set_allgather(const eval_set *local, MPI_Comm comm, eval_set *out)
{
    eval_set_init(out, local->ncat);
    void *g = NULL, *d = NULL, *im = NULL;
    size_t ng = 0, nd = 0, ni = 0;
    dy_status st = gather_bytes(local->gt, local->ngt, sizeof(eval_gt), comm, &g, &ng);
    if (st == DY_OK) st = gather_bytes(local->dt, local->ndt, sizeof(eval_dt), comm, &d, &nd);
    if (st == DY_OK) st = gather_bytes(local->images, local->nimages, sizeof(int64_t), comm, &im, &ni);
    if (st == DY_OK) st = canonical(g, ng, sizeof(eval_gt), offsetof(eval_gt, image_id));
    if (st == DY_OK) st = canonical(d, nd, sizeof(eval_dt), offsetof(eval_dt, image_id));
    if (st != DY_OK) {
        free(g), free(d), free(im);
        return st;
    }
    qsort(im, ni, sizeof(int64_t), cmp_i64);
    out->gt = g, out->ngt = out->cap_gt = ng;
    out->dt = d, out->ndt = out->cap_dt = nd;
    out->images = im, out->nimages = out->cap_images = ni;
    return DY_OK;
}
