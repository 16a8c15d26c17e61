# src/data/local.mk -- datasets: importers (yolo/coco/voc), synth, shard writer/reader,
# sampler, augmentation, loader.
libdyolo_a_SOURCES += \
	src/data/image.c src/data/image.h src/data/synth.c src/data/synth.h \
	src/data/dataset.c src/data/dataset.h src/data/import_yolo.c src/data/import_coco.c \
	src/data/import_voc.c src/data/pack.c src/data/pack_internal.h src/data/shard_write.c \
	src/data/shard.h src/data/shard_read.c \
	src/data/sampler.c src/data/sampler.h src/data/augment.c src/data/aug_hsv.c src/data/augment.h \
	src/data/loader.c src/data/loader.h
