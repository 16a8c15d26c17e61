/* nccl1_devmem_none.c -- nccl1_devmem.h in builds without CUDA: nothing is device
 * memory, and copies fail (test_nccl1 skips before it needs them). */
#include "tests/dist/nccl1_devmem.h"

static dy_status none(void) { return DY_ERR(DY_EUNSUPPORTED, "built without CUDA"); }

dy_status t_dev_upload(void *dev, const void *host, size_t bytes)
{
    (void)dev, (void)host, (void)bytes;
    return none();
}

dy_status t_dev_download(void *host, const void *dev, size_t bytes)
{
    (void)dev, (void)host, (void)bytes;
    return none();
}

int t_dev_is_device(const void *p)
{
    (void)p;
    return 0;
}

dy_status t_dev_sync(void) { return none(); }
