# configs/local.mk -- shipped configs and the generated config reference.
EXTRA_DIST += configs/README.md
