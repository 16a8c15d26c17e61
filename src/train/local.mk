# src/train/local.mk -- optimizer, LR schedule, EMA, loss scaler, config section.
libdyolo_a_SOURCES += \
	src/train/optim.c src/train/optim.h src/train/sched.c src/train/sched.h \
	src/train/ema.c src/train/ema.h src/train/scaler.c src/train/scaler.h \
	src/train/train_config.c src/train/train_config.h src/train/step.c src/train/step.h \
	src/train/micro_step.c src/train/micro_step.h

libdyolo_a_SOURCES += src/train/signals.c src/train/signals.h
libdyolo_a_SOURCES += src/train/trainer.c src/train/trainer.h src/train/trainer_internal.h \
	src/train/trainer_ckpt.c src/train/trainer_anchor.c src/train/trainer_val.c src/train/transfer.c src/train/transfer.h \
	src/train/trainer_plots.c src/train/trainer_plots.h
