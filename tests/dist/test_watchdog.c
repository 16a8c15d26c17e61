/* test_watchdog.c -- one rank never joins an all-reduce (it sleeps); the others'
 * watchdog must turn the hang into an error naming the operation and the silent
 * rank, and take the one abort path.  Driven by watchdog.sh, which bounds it with
 * `timeout` and checks the message and the elapsed time.
 * usage: test_watchdog TIMEOUT_S [thread] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "dist/comm.h"
#include "dist/dist.h"

int main(int argc, char **argv)
{
    dist_ctx d;
    if (dist_init(&argc, &argv, &d) != DY_OK) {
        fprintf(stderr, "%s\n", err_msg());
        return 1;
    }
    log_setup(d.rank, 1, LOG_INFO);
    comm_opts o = {.transport = COMM_TRANSPORT_MPI, .timeout_s = argc > 1 ? atof(argv[1]) : 2,
                   .progress = argc > 2 && !strcmp(argv[2], "thread") ? COMM_PROGRESS_THREAD : COMM_PROGRESS_POLL};
    comm *c = NULL;
    if (comm_create(d.world, &o, &c) != DY_OK) dist_abort(1, err_msg());
    float x[1024] = {0};
    /* A first collective that everyone joins, so the stuck one is #1. */
    if (comm_allreduce_sync(c, x, 1024, COMM_F32, COMM_SUM) != DY_OK) dist_abort(1, err_msg());
    if (d.rank == d.size - 1) {
        log_info("rank %d sleeps instead of joining the all-reduce", d.rank);
        for (;;) sleep(100);
    }
    if (comm_allreduce_sync(c, x, 1024, COMM_F32, COMM_SUM) != DY_OK) dist_abort(3, err_msg());
    printf("unexpected: the all-reduce completed\n");
    comm_destroy(c);
    dist_finalize(&d);
    return 0;
}
