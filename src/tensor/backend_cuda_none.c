/* backend_cuda_none.c -- the stand-in for the CUDA backend in builds without CUDA
 * (configure --without-cuda or no toolkit): opening it says why, so callers never
 * need #ifdef.
 *
 * defines: tn_backend_cuda_open, tn_backend_cuda_close */
#include "tensor/backend.h"

dy_status tn_backend_cuda_open(const tn_cuda_opts *opts, const tn_backend **out)
{
    (void)opts;
    *out = NULL;
    return DY_ERR(DY_EUNSUPPORTED, "this dyolo was built without CUDA (configure found no CUDA "
                                   "toolkit, or --without-cuda): only the CPU backend is available");
}

void tn_backend_cuda_close(void) {}
