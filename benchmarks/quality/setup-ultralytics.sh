#!/usr/bin/env bash
# setup-ultralytics.sh [VENV] -- the Ultralytics side of the quality harness: a venv
# (default benchmarks/quality/.venv, git-ignored) with YOLOv5 v7.0 as the PyPI package
# yolov5==7.0.14 and PyTorch CPU.  On Debian 12 it uses Debian's python3-torch 1.13 and
# python3-torchvision 0.14 (apt; oneDNN CPU kernels) through --system-site-packages;
# elsewhere set ULTRA_PIP_TORCH=1 to pip-install torch/torchvision CPU wheels instead.
# The package (unlike the git repository's v7.0) imports a few integrations at
# start-up; run-ultralytics.sh puts ultra_stubs/ (see its README) before them on
# PYTHONPATH.  Idempotent; prints the versions it ended with.
set -euo pipefail
V=${1:-$(cd "$(dirname "$0")" && pwd)/.venv}
if [ -z "${ULTRA_PIP_TORCH:-}" ] && ! /usr/bin/python3 -c 'import torch, torchvision, cv2, pandas, seaborn, scipy' 2>/dev/null; then
  echo "setup-ultralytics: installing Debian's PyTorch and YOLOv5's dependencies (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv python3-torch \
    python3-torchvision python3-opencv python3-pandas python3-matplotlib python3-scipy python3-seaborn \
    python3-tqdm python3-yaml python3-psutil python3-requests python3-git >/dev/null
fi
if [ ! -x "$V/bin/python" ]; then
  if [ -n "${ULTRA_PIP_TORCH:-}" ]; then python3 -m venv "$V"; else /usr/bin/python3 -m venv --system-site-packages "$V"; fi
fi
P="$V/bin/python"
if [ -n "${ULTRA_PIP_TORCH:-}" ]; then
  "$P" -m pip install -q --index-url https://download.pytorch.org/whl/cpu torch torchvision
  "$P" -m pip install -q opencv-python-headless pandas seaborn scipy matplotlib tqdm pyyaml psutil requests gitpython
fi
"$P" -m pip install -q --no-deps yolov5==7.0.14 thop
# YOLOv5 downloads Arial.ttf from ultralytics.com at start-up (labels in its plots);
# nothing is downloaded at run time here: Matplotlib's DejaVu Sans under that name, in
# the config folder run-ultralytics.sh points YOLOV5_CONFIG_DIR at.
mkdir -p "$V/yolov5-config"
font=$("$P" -c 'from matplotlib import font_manager as f; print(f.findfont("DejaVu Sans"))')
for f in Arial.ttf Arial.Unicode.ttf; do [ -f "$V/yolov5-config/$f" ] || cp "$font" "$V/yolov5-config/$f"; done
"$P" - <<'PY'
import torch, torchvision
print("setup-ultralytics: python", __import__("sys").version.split()[0], "torch", torch.__version__,
      "torchvision", torchvision.__version__, "threads", torch.get_num_threads())
PY
