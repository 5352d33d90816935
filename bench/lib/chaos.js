// A chaos run: a liege master under keep-alive load, with faults injected at
// seeded random moments, then a SIGTERM; every request's outcome is sorted
// into served, killed with its worker (a SIGKILL or harakiri while it was in
// flight there) and unexplained (a bug), and every fault is checked for its
// log line. Used by bench/chaos.js (long runs) and test/integration/chaos.test.ts.
'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { APPS, BROKEN } = require('./chaos-apps');
const { startLoad } = require('./chaos-load');
const { children, trackTree, nofile, lowestFreeFd } = require('./chaos-procs');

const LIEGE = path.resolve(__dirname, '..', '..', 'bin', 'liege');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded generator, so a run can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ['hup', 'hup-burst', 'touch-reload', 'touch-chain', 'kill-worker', 'stop-cont', 'spin', 'leak', 'broken-app', 'emfile'];

/** The liege command line of a run (its options are the faults' counterparts). */
function liegeArgs(port, dir, o) {
  return [
    '--master', '--processes', String(o.processes), '--http-socket', `127.0.0.1:${port}`,
    '--node-app', path.join(dir, 'app.js'),
    '--max-requests', String(o.maxRequests), '--max-requests-delta', String(o.maxRequestsDelta),
    '--min-worker-lifetime', '2', '--reload-on-rss', '160', '--harakiri', '3',
    '--spare-workers', '1', '--touch-reload', path.join(dir, 'reload'), '--touch-chain-reload', path.join(dir, 'chain'),
    '--disable-logging',
  ];
}

function bindable(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Runs one chaos run. Options: port, seed, durationMs, app (a key of APPS),
 * kinds (the faults to draw from; each is injected at least once), gapMs
 * [min, max] between faults, log (a line sink). Returns the report.
 */
async function runChaos(opts) {
  const o = { seed: 1, durationMs: 60_000, app: 'handler', kinds: KINDS, gapMs: [400, 1500], processes: 4, maxRequests: 400, maxRequestsDelta: 100, log: () => {}, ...opts };
  const { execa } = await import('execa');
  const rand = rng(o.seed);
  const pickOf = (xs) => xs[Math.floor(rand() * xs.length)];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-chaos-'));
  const appFile = path.join(dir, 'app.js');
  const good = APPS[o.app];
  fs.writeFileSync(appFile, good);
  for (const f of ['reload', 'chain']) fs.writeFileSync(path.join(dir, f), '');
  const t00 = Date.now();
  const at = (t = Date.now()) => `+${((t - t00) / 1000).toFixed(2)}s`;

  const master = execa(LIEGE, liegeArgs(o.port, dir, o), { detached: true, stdin: 'ignore', reject: false, buffer: false, env: { TEST_LIEGE: '1' } });
  const lines = [];
  let partial = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr']) {
    master[name].on('data', (d) => {
      const text = partial[name] + d;
      const parts = text.split('\n');
      partial[name] = parts.pop();
      for (const line of parts) lines.push({ t: Date.now(), line });
    });
  }
  let exited = null;
  master.then((r) => { exited = { t: Date.now(), code: r.exitCode, signal: r.signal }; });
  const tree = trackTree(master.pid);
  const events = [];
  const kills = []; // { t, pid, cause }
  const note = (kind, detail = {}, expect = []) => {
    const ev = { t: Date.now(), kind, ...detail, expect };
    events.push(ev);
    o.log(`${at(ev.t)} inject ${kind}${Object.entries(detail).map(([k, v]) => ` ${k}=${v}`).join('')}`);
    return ev;
  };
  // (a master that died is the report's to say, not an exception here)
  const toMaster = (sig) => { try { process.kill(master.pid, sig); } catch { /* gone */ } };
  const workers = () => children(master.pid);
  // the workers that accept now, as the master's log tells (not a spare
  // still waiting for a slot, not one that drains)
  const accepting = () => {
    const up = new Set();
    for (const { line } of lines) {
      const pid = Number(/\bpid=(\d+)/.exec(line)?.[1]);
      if (/master: (worker spawned|spare worker promoted) worker=\d+ pid=/.test(line)) up.add(pid);
      else if (/master: (worker draining|old worker gone|worker died|worker killed|WARN harakiri)/.test(line)) up.delete(pid);
    }
    return workers().filter((pid) => up.has(pid));
  };

  // first 200, every worker and the spare up
  for (let i = 0; ; i++) {
    if (exited || i > 300) throw new Error(`liege did not serve on ${o.port}: ${lines.map((l) => l.line).join('\n')}`);
    try { const r = await fetch(`http://127.0.0.1:${o.port}/`, { headers: { connection: 'close' } }); await r.text(); if (r.status === 200) break; } catch { /* not yet */ }
    await sleep(50);
  }
  await sleep(1500);
  o.log(`${at()} serving: master ${master.pid}, ${o.app} app, seed ${o.seed}, ${o.durationMs / 1000} s of faults`);

  const load = startLoad(o.port, { pick: () => (rand() < 0.2 ? '/slow' : '/') });
  const faults = [];
  const inject = {
    hup: () => { note('hup', {}, [/reload requested|reload .*merged|reload .*after/]); toMaster('SIGHUP'); },
    'hup-burst': async () => {
      const n = 3 + Math.floor(rand() * 4);
      note('hup-burst', { n }, [/reload requested/]);
      for (let i = 0; i < n; i++) { toMaster('SIGHUP'); await sleep(Math.floor(rand() * 30)); }
    },
    'touch-reload': () => { note('touch-reload', {}, [/touched file=.*reload command=reload/]); fs.utimesSync(path.join(dir, 'reload'), new Date(), new Date()); },
    'touch-chain': () => { note('touch-chain', {}, [/touched file=.*chain command=chain-reload/]); fs.utimesSync(path.join(dir, 'chain'), new Date(), new Date()); },
    'kill-worker': () => {
      const pid = pickOf(workers());
      if (!pid) return;
      note('kill-worker', { pid }, [new RegExp(`(died|gone|killed).*pid=${pid}\\b`)]);
      kills.push({ t: Date.now(), pid, cause: 'SIGKILL' });
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    },
    'stop-cont': async () => {
      const pid = pickOf(workers());
      if (!pid) return;
      // mostly shorter than harakiri; one in four longer: killed for its silence
      const ms = rand() < 0.25 ? 4500 + Math.floor(rand() * 1500) : 300 + Math.floor(rand() * 1200);
      note('stop-cont', { pid, ms }, ms > 4000 ? [new RegExp(`(harakiri: .*SIGKILL|gone|died|killed).*pid=${pid}\\b`)] : []);
      try { process.kill(pid, 'SIGSTOP'); } catch { return; }
      await sleep(ms);
      try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
    },
    spin: () => { note('spin', {}, [/harakiri: .*SIGKILL/]); faults.push(load.single('/spin')); },
    // on one keep-alive connection, so one worker grows past reload-on-rss
    leak: async () => {
      const ev = note('leak', { requests: 4 });
      const served = await load.series('/leak', 4);
      // the leaking worker's end is said: recycled for its RSS, or replaced
      // for another fault meanwhile
      const pid = served.find((r) => r.pid)?.pid;
      if (pid) ev.expect.push(new RegExp(`(recycling: reload-on-rss|worker draining|worker killed|worker died|old worker gone).*pid=${pid}\\b|pid=${pid}\\b.*(reload-on-rss|draining)`));
    },
    'broken-app': async () => {
      const how = rand() < 0.5 ? 'SIGHUP' : 'touch-chain';
      const ms = 1500 + Math.floor(rand() * 1500);
      note('broken-app', { via: how, ms }, [/LIEGE_ERR_APP_LOAD|chaos: broken on purpose/]);
      fs.writeFileSync(appFile, BROKEN);
      if (how === 'SIGHUP') toMaster('SIGHUP');
      else fs.utimesSync(path.join(dir, 'chain'), new Date(), new Date());
      await sleep(ms);
      fs.writeFileSync(appFile, good);
      note('fixed-app', {}, [/reload requested/]);
      toMaster('SIGHUP');
    },
    emfile: async () => {
      const pid = pickOf(accepting());
      if (!pid) return;
      let old, n;
      // room for one descriptor more: the next connection takes the last one
      try { old = nofile(pid); n = lowestFreeFd(pid) + 1; } catch { return; }
      const ms = 1000 + Math.floor(rand() * 2000);
      note('emfile', { pid, nofile: n, ms }, [new RegExp(`liege\\[${pid}\\] worker: WARN worker \\d+ is at its open file limit|(died|gone|killed).*pid=${pid}\\b`)]);
      await execa('prlimit', ['--pid', String(pid), `--nofile=${n}:${old[1]}`], { reject: false });
      await sleep(ms);
      await execa('prlimit', ['--pid', String(pid), `--nofile=${old[0]}:${old[1]}`], { reject: false });
    },
  };

  // every kind once in a shuffled order, then random ones until the time is up
  const plan = [...o.kinds].sort(() => rand() - 0.5);
  const end = Date.now() + o.durationMs;
  let pending = Promise.resolve();
  for (let i = 0; Date.now() < end || i < plan.length; i++) {
    if (exited) break;
    await sleep(o.gapMs[0] + Math.floor(rand() * (o.gapMs[1] - o.gapMs[0])));
    const kind = plan[i] ?? pickOf(o.kinds);
    // faults that take a while run beside the next ones, one of each at a time
    if (kind === 'broken-app' || kind === 'emfile' || kind === 'stop-cont' || kind === 'leak') {
      await pending;
      pending = Promise.resolve(inject[kind]()).catch((e) => o.log(`${at()} ${kind} failed: ${e.message}`));
    } else {
      await inject[kind]();
    }
  }
  await pending;
  await sleep(5000); // recoveries done: respawns, reloads, recyclings
  const survived = !exited;

  // the stop: no new request from here, the ones in flight must be answered
  const stopAt = note('sigterm', {}, [/graceful shutdown|stopping/i]);
  const stopping = load.stop();
  toMaster('SIGTERM');
  const deadline = Date.now() + 45_000;
  while (!exited && Date.now() < deadline) await sleep(20);
  if (!exited) { try { process.kill(-master.pid, 'SIGKILL'); } catch { /* gone */ } await master; }
  const requests = await stopping;
  await Promise.all(faults);
  tree.stop();
  const leftNow = tree.left();
  await sleep(1000);
  const leftLater = tree.left();
  for (const pid of leftLater) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  const portFree = await bindable(o.port);

  // kills liege made itself, from its log: harakiri, a mercy's SIGKILL …
  for (const { t, line } of lines) {
    const m = /SIGKILL.*\bpid=(\d+)/.exec(line);
    if (m && !/worker (killed|died)|old worker gone/.test(line)) kills.push({ t, pid: Number(m[1]), cause: /harakiri/.test(line) ? 'harakiri' : `liege: ${line.replace(/^.*master: /, '').slice(0, 60)}` });
  }
  const outcome = (r) => {
    if (r.ok) return 'ok';
    if (r.why === 'ECONNREFUSED') return 'unexplained';
    const near = kills.filter((k) => k.t >= r.t0 - 200 && k.t <= r.t1 + 1500);
    const k = near.find((k) => k.pid === r.knownPid) ?? (r.knownPid ? undefined : near.find((k) => k.cause === 'harakiri') ?? near[0]);
    return k ? `killed (${k.cause}${r.knownPid ? '' : ', fresh connection'})` : 'unexplained';
  };
  const byCause = {};
  const unexplained = [];
  for (const r of requests) {
    const c = outcome(r);
    const key = `${r.path} ${c}`;
    byCause[key] = (byCause[key] ?? 0) + 1;
    if (c === 'unexplained') unexplained.push({ ...r, at: at(r.t0), took: r.t1 - r.t0 });
  }
  const unlogged = [];
  for (const ev of events) {
    for (const re of ev.expect) {
      if (!lines.some((l) => l.t >= ev.t - 50 && l.t <= ev.t + 15_000 && re.test(l.line))) unlogged.push(`${at(ev.t)} ${ev.kind}: no line matching ${re}`);
    }
  }
  const injected = {};
  for (const ev of events) injected[ev.kind] = (injected[ev.kind] ?? 0) + 1;
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    seed: o.seed, app: o.app, master: master.pid,
    requests: requests.length, byCause, unexplained, injected, unlogged,
    survived, exit: exited, exitAt: exited ? at(exited.t) : undefined, stopMs: exited ? exited.t - stopAt.t : NaN,
    leftNow, leftLater, portFree, processesSeen: tree.seen.size,
    log: lines.map((l) => `${at(l.t)} ${l.line}`),
    events: events.map((e) => `${at(e.t)} ${e.kind}`),
  };
}

module.exports = { runChaos, KINDS, liegeArgs };
