# coco_vs_pycocotools.sh -- dyolo's coco protocol against pycocotools (from PyPI,
# installed into .venv by .ci/install-deps) on hand-built and random cases.
PY="$TOP_SRCDIR/.venv/bin/python"
if ! "$PY" -c 'import pycocotools' 2>/dev/null; then
  echo "1..0 # SKIP pycocotools not installed in $TOP_SRCDIR/.venv (run .ci/install-deps)"
  exit 0
fi
exec "$PY" "$TOP_SRCDIR/tests/eval/coco_vs_pycocotools.py" "$TOP_BUILDDIR/tests/eval/coco_tool"
