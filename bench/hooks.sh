#!/usr/bin/env bash
# Per-hook cost and fixed start cost of liege, with uWSGI and a bare
# `node -e 0` start measured in the same hyperfine runs (interleaved per K),
# like ../shared/bench/01-hooks.sh: wall time of a no-server start that runs
# K `exec:true` hooks in pre-jail then `exit:`; time = fixed + K * per_hook
# fitted on the medians.
#
# Usage: bench/hooks.sh            (needs hyperfine and uwsgi-core: see ../shared/bench/setup.sh)
# Env:   KS="0 1 50 200" RUNS=20 WARMUP=3 OUT=bench/results/hooks.json
set -euo pipefail
cd "$(dirname "$0")/.."
KS=${KS:-"0 1 50 200"}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
OUT=${OUT:-bench/results/hooks.json}
LIEGE="$PWD/bin/liege --no-server"
UWSGI=${UWSGI:-uwsgi}
mkdir -p "$(dirname "$OUT")" /tmp/liege-bench-hooks
for tool in hyperfine "$UWSGI"; do command -v "$tool" >/dev/null || { echo "missing $tool (run ../shared/bench/setup.sh)" >&2; exit 2; }; done

# sanity: both really run the hooks
for prog in "$LIEGE" "$UWSGI"; do
  $prog --hook-pre-jail "exec:echo hook-ran" --hook-pre-jail exit: 2>/dev/null | grep -q '^hook-ran' || { echo "$prog did not run the hook" >&2; exit 1; }
done

files=()
for K in $KS; do
  hooks=""
  for ((i = 0; i < K; i++)); do hooks+=" --hook-pre-jail exec:true"; done
  f=/tmp/liege-bench-hooks/k$K.json
  hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$f" --style none \
    -n "liege K=$K" "$LIEGE$hooks --hook-pre-jail exit:" \
    -n "uwsgi K=$K" "$UWSGI$hooks --hook-pre-jail exit:" \
    -n "node-e K=$K" "node -e 0" >/dev/null 2>&1
  files+=("$f")
done

node - "$OUT" "${files[@]}" <<'JS'
const fs = require('fs');
const [out, ...files] = process.argv.slice(2);
const rows = {};
for (const f of files) for (const r of JSON.parse(fs.readFileSync(f, 'utf8')).results) {
  const [name, k] = r.command.split(' K=');
  (rows[name] ||= []).push({ K: +k, median: r.median * 1e3, min: r.min * 1e3, max: r.max * 1e3 });
}
function linfit(xs, ys) {
  const n = xs.length, mx = xs.reduce((a, b) => a + b) / n, my = ys.reduce((a, b) => a + b) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
  const slope = sxx ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}
const fit = (n) => linfit(rows[n].map((p) => p.K), rows[n].map((p) => p.median));
const L = fit('liege'), U = fit('uwsgi');
const nodeStart = rows['node-e'].map((p) => p.median).sort((a, b) => a - b)[Math.floor(rows['node-e'].length / 2)];
const ks = rows.liege.map((p) => `K=${p.K}`);
const lines = [
  `| program | ${ks.join(' | ')} | fixed ms (fit) | per hook ms (slope) |`,
  `|---|${ks.map(() => '---').join('|')}|---|---|`,
  ...['liege', 'uwsgi'].map((n) => `| ${n} | ${rows[n].map((p) => p.median.toFixed(1)).join(' | ')} | ${fit(n).intercept.toFixed(1)} | ${fit(n).slope.toFixed(3)} |`),
  `| node -e 0 | ${rows['node-e'].map((p) => p.median.toFixed(1)).join(' | ')} | ${nodeStart.toFixed(1)} | – |`,
  '',
  `per-hook slope, liege / uWSGI: ${(L.slope / U.slope).toFixed(2)} (goal <= 1.00)`,
  `fixed cost, liege / bare node -e start: ${(L.intercept / nodeStart).toFixed(2)} (goal <= 1.20)`,
];
console.log(lines.join('\n'));
fs.writeFileSync(out, JSON.stringify({ bench: 'hooks', node: process.version, rows, fits: { liege: L, uwsgi: U }, nodeStart, ratios: { slope: L.slope / U.slope, fixed: L.intercept / nodeStart } }, null, 2));
console.log(`saved ${out}`);
JS
