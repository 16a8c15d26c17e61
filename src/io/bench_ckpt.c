/* bench_ckpt.c -- placeholder */
#include "io/ckpt.h"
int bench_ckpt_main(int argc, char **argv) { (void)argc; (void)argv; return 1; }
