# configs/local.mk -- shipped configs and the generated config reference.
EXTRA_DIST += configs/README.md configs/models/yolov5n.json configs/models/yolov5s.json \
	configs/models/yolov5m.json configs/models/yolov5l.json configs/models/yolov5x.json
