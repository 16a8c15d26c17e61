# tests/fuzz/local.mk -- libFuzzer targets, one per parser of outside input.
# They are EXTRA_PROGRAMS: never built by `make` or `make check` (gcc cannot build
# them); tests/fuzz/run-fuzz.sh builds them by name in a clang + ASan/UBSan build
# (build-fuzz/) where CFLAGS carries -fsanitize=fuzzer-no-link and FUZZ_LINKFLAGS
# links libFuzzer's main.
FUZZ_TARGETS = tests/fuzz/fuzz_config tests/fuzz/fuzz_data_yaml tests/fuzz/fuzz_yolo_labels \
	tests/fuzz/fuzz_coco_json tests/fuzz/fuzz_voc_xml tests/fuzz/fuzz_image tests/fuzz/fuzz_shard \
	tests/fuzz/fuzz_ckpt tests/fuzz/fuzz_manifest tests/fuzz/fuzz_pickle tests/fuzz/fuzz_pt
EXTRA_PROGRAMS = $(FUZZ_TARGETS)
FUZZ_LINKFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_config_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_data_yaml_SOURCES = tests/fuzz/fuzz_data_yaml.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_data_yaml_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_data_yaml_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_yolo_labels_SOURCES = tests/fuzz/fuzz_yolo_labels.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_yolo_labels_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_yolo_labels_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_coco_json_SOURCES = tests/fuzz/fuzz_coco_json.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_coco_json_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_coco_json_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_voc_xml_SOURCES = tests/fuzz/fuzz_voc_xml.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_voc_xml_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_voc_xml_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_image_SOURCES = tests/fuzz/fuzz_image.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_image_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_image_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_shard_SOURCES = tests/fuzz/fuzz_shard.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_shard_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_shard_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_ckpt_SOURCES = tests/fuzz/fuzz_ckpt.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_ckpt_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_ckpt_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_manifest_SOURCES = tests/fuzz/fuzz_manifest.c tests/fuzz/fuzz_util.h
tests_fuzz_fuzz_manifest_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_manifest_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_pickle_SOURCES = tests/fuzz/fuzz_pickle.c tests/fuzz/fuzz_util.h tests/fuzz/pk_walk.h
tests_fuzz_fuzz_pickle_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_pickle_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_pt_SOURCES = tests/fuzz/fuzz_pt.c tests/fuzz/fuzz_util.h tests/fuzz/pk_walk.h
tests_fuzz_fuzz_pt_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_pt_LDFLAGS = $(FUZZ_LINKFLAGS)
EXTRA_DIST += tests/fuzz/make-pt-seeds.py
EXTRA_DIST += tests/fuzz/run-fuzz.sh tests/fuzz/lsan.supp tests/fuzz/make-seeds.sh tests/fuzz/corpus tests/fuzz/regressions
# Writes fuzz_ckpt's seed checkpoint (tests/fuzz/make-seeds.sh).
EXTRA_PROGRAMS += tests/fuzz/seed_ckpt
tests_fuzz_seed_ckpt_SOURCES = tests/fuzz/seed_ckpt.c
tests_fuzz_seed_ckpt_LDADD = $(TEST_LIBS)
