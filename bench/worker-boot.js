#!/usr/bin/env node
'use strict';
// One worker's boot, spawn → serving, three ways side by side, interleaved
// run by run (load drift on a shared machine hits all alike):
//  * liege: `node dist/worker/main.js` with the job in LIEGE_WORKER and the
//    listening socket as fd 4, as the master spawns it (the app is the
//    shared bench's hello.js, which calls listen() itself);
//  * bare: `node` with an IPC channel running a 3-line server on fd 4 (the
//    floor: one Node boot);
//  * node:cluster: cluster.fork() of hello.js from this process (its
//    listen() goes through the primary over IPC, round-robin).
// For each: ms until the "ready" message (accepting / listening), until the
// first GET answered by the new pid, and the child's CPU time (utime+stime
// from /proc) at that moment.
//
//   node bench/worker-boot.js [--runs 20] [--dist /path/to/dist] [--targets liege,bare,cluster]
//   --dist B / --flags F1,F2 (without the leading --): also a second liege build (another tree's dist)
//   or the same with node flags, "liege-B"
const cluster = require('cluster');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const U = require('../../shared/bench/lib/util');

const native = require(path.join(__dirname, '..', 'native', 'build', 'Release', 'liege_native.node'));
const HELLO = path.join(U.BENCH, 'apps', 'hello.js');

const o = U.args();
const runs = +(o.runs || 20);

// CPU time of every thread of the process (ns in schedstat; /proc/PID/stat is in 10 ms ticks)
function cpuMs(pid) {
  try {
    let ns = 0;
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch (_) {
    return NaN;
  }
}

async function firstAnswer(port, pid, t0) {
  const end = t0 + 10000;
  while (U.now() < end) {
    try { const r = await U.get(port, { timeout: 500 }); if (r.status === 200 && r.pid === String(pid)) return U.now(); } catch (_) {}
    await U.sleep(1);
  }
  return NaN;
}

function liegeWorker(dist, flags = []) {
  return async (port, fd) => {
    const spec = { id: 1, once: false, app: HELLO, sockets: [{ addr: `127.0.0.1:${port}`, proto: 'http', port }], hooks: [], ctx: {}, masterPid: process.pid, requestLog: { disabled: true, log4xx: false, log5xx: false, slowMs: 0 }, logFormat: 'text' };
    const t0 = U.now();
    const child = spawn(process.execPath, [...flags, path.join(dist, 'worker', 'main.js')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', fd],
      env: { ...process.env, PORT: String(port), LIEGE_WORKER: JSON.stringify(spec) },
    });
    return track(child, t0, port, (m) => m && m.type === 'accepting');
  };
}

const BARE = "const h=require('http');h.createServer((q,s)=>{s.setHeader('x-pid',process.pid);s.end('hello')}).listen({fd:4},()=>process.send('up'))";

async function bare(port, fd) {
  const t0 = U.now();
  const child = spawn(process.execPath, ['-e', BARE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', fd] });
  return track(child, t0, port, (m) => m === 'up');
}

async function clusterWorker(port) {
  cluster.setupPrimary({ exec: HELLO, silent: false });
  const t0 = U.now();
  const w = cluster.fork({ PORT: String(port) });
  const ready = await new Promise((r) => w.once('listening', () => r(U.now())));
  const cpu = cpuMs(w.process.pid);
  const served = await firstAnswer(port, w.process.pid, t0);
  await new Promise((r) => { w.process.once('exit', r); w.process.kill('SIGKILL'); });
  return { ready: ready - t0, served: served - t0, cpu };
}

async function track(child, t0, port, isReady) {
  const exited = new Promise((r) => child.once('exit', r));
  const ready = await Promise.race([new Promise((r) => child.on('message', (m) => isReady(m) && r(U.now()))), exited.then(() => NaN)]);
  const cpu = cpuMs(child.pid);
  const served = await firstAnswer(port, child.pid, t0);
  child.kill('SIGKILL');
  await exited;
  return { ready: ready - t0, served: served - t0, cpu };
}

async function main() {
  const targets = {};
  const want = (o.targets || 'liege,bare,cluster').split(',');
  if (want.includes('liege')) targets.liege = liegeWorker(path.join(__dirname, '..', 'dist'));
  if (o.dist || o.flags) targets['liege-B'] = liegeWorker(path.resolve(o.dist || path.join(__dirname, '..', 'dist')), o.flags ? String(o.flags).split(',').map((f) => `--${f}`) : []);
  if (want.includes('bare')) targets.bare = bare;
  if (want.includes('cluster')) targets['node:cluster'] = clusterWorker;
  const port0 = +(o.port || 18950);
  const fds = {};
  const ports = {};
  Object.keys(targets).forEach((k, i) => {
    ports[k] = port0 + i;
    // the cluster primary binds its own port; the others share a socket no one here accepts on
    if (k !== 'node:cluster') fds[k] = native.listenTcp('127.0.0.1', ports[k], 511);
  });
  const res = Object.fromEntries(Object.keys(targets).map((k) => [k, { ready: [], served: [], cpu: [] }]));
  for (let r = 0; r < runs + 1; r++) {
    for (const k of Object.keys(targets).sort(() => Math.random() - 0.5)) {
      const x = await targets[k](ports[k], fds[k]);
      if (r === 0) continue; // warm-up round (page cache)
      for (const f of ['ready', 'served', 'cpu']) res[k][f].push(x[f]);
      await U.sleep(50);
    }
  }
  const base = res.bare ? 'bare' : Object.keys(res)[0];
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`worker spawn → ready / first answer, ${runs} interleaved runs, median ms (child CPU at ready: median, all threads); load ${load}`);
  console.log(`| target | ready | served | child CPU | served × ${base} |\n|---|---|---|---|---|`);
  for (const [k, v] of Object.entries(res)) {
    console.log(`| ${k} | ${U.fmt(U.median(v.ready))} | ${U.fmt(U.median(v.served))} | ${U.fmt(U.median(v.cpu))} | ${U.fmt(U.median(v.served) / U.median(res[base].served), 2)} |`);
  }
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
