# tests/e2e/local.mk -- end-to-end tests of the whole program: training, resume,
# world-size equivalence, learning on synthetic data, validation on BCCD, val and
# detect on the device --device picks.
E2E_TESTS = tests/e2e/train_e2e.sh tests/e2e/faults.sh tests/e2e/learn_e2e.sh tests/e2e/bccd_val.sh \
	tests/e2e/ckpt_async_e2e.sh tests/e2e/finetune_e2e.sh tests/e2e/finetune_bccd.sh tests/e2e/run_plots.sh \
	tests/e2e/val_device.sh tests/e2e/resume_device.sh tests/e2e/autoanchor.sh
TESTS += $(E2E_TESTS)
EXTRA_DIST += $(E2E_TESTS) tests/e2e/compare_ckpt.py
