#!/usr/bin/env node
'use strict';
// The master's memory over a day of recycling, compressed: liege with
// `max-requests 1` (every worker is replaced after one request, gracefully)
// under a small request loop, beside a node:cluster primary that replaces
// a worker as soon as it served (a SIGKILL and a fork, its cheapest way),
// side by side for the same time. Reports each master's RssAnon (its own
// memory, not the shared pages of the node binary) at the start and every
// 20 s, with the workers started so far. A master that keeps the garbage of
// its respawns grows with them; a bounded one levels off.
//
//   node bench/master-churn.js [--seconds 160]
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');
const U = require('../../shared/bench/lib/util');

const LIEGE = path.resolve(__dirname, '..', 'bin', 'liege');
const HELLO = path.resolve(__dirname, '..', '..', 'shared', 'bench', 'apps', 'hello.js');
const o = U.args();
const seconds = +(o.seconds || 160);

// a node:cluster primary that replaces each worker once it answered once
const PRIMARY = `
const cluster = require('cluster');
cluster.setupPrimary({ exec: ${JSON.stringify(HELLO)} });
let started = 0;
const fork = () => { started++; cluster.fork({ PORT: process.env.PORT }); };
cluster.on('message', () => {});
cluster.on('exit', () => fork());
setInterval(() => process.stdout.write(started + '\\n'), 1000);
fork(); fork();
`;

const anon = (pid) => Number(/RssAnon:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

function loop(port, stop, onAnswer) {
  const one = () => {
    if (stop.done) return;
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => { onAnswer(res.headers['x-pid']); setTimeout(one, 5); });
    });
    req.on('error', () => setTimeout(one, 20));
  };
  one();
}

async function main() {
  const [lp, cp] = [18750, 18751];
  const liege = spawn(LIEGE, ['--master', '--processes', '2', '--http-socket', `127.0.0.1:${lp}`, '--node-app', HELLO, '--disable-logging', '--max-requests', '1', '--min-worker-lifetime', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let liegeStarted = 0;
  liege.stderr.on('data', (d) => { liegeStarted += (String(d).match(/worker spawned/g) || []).length; });
  const primary = spawn(process.execPath, ['-e', PRIMARY], { env: { ...process.env, PORT: String(cp) }, stdio: ['ignore', 'pipe', 'ignore'] });
  let clusterStarted = 0;
  primary.stdout.on('data', (d) => { clusterStarted = Number(String(d).trim().split('\n').pop()); });
  await U.sleep(1500);
  const stop = { done: false };
  // node:cluster: the worker that answered is replaced (SIGKILL, then the exit forks)
  const killed = new Set();
  for (let i = 0; i < 3; i++) {
    loop(lp, stop, () => undefined);
    loop(cp, stop, (pid) => {
      if (!pid || killed.has(pid)) return;
      killed.add(pid);
      try { process.kill(Number(pid), 'SIGKILL'); } catch (_) {}
    });
  }
  const rows = [['0', liegeStarted, anon(liege.pid), clusterStarted, anon(primary.pid)]];
  for (let t = 20; t <= seconds; t += 20) {
    await U.sleep(20_000);
    rows.push([String(t), liegeStarted, anon(liege.pid), clusterStarted, anon(primary.pid)]);
    process.stderr.write(`${rows[rows.length - 1].join(' ')}\n`);
  }
  stop.done = true;
  liege.kill('SIGTERM');
  primary.kill('SIGTERM');
  console.log('\nMaster RssAnon (KiB) while every worker is replaced after one request');
  console.log('| s | liege workers started | liege master RssAnon | node:cluster workers started | node:cluster primary RssAnon |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  await U.sleep(3000);
}

main().catch((e) => { console.error(e); process.exit(1); });
