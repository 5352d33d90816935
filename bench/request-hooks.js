#!/usr/bin/env node
// Cost of request hooks (docs/hooks.md#request-hooks), measured with wrk in
// one run, variants interleaved round by round (the VM is noisy):
//   node          the app on a bare http.Server: the baseline
//   node+seam     the same server through attachRequestHooks (the seam every
//                 liege worker server goes through), no hook registered
//   node+async    the seam with one async pre-route hook
//   liege         the same app served by liege (1 worker), no hook
//   liege+async   liege with `request-hooks = ` one async pre-route hook
// Goals (issue 10): node+seam ≥ 0.98 × node; node+async ≥ 0.90 × node.
// Usage: npm run build && node bench/request-hooks.js [rounds=5] [seconds=5]
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 5);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-bench-rh-'));

const APP = `module.exports = (req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hello\\n'); };\n`;
const HOOK = `module.exports = { 'pre-route': async (req, res) => { req.hooked = true; } };\n`;
// a bare server, optionally through the seam, optionally with one async pre-route hook
const SERVER = `
const http = require('http');
const [port, mode] = process.argv.slice(1);
const server = http.createServer(require(${JSON.stringify(path.join(tmp, 'app.js'))}));
if (mode !== 'node') {
  const hooks = require(${JSON.stringify(path.join(ROOT, 'dist/worker/request-hooks.js'))});
  hooks.attachRequestHooks(server);
  if (mode === 'node+async') hooks.addHook('pre-route', async (req) => { req.hooked = true; });
}
server.listen(Number(port), '127.0.0.1');
`;
fs.writeFileSync(path.join(tmp, 'app.js'), APP);
fs.writeFileSync(path.join(tmp, 'hook.js'), HOOK);

const freePort = () => new Promise((ok) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function ready(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => { const c = net.connect(port, '127.0.0.1', () => { c.end(); r(true); }); c.on('error', () => r(false)); });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} never accepted`);
}

function start(variant, port) {
  if (variant.startsWith('node')) return spawn(process.execPath, ['-e', SERVER, String(port), variant], { stdio: 'ignore', detached: true });
  const args = ['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(tmp, 'app.js'), '--hooks-db', path.join(tmp, 'none.yaml')];
  if (variant === 'liege+async') args.push('--request-hooks', path.join(tmp, 'hook.js'));
  return spawn(path.join(ROOT, 'bin/liege'), args, { stdio: 'ignore', detached: true });
}

const { groupTicks, TICK_US } = require('./lib/cpu');

function wrk(port, pgid) {
  const t0 = groupTicks(pgid);
  const out = execFileSync('wrk', ['-t1', '-c32', `-d${seconds}s`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const n = /(\d+) requests in/.exec(out);
  if (!m || !n || /Non-2xx|Socket errors/.test(out)) throw new Error(`wrk: ${out}`);
  return { rps: Number(m[1]), cpuUs: ((groupTicks(pgid) - t0) * TICK_US) / Number(n[1]) };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

// The seam alone, in process: server.emit('request') with a no-op listener,
// bare vs through attachRequestHooks with no hook — ns per emit, the best of
// several interleaved batches (least disturbed by other sessions).
function seamNs() {
  const http = require('http');
  const { attachRequestHooks } = require(path.join(ROOT, 'dist/worker/request-hooks.js'));
  const bare = http.createServer(() => undefined);
  const seam = http.createServer(() => undefined);
  attachRequestHooks(seam);
  const time = (s) => { const t = process.hrtime.bigint(); for (let i = 0; i < 1e6; i++) s.emit('request', i, i); return Number(process.hrtime.bigint() - t) / 1e6; };
  let b = Infinity, w = Infinity;
  for (let r = 0; r < 15; r++) { b = Math.min(b, time(bare)); w = Math.min(w, time(seam)); }
  return { bare: b, seam: w };
}

async function main() {
  const ns = seamNs();
  console.log(`seam alone, no hook: emit('request') ${ns.bare.toFixed(1)} ns bare, ${ns.seam.toFixed(1)} ns through the seam (+${(ns.seam - ns.bare).toFixed(1)} ns per request)\n`);
  const variants = ['node', 'node+seam', 'node+async', 'liege', 'liege+async'];
  const results = Object.fromEntries(variants.map((v) => [v, []]));
  const cpu = Object.fromEntries(variants.map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    // a different order every round
    const order = [...variants].sort(() => Math.random() - 0.5);
    for (const v of order) {
      const port = await freePort();
      const p = start(v, port);
      try {
        await ready(port);
        wrk(port, p.pid); // warm-up (JIT), not counted
        const w = wrk(port, p.pid);
        results[v].push(w.rps);
        cpu[v].push(w.cpuUs);
      } finally {
        try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
        await sleep(200);
      }
    }
    process.stderr.write(`round ${r + 1}/${rounds}: ${variants.map((v) => `${v} ${results[v].at(-1).toFixed(0)}/s ${cpu[v].at(-1).toFixed(1)}µs`).join(', ')}\n`);
  }
  const m = Object.fromEntries(variants.map((v) => [v, median(results[v])]));
  // ratios within each round (same machine state), then their median
  const ratio = (r, a, b) => median(r[a].map((x, i) => x / r[b][i]));
  console.log(`| variant | vs | req/s (median of ${rounds} rounds × ${seconds} s, wrk -t1 -c32) | throughput ratio (median per round) | server CPU µs/request (median) | CPU ratio (median per round) |`);
  console.log('|---|---|---|---|---|---|');
  for (const v of variants) {
    const base = v.startsWith('liege') ? 'liege' : 'node';
    console.log(`| ${v} | ${base} | ${m[v].toFixed(0)} | ${ratio(results, v, base).toFixed(3)} | ${median(cpu[v]).toFixed(1)} | ${ratio(cpu, v, base).toFixed(3)} |`);
  }
  console.log(`| liege | node | | ${ratio(results, 'liege', 'node').toFixed(3)} | | ${ratio(cpu, 'liege', 'node').toFixed(3)} |`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
