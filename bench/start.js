#!/usr/bin/env node
'use strict';
// Start → first 200 and start → all workers answered (as the shared
// 02-start-to-ready.js measures them), this tree beside node:cluster and,
// with --before DIR (and --variant DIR), other liege trees in the same run,
// interleaved run by run in a shuffled order so load drift on a shared
// machine hits every target alike. The command, absolute path.
//
//   node bench/start.js [--runs 8] [--workers 4] [--before DIR] [--variant DIR]
const path = require('path');
const fs = require('fs');
const U = require('../../shared/bench/lib/util');
const { getTarget, Instance } = require('../../shared/bench/lib/targets');

const o = U.args();
const runs = +(o.runs || 8);
const workers = +(o.workers || 4);
const port = +(o.port || 18920);
const cmd = (root) => `${path.join(root, 'bin', 'liege')} --master --processes {WORKERS} --http-socket 127.0.0.1:{PORT} --node-app {BENCH}/apps/hello.js --disable-logging`;
const targets = [['liege', { ...getTarget('custom', { cmd: cmd(path.resolve(__dirname, '..')) }), name: 'liege' }]];
if (o.before) targets.push(['liege before', { ...getTarget('custom', { cmd: cmd(path.resolve(o.before)) }), name: 'liege-before' }]);
if (o.variant) targets.push(['liege variant', { ...getTarget('custom', { cmd: cmd(path.resolve(o.variant)) }), name: 'liege-variant' }]);
targets.push(['node:cluster', getTarget('node-cluster', o)]);

async function distinct(n, t0) {
  const seen = new Set();
  while (U.now() - t0 < 5000) {
    try { const r = await U.get(port, { timeout: 500 }); if (r.status === 200 && r.pid) seen.add(r.pid); } catch (_) {}
    if (seen.size >= n) return U.now();
    await U.sleep(1);
  }
  return NaN;
}

async function main() {
  const res = Object.fromEntries(targets.map(([k]) => [k, { first: [], all: [] }]));
  const loads = [];
  for (let r = 0; r < runs; r++) {
    for (const [k, t] of [...targets].sort(() => Math.random() - 0.5)) {
      const inst = new Instance(t, { port, workers });
      await inst.prepare();
      await U.sleep(300);
      loads.push(+fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
      const t0 = inst.launch();
      let first = NaN;
      let all = NaN;
      try {
        first = (await inst.waitReady()) - t0;
        all = (await distinct(workers, t0)) - t0;
      } catch (e) { console.error(`${k} run ${r}: ${e.message}`); }
      const left = await inst.stop();
      if (left.length) console.error(`${k}: had to SIGKILL leftovers ${left}`);
      await U.waitPortFree(port);
      res[k].first.push(first);
      res[k].all.push(all);
      process.stderr.write(`run ${r + 1}/${runs} ${k}: first 200 ${U.fmt(first)} ms, all ${workers} ${U.fmt(all)} ms\n`);
    }
  }
  const base = res['node:cluster'];
  console.log(`start → first 200 / all ${workers} workers answered, ${runs} interleaved runs, median ms (min–max); load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
  console.log('| target | first 200 | ratio | all answered | ratio |\n|---|---|---|---|---|');
  for (const [k, v] of Object.entries(res)) {
    const f = U.stats(v.first);
    const a = U.stats(v.all);
    console.log(`| ${k} | ${U.fmt(f.median)} (${U.fmt(f.min)}–${U.fmt(f.max)}) | ${U.fmt(f.median / U.median(base.first), 2)} | ${U.fmt(a.median)} (${U.fmt(a.min)}–${U.fmt(a.max)}) | ${U.fmt(a.median / U.median(base.all), 2)} |`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
