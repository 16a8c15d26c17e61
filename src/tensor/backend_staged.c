/* backend_staged.c -- "cpu-staged", a testing device: the CPU backend's own ops and
 * memory, declared as device memory (host_mem = 0).  Code above the backend then
 * takes every path a GPU backend takes (input upload, Detect-output download,
 * loss-gradient upload, state get/put through host copies, the checkpoint's
 * staging), while the arithmetic stays the CPU's, so on a machine without a GPU the
 * results must equal the CPU backend's bit for bit.  `runtime.device=cpu-staged`
 * selects it (with the MPI transport: its buffers really are host memory).
 *
 * defines: tn_backend_cpu_staged */
#include "tensor/backend.h"

const tn_backend *tn_backend_cpu_staged(void)
{
    /* Filled on first use from the CPU table; the copy is identical on every call,
     * so concurrent first calls write the same bytes. */
    static tn_backend staged;
    if (!staged.name) {
        tn_backend b = *tn_backend_cpu();
        b.name = "cpu-staged";
        b.host_mem = 0;
        staged = b;
    }
    return &staged;
}
