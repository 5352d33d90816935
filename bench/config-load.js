#!/usr/bin/env node
// Config load time vs the number of lines: a config of N repeated
// `processes =` lines (N = 0, 10k, 20k, 40k; a scalar: the last wins, nothing
// else happens per line — `env =` would measure setenv(3), quadratic in
// uWSGI and Node alike), started with `no-server` and left at the first phase (`hook-pre-jail = exit:`). liege and uWSGI run interleaved, in
// a shuffled order every round; time = fixed + N × per_line, fitted on the
// medians; the 40k/20k ratio of the load part shows whether loading is
// linear (2.0) or not (4.0 for a quadratic loader).
//   node bench/config-load.js [ROUNDS]
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const rounds = Number(process.argv[2] ?? 10);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-bench-config-'));
const liege = path.join(__dirname, '..', 'bin', 'liege');
const SIZES = [0, 10000, 20000, 40000];
const file = (n) => path.join(dir, `c${n}.ini`);
for (const n of SIZES) {
  const lines = ['[uwsgi]'];
  for (let i = 0; i < n; i++) lines.push(`processes = ${1 + (i % 8)}`);
  lines.push('hook-pre-jail = exit:');
  fs.writeFileSync(file(n), lines.join('\n') + '\n');
}

const programs = {
  liege: (n) => [liege, ['--ini', file(n), '--no-server']],
  uwsgi: (n) => ['uwsgi', ['--ini', file(n), '--no-server']],
};

function time([cmd, args]) {
  const t = process.hrtime.bigint();
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // exit: ends both with status 0; a failure still has a duration
  }
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const samples = {};
for (let r = 0; r < rounds; r++) {
  const jobs = Object.keys(programs).flatMap((p) => SIZES.map((n) => [p, n]));
  jobs.sort(() => Math.random() - 0.5);
  for (const [p, n] of jobs) (samples[`${p} ${n}`] ??= []).push(time(programs[p](n)));
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};

console.log(`| program | ${SIZES.map((n) => `N=${n}`).join(' | ')} | per 1k lines ms (slope) | load 40k / load 20k |`);
console.log(`|---|${SIZES.map(() => '---').join('|')}|---|---|`);
for (const p of Object.keys(programs)) {
  const m = SIZES.map((n) => median(samples[`${p} ${n}`]));
  const xs = SIZES, mx = xs.reduce((a, b) => a + b) / xs.length, my = m.reduce((a, b) => a + b) / m.length;
  const slope = xs.reduce((a, x, i) => a + (x - mx) * (m[i] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const ratio = (m[3] - m[0]) / (m[2] - m[0]);
  console.log(`| ${p} | ${m.map((v) => v.toFixed(1)).join(' | ')} | ${(slope * 1000).toFixed(2)} | ${ratio.toFixed(2)} |`);
}
fs.rmSync(dir, { recursive: true, force: true });
