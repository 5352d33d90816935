#!/usr/bin/env node
'use strict';
// Worker SIGKILL → serving again, with and without warm spares
// (`spare-workers`), beside node:cluster in the same run. The shared
// 03-respawn.js waits for a *new child* of the master to answer; with a
// spare the worker that takes over already existed (and the child that
// appears is the next spare), so this bench defines "serving again" without
// the process tree: before each kill, fresh GETs find the N pids that serve;
// one of them is SIGKILLed; then a GET every 2 ms (fresh connection, as in
// 03-respawn.js) until one is answered by a pid that was not serving before.
// Targets are interleaved kill by kill (all instances run side by side on
// their own ports), so load drift on a shared machine hits all alike.
//
//   node bench/respawn.js [--kills 8] [--workers 4] [--gap 1500] [--spares 1]
const path = require('path');
const U = require('../../shared/bench/lib/util');
const { getTarget, Instance } = require('../../shared/bench/lib/targets');

const LIEGE = path.resolve(__dirname, '..', 'bin', 'liege');
const o = U.args();
const workers = +(o.workers || 4);
const kills = +(o.kills || 8);
const gap = +(o.gap || 1500);
const spares = +(o.spares || 1);
const cmd = `${LIEGE} --master --processes {WORKERS} --http-socket 127.0.0.1:{PORT} --node-app {BENCH}/apps/hello.js --disable-logging`;
const targets = [
  ['node-cluster', getTarget('node-cluster', o)],
  ['liege', { ...getTarget('custom', { cmd }), name: 'liege' }],
  [`liege spare-workers=${spares}`, { ...getTarget('custom', { cmd: `${cmd} --spare-workers ${spares}` }), name: 'liege-spare' }],
];

/** The pids that answer fresh GETs (until `n` distinct, or 3 s). */
async function serving(port, n) {
  const seen = new Set();
  const end = U.now() + 3000;
  while (seen.size < n && U.now() < end) {
    try { const r = await U.get(port, { timeout: 500 }); if (r.status === 200) seen.add(Number(r.pid)); } catch (_) {}
  }
  return [...seen];
}

async function servedByNew(port, before, deadline) {
  while (U.now() < deadline) {
    try { const r = await U.get(port, { timeout: 500 }); if (r.status === 200 && !before.includes(Number(r.pid))) return U.now(); } catch (_) {}
    await U.sleep(2);
  }
  return NaN;
}

async function main() {
  const port0 = +(o.port || 18900);
  const runs = targets.map(([label, t], i) => ({ label, inst: new Instance(t, { port: port0 + i, workers }), samples: [] }));
  for (const r of runs) {
    await r.inst.prepare();
    r.inst.launch();
    await r.inst.waitReady();
  }
  await U.sleep(3000); // spares ready, every worker up
  try {
    for (let k = 0; k < kills; k++) {
      for (const r of runs) {
        const before = await serving(r.inst.port, workers);
        const victim = before[k % before.length];
        const t0 = U.now();
        process.kill(victim, 'SIGKILL');
        const t = await servedByNew(r.inst.port, before, t0 + 15000);
        r.samples.push(t - t0);
        process.stderr.write(`${r.label} kill ${k + 1}/${kills}: ${victim} → serving again in ${U.fmt(t - t0)} ms\n`);
        await U.sleep(gap + Math.random() * 1000);
      }
    }
  } finally {
    for (const r of runs) await r.inst.stop();
  }
  const base = U.median(runs[0].samples);
  console.log(`\nWorker SIGKILL → a pid that was not serving answers (ms), ${workers} workers, ${kills} kills each; ratio = median / node-cluster`);
  console.log('| target | median | min–max | ratio |\n|---|---|---|---|');
  for (const r of runs) {
    const s = U.stats(r.samples);
    console.log(`| ${r.label} | ${U.fmt(s.median)} | ${U.fmt(s.min)}–${U.fmt(s.max)} | ${U.fmt(s.median / base, 2)} |`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
