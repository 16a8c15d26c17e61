# src/eval/local.mk -- evaluation: NMS, COCO-exact and YOLO-style mAP.
libdyolo_a_SOURCES += \
	src/eval/eval_set.c src/eval/eval_set.h \
	src/eval/coco_eval.c src/eval/coco_eval.h \
	src/eval/coco_json.c src/eval/coco_json.h
libdyolo_a_SOURCES += src/eval/yolo_ap.c src/eval/yolo_ap.h
libdyolo_a_SOURCES += src/eval/nms.c src/eval/nms.h
libdyolo_a_SOURCES += src/eval/eval_dist.c src/eval/eval_dist.h
libdyolo_a_SOURCES += src/eval/plot.c src/eval/plot.h
libdyolo_a_SOURCES += src/eval/report.c src/eval/report.h
libdyolo_a_SOURCES += src/eval/validate.c src/eval/validate.h
libdyolo_a_SOURCES += src/eval/draw.c src/eval/draw.h
libdyolo_a_SOURCES += src/eval/weights.c src/eval/weights.h
libdyolo_a_SOURCES += src/eval/confusion.c src/eval/confusion.h
libdyolo_a_SOURCES += src/eval/plot_batch.c src/eval/plot_batch.h
libdyolo_a_SOURCES += src/eval/plot_labels.c src/eval/plot_labels.h
