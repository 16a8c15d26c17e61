/* bench_allreduce.h -- `dyolo bench allreduce`: all-reduce time and bandwidth per
 * message size for each available transport next to a plain blocking
 * MPI_Allreduce, and the DDP overlap benchmark (fraction of communication hidden
 * behind a synthetic backward).
 * defines: bench_allreduce_main */
#ifndef DY_DIST_BENCH_ALLREDUCE_H
#define DY_DIST_BENCH_ALLREDUCE_H

int bench_allreduce_main(int argc, char **argv);

#endif
