# src/io/local.mk -- persistent state: collective parallel-HDF5 checkpoints; reading
# YOLOv5 .pt files (restricted unpickler, zip container, import).
libdyolo_a_SOURCES += \
	src/io/ckpt.h src/io/ckpt_internal.h src/io/ckpt_util.c src/io/ckpt_write.c \
	src/io/ckpt_read.c src/io/ckpt_dir.c src/io/ckpt_config.c src/io/ckpt_policy.c \
	src/io/ckpt_policy.h src/io/ckpt_rawio.c \
	src/io/unpickle.h src/io/unpickle.c src/io/pt_zip.h src/io/pt_zip.c src/io/pt_import.h src/io/pt_import.c
EXTRA_DIST += src/io/SCHEMA.md
