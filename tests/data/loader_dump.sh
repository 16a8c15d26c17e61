# loader_dump.sh -- `dyolo bench loader --dump`: the training pipeline's batches as
# files (benchmarks/quality/compare-aug.py compares them with Ultralytics'): the
# header lines describe exactly the bytes written, targets are valid normalised
# boxes of the batch's images, the same seed gives the same bytes and another seed
# other ones, --val writes every validation image once in rectangular batches, and
# bad arguments or an unwritable prefix are clear errors.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PY=/usr/bin/python3

"$DYOLO" synth --out syn --images 25 --classes 2 --size 96 --seed 4 >log 2>&1; ok $? "synth 25 images"
for s in train val; do
  "$DYOLO" pack --format yolo --input syn/data.yaml --split $s --out $s >>log 2>&1; ok $? "pack $s"
done
dump() { "$DYOLO" bench loader --data train.manifest.json --imgsz 64 --batch 4 "$@"; }
dump --dump a --epochs 2 --seed 3 >a.log 2>&1; ok $? "dump 2 epochs of training batches"

# check.py PREFIX BATCH IMAGES_PER_EPOCH EPOCHS RECT: the dump is self-consistent
cat >check.py <<'PY'
import sys, numpy as np
pre, batch, per, epochs, rect = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
raw = np.fromfile(pre + ".u8", dtype=np.uint8)
off, imgs, cur, bad = 0, 0, None, []
for line in open(pre + ".txt"):
    f = line.split()
    if f[0] == "B":
        e, st, n, h, w, nt = map(int, f[1:])
        if not (1 <= n <= batch) or h % 32 or w % 32 or (not rect and (h, w) != (64, 64)):
            bad.append("batch shape %s" % f)
        off += n * 3 * h * w
        imgs += n
        cur = (n, nt)
        continue
    i, c, cx, cy, bw, bh = (float(x) for x in f)
    if not (0 <= i < cur[0] and c in (0, 1) and 0 <= cx <= 1 and 0 <= cy <= 1 and 0 < bw <= 1 and 0 < bh <= 1):
        bad.append("target %s" % f)
ntl = sum(1 for l in open(pre + ".txt") if not l.startswith("B"))
ntd = sum(int(l.split()[6]) for l in open(pre + ".txt") if l.startswith("B"))
if off != raw.size: bad.append("%d bytes written, headers describe %d" % (raw.size, off))
if imgs != per * epochs: bad.append("%d images, want %d" % (imgs, per * epochs))
if ntl != ntd or ntl == 0: bad.append("%d target lines, headers say %d" % (ntl, ntd))
if raw.size and raw.std() < 5: bad.append("pixels nearly constant")
print("\n".join(bad) or "ok")
sys.exit(1 if bad else 0)
PY
ntrain=$(sed -n 's/.*"num_samples":[[:space:]]*\([0-9]*\).*/\1/p' train.manifest.json | head -1)
nval=$(sed -n 's/.*"num_samples":[[:space:]]*\([0-9]*\).*/\1/p' val.manifest.json | head -1)
[ -n "$ntrain" ] && [ -n "$nval" ]; ok $? "sample counts from the manifests ($ntrain train, $nval val)"
$PY check.py a 4 "$ntrain" 2 0 >a.chk 2>&1; ok $? "training dump: headers match the bytes, targets valid ($(head -1 a.chk))"
dump --dump b --epochs 2 --seed 3 >b.log 2>&1 && cmp -s a.u8 b.u8 && cmp -s a.txt b.txt
ok $? "same seed: the same bytes"
dump --dump c --epochs 2 --seed 4 >c.log 2>&1 && ! cmp -s a.u8 c.u8
ok $? "another seed: other augmentations"
"$DYOLO" bench loader --data val.manifest.json --imgsz 64 --batch 4 --val --dump v >v.log 2>&1
ok $? "dump the validation pipeline"
$PY check.py v 4 "$nval" 1 1 >v.chk 2>&1; ok $? "validation dump: every image once, rectangular batches ($(head -1 v.chk))"
dump --dump /nonexistent/dir/x >e1.log 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q '/nonexistent/dir/x' e1.log; ok $? "an unwritable prefix: exit 1 naming it (rc $rc)"
dump --dump z --imgsz 50 >e2.log 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q 'multiple of 32' e2.log; ok $? "--imgsz 50: usage error (rc $rc)"
tap_done
