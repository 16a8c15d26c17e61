# tests/data/local.mk -- datasets: sampler/augmentation unit tests, pack/loader tests.
check_PROGRAMS += tests/data/test_data_unit tests/data/test_shard_dump tests/data/test_loader_digest
tests_data_test_data_unit_SOURCES = tests/data/test_data_unit.c tests/tap.h
tests_data_test_data_unit_LDADD = $(TEST_LIBS)
tests_data_test_shard_dump_SOURCES = tests/data/test_shard_dump.c
tests_data_test_shard_dump_LDADD = $(TEST_LIBS)
tests_data_test_loader_digest_SOURCES = tests/data/test_loader_digest.c
tests_data_test_loader_digest_LDADD = $(TEST_LIBS)
DATA_SH_TESTS = tests/data/synth_pack.sh tests/data/pack_bad_input.sh tests/data/pack_ranks.sh \
	tests/data/loader_ranks.sh tests/data/loader_dump.sh
TESTS += tests/data/test_data_unit $(DATA_SH_TESTS)
EXTRA_DIST += $(DATA_SH_TESTS) tests/data/check_labels.py tests/data/make-hsv-fixture.py tests/data/hsv_opencv.txt
SANITIZER_TESTS += tests/data/test_data_unit
