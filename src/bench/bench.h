/* bench.h -- entry points of the `dyolo bench` kinds that have no header of their
 * own (each kind is one file in src/bench/, dispatched by src/cli/cli_bench.c).
 *
 * defines: bench_loader_main, bench_ckpt_main, bench_scaling_main */
#ifndef DY_BENCH_BENCH_H
#define DY_BENCH_BENCH_H

int bench_loader_main(int argc, char **argv);
int bench_ckpt_main(int argc, char **argv);
int bench_scaling_main(int argc, char **argv);

#endif
