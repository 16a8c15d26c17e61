# src/bench/local.mk -- `dyolo bench KIND`: the benchmarks, kept apart from the
# library modules they time (they print tables and parse options, so they sit on top
# of the library beside the CLI, in the dyolo program).
dyolo_SOURCES += src/bench/bench.h src/bench/bench_step.c src/bench/bench_step.h \
	src/bench/bench_step_dist.c src/bench/bench_step_dist.h src/bench/bench_allreduce.c \
	src/bench/bench_allreduce.h src/bench/bench_ckpt.c src/bench/bench_loader.c \
	src/bench/bench_scaling.c src/bench/scaling_model.c src/bench/scaling_model.h \
	src/bench/gpu_peaks.c src/bench/gpu_peaks.h src/bench/bench_step_dev.c
