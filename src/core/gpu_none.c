/* gpu_none.c -- gpu_query for builds configured --without-cuda. */
#include "core/gpu.h"

#include <stdio.h>
#include <string.h>

void gpu_query(gpu_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->reason, sizeof out->reason, "this dyolo was built without CUDA (configure --without-cuda)");
}
