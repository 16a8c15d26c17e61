#!/usr/bin/env bash
# scaling-collect.sh -- turn the result-n*.json files of a scaling run (slurm/scaling.sh)
# into OUTDIR/scaling.csv and OUTDIR/scaling.md: nodes, ranks, wall time, speedup and
# parallel efficiency relative to the smallest node count (strong scaling: every point
# ran the same benchmark), and dyolo's own images/s from summary.json when present.
# Wall time includes start-up, so use enough steps that it is a small part.
# Run by the collector job, or by hand: scaling-collect.sh OUTDIR
set -euo pipefail
out=${1:?usage: scaling-collect.sh OUTDIR}
files=$(ls "$out"/result-n*.json 2>/dev/null || true)
[ -n "$files" ] || { echo "scaling-collect.sh: no result-n*.json in $out" >&2; exit 1; }
field() { sed -n "s/.*\"$1\": \([^,}]*\).*/\1/p" "$2"; }
{
  echo "nodes,ranks,wall_s,images_per_s,exit"
  for f in $files; do
    echo "$(field nodes "$f"),$(field ranks "$f"),$(field wall_s "$f"),$(field images_per_s "$f"),$(field exit "$f")"
  done \
    | sort -t, -k1,1n
} >"$out/scaling.csv"
awk -F, -v host="$(hostname -s)" -v date="$(date -u +%FT%TZ)" '
  NR == 1 { next }
  { n[NR] = $1; r[NR] = $2; w[NR] = $3; ips[NR] = $4; e[NR] = $5; last = NR }
  END {
    print "# dyolo scaling run (" date ", collected on " host ")"; print ""
    print "| nodes | ranks | wall s | speedup | efficiency | images/s | exit |"
    print "|------:|------:|-------:|--------:|-----------:|---------:|-----:|"
    base = 2
    for (i = 2; i <= last; i++) {
      s = (w[i] > 0) ? w[base] / w[i] : 0
      eff = (n[i] > 0) ? s * n[base] / n[i] : 0
      printf "| %d | %d | %.1f | %.2f | %.0f%% | %s | %d |\n", n[i], r[i], w[i], s, 100 * eff, ips[i] == "null" ? "-" : ips[i], e[i]
    }
  }' "$out/scaling.csv" >"$out/scaling.md"
cat "$out/scaling.md"
