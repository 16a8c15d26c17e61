/* check.c -- library error-string helpers behind check.h. */
#include "core/check.h"

#include <stdio.h>

typedef struct {
    char *buf;
    size_t len;
} h5_walk_ctx;

/* Called innermost-first with H5E_WALK_UPWARD: keep the first (most specific) entry. */
static herr_t h5_walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_walk_ctx *ctx = data;
    if (n != 0) return 0;
    char maj[128] = "", min[128] = "";
    H5Eget_msg(e->maj_num, NULL, maj, sizeof maj);
    H5Eget_msg(e->min_num, NULL, min, sizeof min);
    snprintf(ctx->buf, ctx->len, "HDF5: %s (%s; %s) in %s()", e->desc ? e->desc : "",
             maj, min, e->func_name ? e->func_name : "?");
    return 0;
}

void check_h5_message(char *buf, size_t len)
{
    h5_walk_ctx ctx = {buf, len};
    snprintf(buf, len, "HDF5 call failed (no error stack)");
    /* Walk a copy: H5Eget_msg is an API call and would clear the live stack. */
    hid_t stack = H5Eget_current_stack();
    if (stack < 0) return;
    H5Ewalk2(stack, H5E_WALK_UPWARD, h5_walk_cb, &ctx);
    H5Eclose_stack(stack);
}

void check_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

void check_mpi_message(int rc, char *buf, size_t len)
{
    int n = 0;
    char tmp[MPI_MAX_ERROR_STRING + 1] = "";
    if (MPI_Error_string(rc, tmp, &n) != MPI_SUCCESS) snprintf(tmp, sizeof tmp, "MPI error %d", rc);
    snprintf(buf, len, "%s", tmp);
}
