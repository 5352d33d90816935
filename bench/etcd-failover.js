#!/usr/bin/env node
// Failover of the etcd emperor: a real 3-member etcd cluster on loopback,
// 3 emperors (bin/liege) sharing 12 light vassals (`attach-daemon = sleep N`);
// each round SIGKILLs the emperor running the most vassals and times how long
// until etcd shows them all claimed by the others, until the emperors log
// them spawned, and until every one runs again under another emperor (read
// from /proc); then starts a replacement emperor. Then as many rounds
// SIGSTOP the busiest emperor instead: its vassals fence themselves (gone),
// run elsewhere, the longest time any ran twice is sampled, and once thawed
// it must start no duplicate. Prints the median and max per TTL.
// Usage: node bench/etcd-failover.js [ROUNDS=5] [TTL…=10 3]
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const readline = require('readline');

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
  const logs = []; // { t, line } of every emperor's (and its vassals') stderr
  let n = 0;
  const start = () => {
    const p = spawn(LIEGE, ['--emperor', `etcd://${endpoints}/b`, '--emperor-etcd-ttl', String(ttl), '--emperor-etcd-id', `e${++n}`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    readline.createInterface({ input: p.stderr }).on('line', (line) => logs.push({ t: Date.now(), line }));
    emperors.push(p);
    return p;
  };
  const base = 800_000 + (process.pid % 1000) * 100 + ttl;
  const wanted = new Set();
  const kills = [];
  const stops = [];
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
    // the last "vassal spawned" of these vassals after t0 (from the emperors' logs)
    const spawnedAt = (moved, t0) => Math.max(...moved.map((w) => {
      const re = new RegExp(`vassal spawned vassal=etcd:v${(w - base) / 1000} `);
      return logs.find((x) => x.t >= t0 && re.test(x.line))?.t ?? NaN;
    }));
    for (let r = 0; r < 2 * ROUNDS; r++) {
      const freeze = r >= ROUNDS; // the second half: SIGSTOP instead of SIGKILL
      const c = await until(settled, 60_000);
      await sleep(1000); // let the replacement's claims settle
      const counts = new Map();
      for (const l of c.values()) counts.set(l[0].emperor, (counts.get(l[0].emperor) ?? 0) + 1);
      const victim = [...counts].sort((a, b) => b[1] - a[1])[0][0];
      const moved = [...c].filter(([, l]) => l[0].emperor === victim).map(([w]) => w);
      const victimId = JSON.parse(ctl('get', '--prefix', 'b/emperors/', '-w', 'json')).kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString().slice('b/emperors/'.length), JSON.parse(Buffer.from(kv.value, 'base64').toString()).pid]).find(([, pid]) => pid === victim)[0];
      const t0 = Date.now();
      process.kill(victim, freeze ? 'SIGSTOP' : 'SIGKILL');
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
      // /proc every 20 ms: when the victim's copies are gone (a frozen
      // emperor's vassals fence themselves), when the new ones run, and the
      // longest time any vassal ran twice
      let goneAt = 0;
      let twiceSince = 0;
      let overlap = 0;
      await until(() => {
        const x = copies(wanted, live());
        const now = Date.now();
        const twice = moved.some((w) => (x.get(w)?.length ?? 0) > 1);
        if (twice) { twiceSince ||= now; overlap = Math.max(overlap, now - twiceSince); } else twiceSince = 0;
        if (!goneAt && moved.every((w) => !(x.get(w) ?? []).some((k) => k.emperor === victim))) goneAt = now;
        return goneAt && moved.every((w) => x.get(w)?.length === 1 && x.get(w)[0].emperor && x.get(w)[0].emperor !== victim);
      }, 60_000);
      const running = Date.now() - t0;
      await watchClaims;
      const row = { moved: moved.length, claimed: claimedAt - t0, spawned: spawnedAt(moved, t0) - t0, running, gone: goneAt - t0, overlap };
      (freeze ? stops : kills).push(row);
      console.error(`ttl ${ttl}s ${freeze ? 'SIGSTOP' : 'SIGKILL'} ${(r % ROUNDS) + 1}: ${row.moved} vassals, claimed ${row.claimed} ms, spawned ${row.spawned} ms, running ${row.running} ms${freeze ? `, old copies gone ${row.gone} ms, longest overlap ${row.overlap} ms` : ''}`);
      if (freeze) {
        // thawed, it must not start a copy again: give it a TTL, then retire it
        process.kill(victim, 'SIGCONT');
        await sleep(ttl * 1000);
        const x = copies(wanted, live());
        const dup = [...wanted].filter((w) => (x.get(w)?.length ?? 0) > 1);
        if (dup.length) console.error(`ttl ${ttl}s: DUPLICATES after SIGCONT: ${dup.join(' ')}`);
        try { process.kill(-victim, 'SIGKILL'); } catch { /* gone */ }
      }
      start();
    }
  } finally {
    for (const p of emperors) { try { process.kill(-p.pid, 'SIGCONT'); process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const l of copies(wanted, []).values()) for (const x of l) { try { process.kill(x.pid, 'SIGKILL'); } catch { /* gone */ } }
    client.close();
    for (const p of procs) p.kill('SIGKILL');
  }
  return { ttl, kills, stops };
}

const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const col = (rows, k) => `${med(rows.map((r) => r[k]))} / ${Math.max(...rows.map((r) => r[k]))}`;

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-bench-etcd-'));
  try {
    const out = [];
    for (const ttl of TTLS) out.push(await run(ttl, dir));
    console.log('SIGKILL of the busiest emperor (median / max ms from the kill):\n');
    console.log('| TTL s | target (TTL + 1 s) | claimed | spawned | running | each kill: claimed / spawned / running |');
    console.log('|---|---|---|---|---|---|');
    for (const r of out) console.log(`| ${r.ttl} | ${(r.ttl + 1) * 1000} | ${col(r.kills, 'claimed')} | ${col(r.kills, 'spawned')} | ${col(r.kills, 'running')} | ${r.kills.map((k) => `${k.claimed} / ${k.spawned} / ${k.running}`).join(', ')} |`);
    console.log('\nSIGSTOP of the busiest emperor (median / max ms from the stop):\n');
    console.log('| TTL s | its copies gone (fenced) | claimed | running elsewhere | longest overlap | each stop: gone / running |');
    console.log('|---|---|---|---|---|---|');
    for (const r of out) console.log(`| ${r.ttl} | ${col(r.stops, 'gone')} | ${col(r.stops, 'claimed')} | ${col(r.stops, 'running')} | ${Math.max(...r.stops.map((k) => k.overlap))} | ${r.stops.map((k) => `${k.gone} / ${k.running}`).join(', ')} |`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((e) => { console.error(e); process.exit(1); });
