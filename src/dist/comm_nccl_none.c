/* comm_nccl_none.c -- the NCCL transport's entry points in builds without CUDA:
 * each says clearly that this dyolo cannot use NCCL. */
#include "comm_nccl.h"

static dy_status no_nccl(void)
{
    return DY_ERR(DY_EUNSUPPORTED, "this dyolo was built without CUDA, so the NCCL transport is "
                  "unavailable: use dist.transport=mpi (or configure --with-cuda)");
}

dy_status dnccl_unique_id(unsigned char id[DNCCL_ID_BYTES]) { (void)id; return no_nccl(); }
dy_status dnccl_create(const unsigned char id[DNCCL_ID_BYTES], int rank, int size, int device,
                       int nslots, double timeout_s, dnccl **out)
{
    (void)id, (void)rank, (void)size, (void)device, (void)nslots, (void)timeout_s, (void)out;
    return no_nccl();
}
dy_status dnccl_allreduce(dnccl *d, void *b, size_t n, comm_dtype t, comm_redop op, int s)
{ (void)d, (void)b, (void)n, (void)t, (void)op, (void)s; return no_nccl(); }
dy_status dnccl_broadcast(dnccl *d, void *b, size_t n, comm_dtype t, int root, int s)
{ (void)d, (void)b, (void)n, (void)t, (void)root, (void)s; return no_nccl(); }
dy_status dnccl_allgatherv(dnccl *d, const void *snd, size_t n, void *rcv, const int *c,
                           const int *dis, comm_dtype t, int s)
{ (void)d, (void)snd, (void)n, (void)rcv, (void)c, (void)dis, (void)t, (void)s; return no_nccl(); }
dy_status dnccl_barrier(dnccl *d, int s) { (void)d, (void)s; return no_nccl(); }
dy_status dnccl_test(dnccl *d, int s, int *done) { (void)d, (void)s, (void)done; return no_nccl(); }
dy_status dnccl_async_error(dnccl *d) { (void)d; return no_nccl(); }
dy_status dnccl_follow_stream(dnccl *d, void *stream) { (void)d, (void)stream; return no_nccl(); }
void dnccl_abort(dnccl *d) { (void)d; }
void dnccl_destroy(dnccl *d) { (void)d; }
dy_status dnccl_device_alloc(int device, size_t bytes, void **out)
{ (void)device, (void)bytes, (void)out; return no_nccl(); }
void dnccl_device_free(void *p) { (void)p; }
