#!/usr/bin/env node
// Failover of the etcd emperor: a real 3-member etcd cluster on loopback,
// 3 emperors (bin/liege) sharing 12 light vassals (`attach-daemon = sleep N`);
// each round SIGKILLs the emperor running the most vassals and times how long
// until every one of its vassals runs again under another emperor (read from
// /proc) — and, apart, until etcd shows them all claimed by the others —
// then starts a replacement emperor. Prints the median and max per TTL. Usage: node bench/etcd-failover.js [ROUNDS=5] [TTL…=10 3]
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const LIEGE = path.join(ROOT, 'bin', 'liege');
const ROUNDS = Number(process.argv[2] ?? 5);
const TTLS = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [10, 3];
const VASSALS = 12;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function until(f, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

/** sleep N → [{pid, emperor}] for the given Ns, emperor = the ancestor among `emperors`. */
function copies(wanted, emperors) {
  const all = new Map();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
      all.set(Number(p), { ppid, argv });
    } catch { /* exited */ }
  }
  const out = new Map();
  for (const [pid, p] of all) {
    if (p.argv.length !== 2 || !p.argv[0].endsWith('sleep') || !wanted.has(Number(p.argv[1]))) continue;
    let up = p.ppid;
    while (up > 1 && !emperors.includes(up)) up = all.get(up)?.ppid ?? 0;
    const l = out.get(Number(p.argv[1])) ?? [];
    l.push({ pid, emperor: emperors.includes(up) ? up : undefined });
    out.set(Number(p.argv[1]), l);
  }
  return out;
}

async function run(ttl, dir) {
  const members = [];
  for (let i = 0; i < 3; i++) members.push({ name: `m${i}`, client: await freePort(), peer: await freePort() });
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const procs = [];
  for (const m of members) {
    procs.push(spawn('etcd', ['--name', m.name, '--data-dir', path.join(dir, `${ttl}-${m.name}`),
      '--listen-client-urls', `http://127.0.0.1:${m.client}`, '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-cluster', initial, '--initial-cluster-token', `bench-${process.pid}-${ttl}`, '--log-level', 'error', '--logger', 'zap'], { stdio: 'ignore' }));
  }
  const endpoints = members.map((m) => `127.0.0.1:${m.client}`).join(',');
  const ctl = (...a) => execFileSync('etcdctl', ['--endpoints', endpoints, ...a], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  await until(() => { try { ctl('put', '/bench', 'x'); return true; } catch { return false; } }, 30_000);
  const emperors = [];
  let n = 0;
  const start = () => {
    const p = spawn(LIEGE, ['--emperor', `etcd://${endpoints}/b`, '--emperor-etcd-ttl', String(ttl), '--emperor-etcd-id', `e${++n}`], { stdio: 'ignore', detached: true });
    emperors.push(p);
    return p;
  };
  const base = 800_000 + (process.pid % 1000) * 100 + ttl;
  const wanted = new Set();
  const times = [];
  const claims = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const client = new (require('etcd3').Etcd3)({ hosts: members.map((m) => `http://127.0.0.1:${m.client}`) });
  try {
    for (let i = 0; i < 3; i++) start();
    await until(() => ctl('get', '--prefix', '--keys-only', 'b/emperors/').split('\n').filter(Boolean).length === 3, 30_000);
    for (let i = 0; i < VASSALS; i++) {
      wanted.add(base + i * 1000);
      ctl('put', `b/vassals/v${i}`, `[uwsgi]\nattach-daemon = sleep ${base + i * 1000}\n`);
    }
    const live = () => emperors.filter((p) => p.exitCode === null && p.signalCode === null).map((p) => p.pid);
    const settled = () => { const c = copies(wanted, live()); return [...wanted].every((w) => c.get(w)?.length === 1 && c.get(w)[0].emperor) ? c : undefined; };
    for (let r = 0; r < ROUNDS; r++) {
      const c = await until(settled, 60_000);
      await sleep(1000); // let the replacement's claims settle
      const counts = new Map();
      for (const l of c.values()) counts.set(l[0].emperor, (counts.get(l[0].emperor) ?? 0) + 1);
      const victim = [...counts].sort((a, b) => b[1] - a[1])[0][0];
      const moved = [...c].filter(([, l]) => l[0].emperor === victim).map(([w]) => w);
      const victimId = JSON.parse(ctl('get', '--prefix', 'b/emperors/', '-w', 'json')).kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString().slice('b/emperors/'.length), JSON.parse(Buffer.from(kv.value, 'base64').toString()).pid]).find(([, pid]) => pid === victim)[0];
      const t0 = Date.now();
      process.kill(victim, 'SIGKILL');
      // claimed: no owner key of the victim left, every vassal owned again
      let claimedAt = 0;
      const watchClaims = (async () => {
        for (;;) {
          const res = await client.getAll().prefix('b/owners/').strings();
          const owners = Object.values(res);
          if (owners.length === VASSALS && !owners.includes(victimId)) { claimedAt = Date.now(); return; }
          await sleep(20);
        }
      })();
      await until(() => { const x = copies(wanted, live()); return moved.every((w) => x.get(w)?.length === 1 && x.get(w)[0].emperor && x.get(w)[0].emperor !== victim); }, 60_000);
      await watchClaims;
      times.push(Date.now() - t0);
      claims.push(claimedAt - t0);
      console.error(`ttl ${ttl}s round ${r + 1}: ${moved.length} vassals claimed in ${claimedAt - t0} ms, running in ${Date.now() - t0} ms`);
      start();
    }
  } finally {
    for (const p of emperors) { try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const l of copies(wanted, []).values()) for (const x of l) { try { process.kill(x.pid, 'SIGKILL'); } catch { /* gone */ } }
    client.close();
    for (const p of procs) p.kill('SIGKILL');
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { ttl, claimMedian: med(claims), claimMax: Math.max(...claims), median: med(times), max: Math.max(...times), all: times, claims };
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-bench-etcd-'));
  try {
    console.log('| TTL s | target (TTL + 1 s) | claimed: median ms | claimed: max ms | running: median ms | running: max ms | each kill (claimed / running) ms |');
    console.log('|---|---|---|---|---|---|---|');
    for (const ttl of TTLS) {
      const r = await run(ttl, dir);
      console.log(`| ${r.ttl} | ${(r.ttl + 1) * 1000} | ${r.claimMedian} | ${r.claimMax} | ${r.median} | ${r.max} | ${r.claims.map((c, i) => `${c} / ${r.all[i]}`).join(', ')} |`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((e) => { console.error(e); process.exit(1); });
