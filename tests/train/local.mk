# tests/train/local.mk -- tests of the optimizer, schedule, EMA and loss scaler.
