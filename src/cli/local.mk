# src/cli/local.mk -- the dyolo command-line program (one file per subcommand).
dyolo_SOURCES += src/cli/main.c src/cli/cli.h src/cli/cli_common.c \
	src/cli/cli_version.c src/cli/cli_config.c src/cli/cli_bench.c \
	src/cli/cli_synth.c src/cli/cli_pack.c src/cli/cli_model.c src/cli/cli_ckpt.c src/cli/cli_train.c src/cli/cli_dryrun.c \
	src/cli/cli_val.c src/cli/cli_detect.c src/cli/cli_export.c src/cli/cli_import.c
