# src/model/local.mk -- YOLOv5 from JSON specs and the YOLOv5 loss.
libdyolo_a_SOURCES += src/model/model.h src/model/model_internal.h src/model/model.c \
	src/model/model_run.c src/model/loss.h src/model/loss.c src/model/model_config.c \
	src/model/autoanchor.h src/model/autoanchor.c

