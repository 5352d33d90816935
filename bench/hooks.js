#!/usr/bin/env node
// Per-hook cost and fixed start cost of liege, with uWSGI and a bare
// `node -e 0` start in the same run, like ../shared/bench/01-hooks.sh: the
// wall time of a no-server start that runs K `exec:true` hooks in pre-jail,
// then `exit:`; time = fixed + K * per_hook, fitted on the medians.
// Runs are interleaved (every round runs every program and K once, in a
// shuffled order), so a burst of noise on a shared VM hits all of them alike.
//
// Usage: node bench/hooks.js   (needs uwsgi-core: ../shared/bench/setup.sh)
// Env:   KS="0 1 50 200" RUNS=30 WARMUP=3 OUT=bench/results/hooks.json UWSGI=uwsgi
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const KS = (process.env.KS || '0 1 50 200').split(/\s+/).map(Number);
const RUNS = Number(process.env.RUNS || 30);
const WARMUP = Number(process.env.WARMUP || 3);
const OUT = process.env.OUT || path.join(ROOT, 'bench', 'results', 'hooks.json');
const UWSGI = process.env.UWSGI || 'uwsgi';

const hooks = (k, first = []) => [...first, ...Array.from({ length: k }, () => ['--hook-pre-jail', 'exec:true']).flat(), '--hook-pre-jail', 'exit:'];
const PROGRAMS = {
  liege: (k, first) => [process.execPath, [path.join(ROOT, 'bin', 'liege'), '--no-server', ...hooks(k, first)]],
  uwsgi: (k, first) => [UWSGI, hooks(k, first)],
  'node -e 0': () => [process.execPath, ['-e', '0']],
};

function timeOnce([cmd, args]) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}… exited ${r.status ?? r.signal}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
function linfit(xs, ys) {
  const n = xs.length, mx = xs.reduce((a, b) => a + b) / n, my = ys.reduce((a, b) => a + b) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
  return { slope: sxy / sxx, intercept: my - (sxy / sxx) * mx };
}

// sanity: both really run the hooks
for (const name of ['liege', 'uwsgi']) {
  const [cmd, args] = PROGRAMS[name](0, ['--hook-pre-jail', 'exec:echo hook-ran']);
  const out = spawnSync(cmd, args, { encoding: 'utf8' });
  if (!/^hook-ran$/m.test(out.stdout ?? '')) throw new Error(`${name} did not run the hook: ${out.error ?? out.stderr}`);
}

const jobs = [];
for (const name of Object.keys(PROGRAMS)) for (const k of name === 'node -e 0' ? [0] : KS) jobs.push({ name, k, times: [] });
for (let round = 0; round < WARMUP + RUNS; round++) {
  for (const j of [...jobs].sort(() => Math.random() - 0.5)) {
    const ms = timeOnce(PROGRAMS[j.name](j.k));
    if (round >= WARMUP) j.times.push(ms);
  }
}

const rows = {};
for (const j of jobs) (rows[j.name] ||= []).push({ K: j.k, median: median(j.times), min: Math.min(...j.times), max: Math.max(...j.times), n: j.times.length });
const fit = (n) => linfit(rows[n].map((p) => p.K), rows[n].map((p) => p.median));
const L = fit('liege'), U = fit('uwsgi');
const nodeStart = rows['node -e 0'][0].median;
const k0 = rows.liege.find((p) => p.K === 0).median;
const fmt = (p) => `${p.median.toFixed(1)} (${p.min.toFixed(1)}–${p.max.toFixed(1)})`;
console.log(`wall ms, median (min–max) of ${RUNS} interleaved runs; node ${process.version}`);
console.log(`| program | ${KS.map((k) => `K=${k}`).join(' | ')} | fixed ms (fit) | per hook ms (slope) |`);
console.log(`|---|${KS.map(() => '---').join('|')}|---|---|`);
for (const n of ['liege', 'uwsgi']) console.log(`| ${n} | ${rows[n].map(fmt).join(' | ')} | ${fit(n).intercept.toFixed(1)} | ${fit(n).slope.toFixed(3)} |`);
console.log(`| node -e 0 | ${fmt(rows['node -e 0'][0])} | ${KS.slice(1).map(() => '–').join(' | ')} | ${nodeStart.toFixed(1)} | – |`);
console.log('');
console.log(`per-hook slope, liege / uWSGI: ${(L.slope / U.slope).toFixed(2)} (goal <= 1.00)`);
console.log(`fixed cost (fit intercept), liege / bare node -e 0: ${(L.intercept / nodeStart).toFixed(2)} (goal <= 1.20)`);
console.log(`K=0 start (medians), liege / bare node -e 0: ${(k0 / nodeStart).toFixed(2)}`);
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify({ bench: 'hooks', node: process.version, runs: RUNS, rows, fits: { liege: L, uwsgi: U }, nodeStart, ratios: { slope: L.slope / U.slope, fixed: L.intercept / nodeStart, k0: k0 / nodeStart } }, null, 2) + '\n');
console.log(`saved ${path.relative(process.cwd(), OUT)}`);
