#!/usr/bin/env node
'use strict';
// Where a respawn's time goes after a worker SIGKILL (bench/README.md,
// session 14): when the new worker exists, when it polls the listening
// socket (its epoll set lists the socket's fd in /proc/PID/fdinfo: it
// could accept now), and when it answers its first request (a GET on a
// fresh connection every ~2 ms, as ../shared/bench/03-respawn.js), with the
// count of answers the other workers gave meanwhile (accept races lost).
// liege's workers get the listening socket as fd 4; node:cluster's primary
// deals connections, so only its first answer is shown.
//
//   node bench/respawn-race.js [--targets liege,cluster] [--kills 8] [--workers 4]
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const U = require('../../shared/bench/lib/util');

const o = U.args();
const kills = +(o.kills || 8);
const workers = +(o.workers || 4);
const LIEGE = path.resolve(__dirname, '..', 'bin', 'liege');
const HELLO = path.join(U.BENCH, 'apps', 'hello.js');
const LISTEN_FD = 4;

function children(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
  } catch (_) {
    return [];
  }
}

// does an epoll set of `pid` watch `fd`?
function polls(pid, fd) {
  const line = new RegExp(`^tfd: +${fd} `, 'm');
  try {
    return fs.readdirSync(`/proc/${pid}/fdinfo`).some((f) => line.test(fs.readFileSync(`/proc/${pid}/fdinfo/${f}`, 'utf8')));
  } catch (_) {
    return false;
  }
}

async function measure(name, port) {
  const argv = name === 'cluster'
    ? [process.execPath, path.join(U.BENCH, 'apps', 'cluster.js')]
    : [LIEGE, '--master', '--processes', String(workers), '--http-socket', `127.0.0.1:${port}`, '--node-app', HELLO, '--disable-logging'];
  const master = spawn(argv[0], argv.slice(1), { env: { ...process.env, PORT: String(port), WORKERS: String(workers) }, stdio: 'ignore' });
  const rows = [];
  try {
    await U.waitHttp200(port);
    await U.sleep(2500);
    for (let i = 0; i < kills; i++) {
      const before = children(master.pid);
      const t0 = U.now();
      process.kill(before[i % before.length], 'SIGKILL');
      let fresh;
      while (!(fresh = children(master.pid).find((p) => !before.includes(p)))) await U.sleep(1);
      const row = { spawn: U.now() - t0, polls: NaN, served: NaN, others: 0 };
      for (;;) {
        if (name !== 'cluster' && Number.isNaN(row.polls) && polls(fresh, LISTEN_FD)) row.polls = U.now() - t0;
        const r = await U.get(port, { timeout: 500 }).catch(() => undefined);
        if (r && r.pid === String(fresh)) break;
        if (r) row.others++;
        await U.sleep(2);
      }
      row.served = U.now() - t0;
      rows.push(row);
      process.stderr.write(`${name} kill ${i + 1}/${kills}: spawn ${U.fmt(row.spawn)} polls ${U.fmt(row.polls)} served ${U.fmt(row.served)} ms, ${row.others} answers by others\n`);
      await U.sleep(2500 + Math.random() * 1000);
    }
  } finally {
    master.kill('SIGINT');
    await new Promise((r) => (master.exitCode !== null ? r() : master.once('exit', r)));
  }
  return rows;
}

async function main() {
  const names = (o.targets || 'liege,cluster').split(',');
  console.log(`After a worker SIGKILL, ms (answers: a count), median (min–max) over ${kills} kills, ${workers} workers`);
  console.log('| target | new child exists | polls the socket | first answer | answers by the others |');
  console.log('|---|---|---|---|---|');
  for (const [i, name] of names.entries()) {
    const rows = await measure(name, 18620 + i);
    const col = (k) => {
      const s = U.stats(rows.map((r) => r[k]).filter((v) => !Number.isNaN(v)));
      return s.n ? `${U.fmt(s.median)} (${U.fmt(s.min)}–${U.fmt(s.max)})` : '–';
    };
    console.log(`| ${name} | ${col('spawn')} | ${col('polls')} | ${col('served')} | ${col('others')} |`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
