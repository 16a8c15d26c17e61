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
(cd "$bld" && make DY_WARN_CFLAGS="-Wall -Wextra" dyolo tests/fuzz/seed_ckpt tests/data/test_shard_dump >/dev/null)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bld/dyolo" synth --out "$tmp/syn" --images 2 --classes 2 --size 32 --seed 1 >/dev/null 2>&1
"$bld/dyolo" pack --format yolo --input "$tmp/syn/data.yaml" --split train --out "$tmp/sh" >/dev/null 2>&1 \
  || "$bld/dyolo" pack --format yolo --input "$tmp/syn/data.yaml" --split val --out "$tmp/sh"
cp "$tmp/sh-00000.h5" "$root/tests/fuzz/corpus/fuzz_shard/synth-2img.h5"
"$bld/dyolo" pack --format yolo --input "$tmp/syn/data.yaml" --split train --encoding raw --imgsz 32 --out "$tmp/raw" >/dev/null 2>&1 \
  && cp "$tmp/raw-00000.h5" "$root/tests/fuzz/corpus/fuzz_shard/synth-raw32.h5"
# The regression inputs that reach load_meta's checks: one byte of one dataset of the
# raw seed changed (dataset, byte, new value), so HDF5's checksums stay valid.
S=$root/tests/fuzz/corpus/fuzz_shard/synth-raw32.h5 R=$root/tests/fuzz/regressions/fuzz_shard
mk() {
  local off; off=$(( $("$bld/tests/data/test_shard_dump" "$S" --offset "$2") + $3 ))
  cp "$S" "$R/$1"; printf "$(printf '\\%03o' "$4")" | dd of="$R/$1" bs=1 seek="$off" conv=notrunc status=none
}
mk meta-offsets-v3.h5 images/offset 9 0114; mk meta-name-offset-v3.h5 images/name_offset 15 01
mk meta-box-v3.h5 labels/box 3 0101; mk meta-class-v3.h5 labels/class 3 0200
"$bld/tests/fuzz/seed_ckpt" "$tmp" seed.h5
cp "$tmp/seed.h5" "$root/tests/fuzz/corpus/fuzz_ckpt/seed.h5"
ls -l "$root"/tests/fuzz/corpus/fuzz_shard "$root"/tests/fuzz/corpus/fuzz_ckpt
