# tests/eval/local.mk -- mAP protocols against pycocotools and hand-computed cases.
check_PROGRAMS += tests/eval/coco_tool
tests_eval_coco_tool_SOURCES = tests/eval/coco_tool.c
tests_eval_coco_tool_LDADD = $(TEST_LIBS)
TESTS += tests/eval/coco_vs_pycocotools.sh
EXTRA_DIST += tests/eval/coco_vs_pycocotools.sh tests/eval/coco_vs_pycocotools.py
check_PROGRAMS += tests/eval/test_yolo_ap
tests_eval_test_yolo_ap_SOURCES = tests/eval/test_yolo_ap.c
tests_eval_test_yolo_ap_LDADD = $(TEST_LIBS)
TESTS += tests/eval/test_yolo_ap
SANITIZER_TESTS += tests/eval/test_yolo_ap
check_PROGRAMS += tests/eval/test_nms
tests_eval_test_nms_SOURCES = tests/eval/test_nms.c
tests_eval_test_nms_LDADD = $(TEST_LIBS)
TESTS += tests/eval/test_nms
SANITIZER_TESTS += tests/eval/test_nms
