# src/io/local.mk -- persistent state: collective parallel-HDF5 checkpoints; reading
# YOLOv5 .pt files (restricted unpickler, zip container, import); the ONNX export
# (protobuf-c; onnx.proto compiled by protoc-c into the build directory).
libdyolo_a_SOURCES += \
	src/io/ckpt.h src/io/ckpt_internal.h src/io/ckpt_util.c src/io/ckpt_write.c \
	src/io/ckpt_read.c src/io/ckpt_dir.c src/io/ckpt_config.c src/io/ckpt_policy.c \
	src/io/ckpt_policy.h src/io/ckpt_rawio.c \
	src/io/onnx_export.c src/io/onnx_export.h \
	src/io/unpickle.h src/io/unpickle.c src/io/pt_zip.h src/io/pt_zip.c src/io/pt_import.h src/io/pt_import.c
nodist_libdyolo_a_SOURCES = src/io/onnx.pb-c.c src/io/onnx.pb-c.h
# Generated before anything that includes "src/io/onnx.pb-c.h" is compiled.
BUILT_SOURCES = src/io/onnx.pb-c.h
CLEANFILES += src/io/onnx.pb-c.c src/io/onnx.pb-c.h
EXTRA_DIST += src/io/SCHEMA.md src/io/onnx.proto

# One protoc-c run writes both files; the header depends on the source so that a
# parallel make runs it once.
src/io/onnx.pb-c.c: $(srcdir)/src/io/onnx.proto
	$(AM_V_GEN)$(MKDIR_P) src/io && \
	$(PROTOC_C) --proto_path=$(srcdir)/src/io --c_out=src/io $(srcdir)/src/io/onnx.proto
src/io/onnx.pb-c.h: src/io/onnx.pb-c.c
	@test -f $@ || { rm -f src/io/onnx.pb-c.c; $(MAKE) $(AM_MAKEFLAGS) src/io/onnx.pb-c.c; }
# Also when only `make dyolo` is asked for (BUILT_SOURCES covers all/check/install).
src/io/onnx_export.$(OBJEXT): src/io/onnx.pb-c.h
