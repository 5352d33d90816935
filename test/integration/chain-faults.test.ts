// Chain reload (fifo c, --chain-reload PIDFILE) under keep-alive load, with
// faults at bad moments: SIGKILL of the worker the chain replaces, of its
// replacement before it accepts, of a worker the chain has not reached yet,
// and another reload (chain, workers, graceful) asked while it runs; with and
// without a spare; with max-requests recycling all the time.
// What must hold, read from the master's log and its stats:
// * the reload ends ("reload done");
// * every slot ends with a worker started after the last reload request;
// * a reload never replaces a worker started after its request: a slot
//   respawned meanwhile (SIGKILL, crash) already runs the new code and counts
//   as done, so no slot is replaced twice;
// * no failed request when no worker is killed; the master survives the
//   faults and leaves no process behind.
// CHAIN_FAULT_RUNS=N runs every case N times (failure rates).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, FIXTURES, freePort, get, killGroup, processes, scratch, startLiege, statsAt, until } from './helpers';
import { startLoad, type Load } from './load';

const started: ResultPromise[] = [];
const loads: Load[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) killGroup(p);
  await Promise.all(loads.splice(0).map((l) => l.stop()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WORKERS = 3;

interface Stats {
  workers: Array<{ id: number; pid: number; status: string }>;
}

/** What the master's log says, line by line. */
type Seen =
  | { kind: 'request' } // a chain, workers or graceful reload asked
  | { kind: 'spawned'; worker: number; pid: number }
  | { kind: 'draining'; worker: number; pid: number; reason: string } // (recycling: reason max-requests …)
  | { kind: 'done'; line: string };

function parse(line: string): Seen | undefined {
  if (/(chain reload|workers reload|graceful reload) requested/.test(line)) return { kind: 'request' };
  // (a spare: worker 0 until promoted)
  let m = /master: (?:spare )?worker spawned (?:worker=(\d+) )?pid=(\d+)/.exec(line);
  if (m) return { kind: 'spawned', worker: Number(m[1] ?? 0), pid: Number(m[2]) };
  m = /master: worker draining worker=(\d+) pid=(\d+) reason="([^"]*)"/.exec(line);
  if (m) return { kind: 'draining', worker: Number(m[1]), pid: Number(m[2]), reason: m[3]! };
  if (/reload done/.test(line)) return { kind: 'done', line };
  return undefined;
}

/** An O_NONBLOCK write of a fifo command. */
function write(fifo: string, text: string): void {
  const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

/** One running instance, its log parsed as it comes. */
interface Run {
  p: ResultPromise;
  port: number;
  fifo: string;
  pidfile: string;
  stats: string;
  seen: Seen[];
  log: () => string;
  on: (f: (s: Seen) => void) => void;
}

async function serve(extra: string[]): Promise<Run> {
  const dir = scratch();
  const fifo = path.join(dir, 'fifo');
  const pidfile = path.join(dir, 'pid');
  const stats = path.join(dir, 'stats.sock');
  const port = await freePort();
  const p = startLiege(['--master', '-p', String(WORKERS), '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--master-fifo', fifo, '--pidfile', pidfile, '--stats', stats, '--disable-logging', ...extra]);
  started.push(p);
  const seen: Seen[] = [];
  const listeners: Array<(s: Seen) => void> = [];
  let err = '';
  let rest = '';
  p.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      const s = parse(line);
      if (!s) continue;
      seen.push(s);
      for (const f of listeners) f(s);
    }
  });
  await until(() => get(port));
  await until(async () => ((await statsAt<Stats>(stats))?.workers.every((w) => w.pid > 0 && w.status !== 'starting') ? true : undefined), 20_000);
  if (extra.includes('--spare-workers')) await until(async () => ((await statsAt<{ spares: Array<{ status: string }> }>(stats))?.spares[0]?.status === 'ready' ? true : undefined), 20_000);
  return { p, port, fifo, pidfile, stats, seen, log: () => err, on: (f) => listeners.push(f) };
}

/** What a case does when the chain spawns slot `at`'s replacement (the
 * first worker spawned for that slot after the request). */
interface Fault {
  at: number;
  act: (r: Run, spawned: number, before: Map<number, number>) => void;
}

interface Case {
  name: string;
  extra?: string[];
  trigger?: (r: Run) => void; // the chain reload (default: fifo c)
  walk?: RegExp; // the done line of the reload it triggers (default: the chain's)
  ends?: RegExp; // the done line of the last reload (default: walk)
  fault?: Fault;
  kills?: boolean; // a worker is SIGKILLed: its connections may fail
  recycles?: boolean; // max-requests recycles a worker the chain started, while it runs
}

const kill = (pid: number | undefined, sig: NodeJS.Signals = 'SIGKILL') => {
  try {
    if (pid) process.kill(pid, sig);
  } catch { /* gone */ }
};
/** `f` after 0–400 ms: a boot is some 100s of ms, so sometimes before the
 * replacement accepts, sometimes just after. */
const soon = (f: () => void) => void setTimeout(f, Math.random() * 400);

/** The last worker the master started for slot `id`. */
const lastOf = (r: Run, id: number) => r.seen.flatMap((s) => (s.kind === 'spawned' && s.worker === id ? [s.pid] : [])).pop();
const workersReload = (r: Run) => write(r.fifo, 'w');

const CASES: Case[] = [
  { name: 'no fault (--chain-reload PIDFILE)', trigger: (r) => void started.push(startLiege(['--chain-reload', r.pidfile])) },
  { name: 'SIGKILL of the worker being replaced', fault: { at: 2, act: (_r, _s, before) => kill(before.get(2)) }, kills: true },
  { name: 'SIGKILL of the replacement before it accepts', fault: { at: 2, act: (_r, spawned) => kill(spawned) }, kills: true },
  { name: 'SIGKILL of the worker being replaced, 0–400 ms later', fault: { at: 2, act: (_r, _s, before) => soon(() => kill(before.get(2))) }, kills: true },
  { name: 'SIGKILL of the replacement, 0–400 ms later', fault: { at: 2, act: (_r, spawned) => soon(() => kill(spawned)) }, kills: true },
  { name: 'a crash (SIGSEGV) of a worker not reached yet, 0–400 ms later', fault: { at: 1, act: (_r, _s, before) => soon(() => kill(before.get(3), 'SIGSEGV')) }, kills: true },
  { name: 'SIGKILL of a worker not reached yet', fault: { at: 1, act: (_r, _s, before) => kill(before.get(3)) }, kills: true },
  { name: 'SIGKILL of the next worker as the chain nears it', fault: { at: 2, act: (_r, _s, before) => kill(before.get(3)) }, kills: true },
  { name: 'SIGKILL of a worker the chain already replaced', fault: { at: 3, act: (r) => kill(lastOf(r, 1)) }, kills: true },
  { name: 'the master stopped (SIGSTOP) for 1.5 s while it runs', fault: { at: 2, act: (r) => { kill(r.p.pid!, 'SIGSTOP'); setTimeout(() => kill(r.p.pid!, 'SIGCONT'), 1500); } } },
  { name: 'a second chain reload while it runs', fault: { at: 2, act: (r) => write(r.fifo, 'c') } },
  { name: 'a graceful reload (SIGHUP) while it runs', fault: { at: 2, act: (r) => process.kill(r.p.pid!, 'SIGHUP') }, ends: /master: reload done/ },
  { name: 'a workers reload (fifo w) while it runs', fault: { at: 2, act: workersReload }, walk: /workers reload done/ },
  { name: 'max-requests recycling all the time', extra: ['--max-requests', '25', '--min-worker-lifetime', '0'], recycles: true },
  { name: 'spare: no fault', extra: ['--spare-workers', '1'] },
  { name: 'spare: SIGKILL of a worker not reached yet', extra: ['--spare-workers', '1'], fault: { at: 1, act: (_r, _s, before) => kill(before.get(3)) }, kills: true },
  { name: 'spare: SIGKILL of the replacement before it accepts', extra: ['--spare-workers', '1'], fault: { at: 2, act: (_r, spawned) => kill(spawned) }, kills: true },
  { name: 'spare + max-requests: a workers reload while it runs', extra: ['--spare-workers', '1', '--max-requests', '25', '--min-worker-lifetime', '0'], fault: { at: 2, act: workersReload }, walk: /workers reload done/ },
  { name: 'workers reload: no fault', trigger: workersReload, walk: /workers reload done/ },
  { name: 'workers reload: SIGKILL of a worker being replaced', trigger: workersReload, walk: /workers reload done/, fault: { at: 2, act: (_r, _s, before) => kill(before.get(2)) }, kills: true },
  { name: 'workers reload: SIGKILL of a replacement before it accepts', trigger: workersReload, walk: /workers reload done/, fault: { at: 3, act: (_r, spawned) => kill(spawned) }, kills: true },
  { name: 'workers reload: a chain reload while it runs', trigger: workersReload, fault: { at: 3, act: (r) => write(r.fifo, 'c') } },
  { name: 'workers reload + max-requests', trigger: workersReload, walk: /workers reload done/, extra: ['--max-requests', '25', '--min-worker-lifetime', '0'] },
];

/** What broke in one run of a case (empty: nothing). */
async function runCase(c: Case): Promise<string[]> {
  const r = await serve(c.extra ?? []);
  const first = await until(() => statsAt<Stats>(r.stats));
  const before = new Map(first.workers.map((w) => [w.id, w.pid]));
  const load = startLoad(r.port, 8);
  loads.push(load);
  await sleep(300);
  const from = r.seen.length;
  let fired = false;
  let requested = false;
  r.on((s) => {
    if (s.kind === 'request') requested = true;
    if (!c.fault || fired || !requested || s.kind !== 'spawned' || s.worker !== c.fault.at) return;
    fired = true;
    c.fault.act(r, s.pid, before);
  });
  (c.trigger ?? ((x: Run) => write(x.fifo, 'c')))(r);
  // done: the last reload's done line after the last request
  const settled = () => {
    const tail = r.seen.slice(from);
    const last = tail.map((s) => s.kind).lastIndexOf('request');
    return last >= 0 && tail.slice(last).some((s) => s.kind === 'done' && (c.ends ?? c.walk ?? CHAIN_DONE).test(s.line));
  };
  const bad: string[] = [];
  await until(() => settled() || undefined, 60_000).catch(() => bad.push('the reload did not end (no done line after the last request)'));
  await sleep(300);
  const res = await load.stop();
  if (!c.kills && res.failed) bad.push(`failed requests: ${JSON.stringify(res.errors)}`);
  if (!alive(r.p.pid!)) bad.push('the master died');
  const end = await until(() => statsAt<Stats>(r.stats));
  bad.push(...judgeLog(c, r.seen.slice(from), end));
  // the master survives and leaves nothing behind
  const pids = [...r.seen.flatMap((s) => (s.kind === 'spawned' ? [s.pid] : [])), ...before.values()];
  process.kill(r.p.pid!, 'SIGTERM');
  const out = await r.p;
  if (out.exitCode !== 0) bad.push(`the master ended with ${out.exitCode} on SIGTERM`);
  const left = pids.filter(alive).concat(processes().filter((x) => x.pgid === r.p.pid && x.state !== 'Z').map((x) => x.pid));
  if (left.length) bad.push(`left behind: ${left.join(', ')}`);
  if (bad.length) bad.push(`log: ${r.log().split('\n').filter((l) => /master:/.test(l)).slice(-60).join('\n')}`);
  return bad;
}

const CHAIN_DONE = /chain reload done/;
const NO_RECYCLE = 'no worker the chain started was recycled (max-requests) while it ran';

// Whether a worker the chain started reaches max-requests before the chain
// ends depends on where the load's keep-alive connections land (a loaded
// machine can finish the chain first): a liveness property, given three
// tries. Any other failure counts at once.
const onlyNoRecycle = (bad: string[]) => bad[0] === NO_RECYCLE && bad.length === 2; // (and the log)

/** What the master's log (from just before the request) and its last stats
 * say went wrong. */
function judgeLog(c: Case, tail: Seen[], end: Stats): string[] {
  const bad: string[] = [];
  const walk = c.walk ?? CHAIN_DONE;
  if (!tail.some((s) => s.kind === 'done' && walk.test(s.line))) bad.push(`no line says the reload ended (${walk.source})`);
  // each drain by a reload: of a worker started before that reload's request
  const born = new Map<number, number>(); // pid → index of its spawn line
  let lastRequest = -1;
  tail.forEach((s, i) => {
    if (s.kind === 'request') lastRequest = i;
    if (s.kind === 'spawned') born.set(s.pid, i);
    if (s.kind === 'draining' && /^(chain|workers) reload$/.test(s.reason) && (born.get(s.pid) ?? -1) > lastRequest) bad.push(`slot ${s.worker}: its worker ${s.pid}, started after the request, replaced again by the ${s.reason}`);
  });
  if (c.recycles) {
    const asked = tail.findIndex((s) => s.kind === 'request');
    const done = tail.findIndex((s) => s.kind === 'done');
    const recycled = tail.slice(0, done).some((s) => s.kind === 'draining' && s.reason.startsWith('max-requests') && (born.get(s.pid) ?? -1) > asked);
    if (!recycled) bad.push(NO_RECYCLE);
  }
  // every slot ends with a worker started after the last request
  for (const w of end.workers) {
    if (!((born.get(w.pid) ?? -1) > lastRequest)) bad.push(`slot ${w.id}: its worker ${w.pid} was started before the last request (skipped)`);
  }
  return bad;
}

const RUNS = Number(process.env.CHAIN_FAULT_RUNS ?? 1);

describe('chain reload under faults', () => {
  for (const c of CASES) {
    for (let run = 1; run <= RUNS; run++) {
      it(`${c.name}${RUNS > 1 ? ` (run ${run})` : ''}`, async () => {
        let bad = await runCase(c);
        for (let tries = 1; c.recycles && tries < 3 && onlyNoRecycle(bad); tries++) bad = await runCase(c);
        expect(bad).toEqual([]);
      }, 300_000);
    }
  }
});
