#!/usr/bin/env node
// Deploying a new version under load: `liege install vN.tar.gz` (an emperor
// on the bundles dir, 2 workers) against the anchor `pm2 reload` (cluster
// mode, 2 instances, the app file replaced on disk first) in the same run.
// wrk (1 thread, 64 keep-alive connections, 10 s) runs; at t = 3 s the
// deploy command starts. Reported: the deploy command's wall time (liege:
// until the new version accepts; pm2: until `pm2 reload` returns), wrk's
// socket errors and non-2xx answers, and which version answers afterwards.
//
// Usage: node bench/bundle.js   Env: RUNS=3 PM2=/tmp/benchtools/node_modules/.bin/pm2
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const LIEGE = path.join(ROOT, 'bin', 'liege');
const RUNS = Number(process.env.RUNS || 3);
const PM2 = process.env.PM2 || '/tmp/benchtools/node_modules/.bin/pm2';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-bench-bundle-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const appSource = (v) => `const http = require('http');
const h = (req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'x-version': '${v}' }); res.end('v${v}'); };
if (process.env.PM2_PORT) http.createServer(h).listen(+process.env.PM2_PORT, '127.0.0.1'); else module.exports = h;
`;

function freePort() {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

function wrk(port, seconds) {
  return new Promise((resolve) => {
    const p = spawn('wrk', ['-t', '1', '-c', '64', '-d', `${seconds}s`, '--timeout', '2s', `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', () => {
      const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({
        requests: +(/(\d+) requests in/.exec(out) || [0, 0])[1],
        errors: se ? se.slice(1).reduce((a, b) => a + +b, 0) : 0,
        non2xx: +(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out) || [0, 0])[1],
      });
    });
  });
}

async function body(port) {
  try { return await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })).text(); } catch { return 'no answer'; }
}

function timed(cmd, args, env) {
  return new Promise((resolve) => {
    const t = process.hrtime.bigint();
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, code, err }));
  });
}

async function underLoad(port, deploy) {
  const load = wrk(port, 10);
  await sleep(3000);
  const d = await deploy();
  const w = await load;
  return { ...w, deployMs: d.ms, code: d.code, after: await body(port) };
}

async function liege(port) {
  const state = path.join(dir, 'state');
  fs.mkdirSync(path.join(state, 'bundles'), { recursive: true });
  const pack = (v) => {
    const src = path.join(dir, `liege-src-${v}`);
    fs.mkdirSync(path.join(src, 'meta'), { recursive: true });
    fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify({ name: 'bench', version: String(v) }));
    fs.writeFileSync(path.join(src, 'app.js'), appSource(v));
    fs.writeFileSync(path.join(src, 'meta', 'liege.ini'), `[uwsgi]\nmaster = true\nprocesses = 2\nhttp-socket = 127.0.0.1:${port}\nnode-app = %(bundle)/app.js\n`);
    spawnSync(LIEGE, ['pack', src, '-o', path.join(dir, `bench-${v}.tgz`)], { stdio: 'ignore' });
    return path.join(dir, `bench-${v}.tgz`);
  };
  const env = { LIEGE_STATE_DIR: state };
  const emperor = spawn(LIEGE, ['--emperor', path.join(state, 'bundles'), '--emperor-freq', '1'], { detached: true, stdio: 'ignore' });
  const out = [];
  try {
    await timed(LIEGE, ['install', pack(0)], env);
    for (let i = 1; i <= RUNS; i++) out.push(await underLoad(port, () => timed(LIEGE, ['install', pack(i)], env)));
  } finally {
    try { process.kill(-emperor.pid, 'SIGTERM'); } catch { /* gone */ }
    await sleep(2000);
    try { process.kill(-emperor.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  return out;
}

async function pm2(port) {
  const env = { PM2_HOME: path.join(dir, 'pm2'), PM2_DISABLE_VERSION_CHECK: 'true', PM2_PORT: String(port) };
  const app = path.join(dir, 'pm2-app.js');
  fs.writeFileSync(app, appSource(0));
  const out = [];
  try {
    await timed(PM2, ['start', app, '-i', '2', '--name', 'bench', '--wait-ready', '--listen-timeout', '3000'], env);
    await sleep(1000);
    for (let i = 1; i <= RUNS; i++) {
      out.push(await underLoad(port, () => { fs.writeFileSync(app, appSource(i)); return timed(PM2, ['reload', 'bench'], env); }));
    }
  } finally {
    await timed(PM2, ['kill'], env);
  }
  return out;
}

(async () => {
  const results = {};
  for (const [name, f] of [['liege install', liege], ['pm2 reload', pm2]]) {
    results[name] = await f(await freePort());
    for (const r of results[name]) process.stderr.write(`${name}: deploy ${r.deployMs.toFixed(0)} ms (exit ${r.code}), ${r.requests} req, socket errors ${r.errors}, non-2xx ${r.non2xx}, then answers "${r.after}"\n`);
  }
  console.log('| deploy | runs | median deploy ms | requests (sum) | socket errors (sum) | non-2xx (sum) |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, rs] of Object.entries(results)) {
    const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
    console.log(`| ${name} | ${rs.length} | ${median(rs.map((r) => r.deployMs)).toFixed(0)} | ${sum('requests')} | ${sum('errors')} | ${sum('non2xx')} |`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
})();
