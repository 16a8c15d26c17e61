#!/usr/bin/env bash
# make-seeds.sh -- regenerate the HDF5 seed files of the fuzz corpus (shard and
# checkpoint; the text seeds are hand-written).  Needs a built build-fuzz/ (run
# tests/fuzz/run-fuzz.sh once).  The shard holds two 32x32 synthetic JPEGs with boxes,
# the checkpoint every entry kind (tests/fuzz/seed_ckpt.c): small on purpose, so that
# mutations hit the structure rather than the pixels.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bld=$root/build-fuzz
export ASAN_OPTIONS=detect_leaks=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self
# The CLI is not -Werror clean under clang (-Wfor-loop-analysis): seeds only need it to run.
(cd "$bld" && make DY_WARN_CFLAGS="-Wall -Wextra" dyolo tests/fuzz/seed_ckpt >/dev/null)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bld/dyolo" synth --out "$tmp/syn" --images 2 --classes 2 --size 32 --seed 1 >/dev/null 2>&1
"$bld/dyolo" pack --format yolo --input "$tmp/syn/data.yaml" --split train --out "$tmp/sh" >/dev/null 2>&1 \
  || "$bld/dyolo" pack --format yolo --input "$tmp/syn/data.yaml" --split val --out "$tmp/sh"
cp "$tmp/sh-00000.h5" "$root/tests/fuzz/corpus/fuzz_shard/synth-2img.h5"
"$bld/dyolo" pack --format yolo --input "$tmp/syn/data.yaml" --split train --encoding raw --imgsz 32 --out "$tmp/raw" >/dev/null 2>&1 \
  && cp "$tmp/raw-00000.h5" "$root/tests/fuzz/corpus/fuzz_shard/synth-raw32.h5"
"$bld/tests/fuzz/seed_ckpt" "$tmp" seed.h5
cp "$tmp/seed.h5" "$root/tests/fuzz/corpus/fuzz_ckpt/seed.h5"
ls -l "$root"/tests/fuzz/corpus/fuzz_shard "$root"/tests/fuzz/corpus/fuzz_ckpt
