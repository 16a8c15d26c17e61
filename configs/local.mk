# configs/local.mk -- shipped configs, the generated config reference, and
# `make demo`: the built-in demo (synthetic data, CPU, 2 MPI ranks, a few minutes).
EXTRA_DIST += configs/README.md configs/demo.json configs/bccd.json

DEMO_DIR = demo
DEMO_MPIRUN = OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 $(MPIRUN) --oversubscribe -np 2
demo: dyolo$(EXEEXT)
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)/shards
	./dyolo synth --out $(DEMO_DIR)/synth --images 500 --classes 3 --size 160 --seed 0
	$(DEMO_MPIRUN) ./dyolo pack --format yolo --input $(DEMO_DIR)/synth/data.yaml --split train \
	  --out $(DEMO_DIR)/shards/train
	$(DEMO_MPIRUN) ./dyolo pack --format yolo --input $(DEMO_DIR)/synth/data.yaml --split val \
	  --out $(DEMO_DIR)/shards/val
	$(DEMO_MPIRUN) ./dyolo train --config $(top_srcdir)/configs/demo.json \
	  --set model.spec=$(top_srcdir)/configs/models/yolov5n.json --set run.out_dir=$(DEMO_DIR)/run \
	  --set data.train=$(DEMO_DIR)/shards/train.manifest.json --set data.val=$(DEMO_DIR)/shards/val.manifest.json
	./dyolo detect --weights $(DEMO_DIR)/run/checkpoints/best --source $(DEMO_DIR)/synth/images/val \
	  --out $(DEMO_DIR)/detect
	@echo
	@echo "demo results:"
	@echo "  run directory      $(DEMO_DIR)/run (config.json, metrics.jsonl, summary.json, val.json, pr_curve.png)"
	@echo "  checkpoints        $(DEMO_DIR)/run/checkpoints (dyolo ckpt list $(DEMO_DIR)/run/checkpoints)"
	@echo "  detections         $(DEMO_DIR)/detect (annotated images, detections.json)"
.PHONY: demo
EXTRA_DIST += configs/models/yolov5n.json configs/models/yolov5s.json \
	configs/models/yolov5m.json configs/models/yolov5l.json configs/models/yolov5x.json
