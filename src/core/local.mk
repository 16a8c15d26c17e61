# src/core/local.mk -- core module: errors, checks, logging, metrics, config, rng, crc.
libdyolo_a_SOURCES += \
	src/core/err.c src/core/err.h src/core/check.c src/core/check.h \
	src/core/log.c src/core/log.h src/core/timer.h \
	src/core/metrics.c src/core/metrics.h \
	src/core/config.c src/core/config.h src/core/config_schema.c \
	src/core/rng.c src/core/rng.h src/core/crc32c.c src/core/crc32c.h \
	src/core/version.c src/core/version.h src/core/gpu.h src/core/fsutil.c src/core/fsutil.h src/core/affinity.c src/core/affinity.h \
	src/core/h5lock.c src/core/h5lock.h \
	src/core/fault.c src/core/fault.h
