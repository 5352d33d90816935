// Signals to an emperor's whole process group (`liege --emperor DIR` in a
// terminal: Ctrl-C, a hangup; `kill -TERM -PGID`) or to every process of
// it at once (systemd's KillMode=control-group) have the outcome of the
// same signal to the emperor alone: a stop stops each vassal once, by its
// emperor (emperor-stop hooks, workers drained as a stop, the request in
// flight answered), nothing respawned, nothing left behind; a SIGHUP
// reloads each vassal once with no request lost under keep-alive load. A
// signal to one vassal alone is still that vassal's.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, lines, processes, scratch, signalEach, startLiege, until, trapDaemon, writeIni } from './helpers';
import { startLoad, type Load } from './load';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NAMES = ['a', 'b', 'c'];

type Mode = 'emperor' | 'group' | 'every process';

/** Every pid in the tree under `pid`. */
function tree(pid: number): number[] {
  const kids = childrenOf(pid);
  return [...kids, ...kids.flatMap(tree)];
}

/** `sig` to the emperor alone, to its process group, or to every process
 * of its tree one by one, then SIGCONT to each (KillMode=control-group). */
function send(mode: Mode, emperor: number, sig: NodeJS.Signals): void {
  if (mode === 'emperor') return void process.kill(emperor, sig);
  if (mode === 'group') return void process.kill(-emperor, sig);
  signalEach([emperor, ...tree(emperor)], sig);
}

/** An emperor governing three vassal masters of two workers each, all serving. */
async function govern() {
  const dir = scratch();
  const vassals = path.join(dir, 'vassals');
  fs.mkdirSync(vassals);
  const trace = path.join(dir, 'trace');
  const cleanup = path.join(dir, 'cleanup');
  const ports: Record<string, number> = {};
  for (const n of NAMES) {
    ports[n] = await freePort();
    fs.writeFileSync(path.join(vassals, `${n}.ini`), [
      '[uwsgi]', 'master = true', 'processes = 2',
      `http-socket = 127.0.0.1:${ports[n]}`,
      `node-app = ${FIXTURES}/apps/cleanup-slow.js`,
      `hook-emperor-stop = exec:echo %n emperor-stop >> ${trace}`,
      `hook-emperor-reload = exec:echo %n emperor-reload >> ${trace}`, '',
    ].join('\n'));
  }
  const p = startLiege(['--emperor', vassals, '--emperor-freq', '3600'], { cwd: dir, env: { CLEANUP_FILE: cleanup } });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for (const n of NAMES) {
    const seen = new Set<string>();
    await until(async () => { const r = await get(ports[n]!); if (r?.pid) seen.add(r.pid); return seen.size === 2 || undefined; }, 30_000);
  }
  const masters = childrenOf(p.pid!);
  expect(masters).toHaveLength(3);
  const workers = masters.flatMap((m) => childrenOf(m));
  return { p, ports, masters, workers, trace, cleanup, log: () => err };
}

/** Lines that say a vassal or its workers acted on their own copy. */
function expectNothingOfItsOwn(log: string): void {
  expect(log).not.toMatch(/vassal died/);
  expect(log).not.toMatch(/respawning/);
  expect(log).not.toMatch(/worker died/);
  expect(log).not.toMatch(/not from the (master|emperor)/);
}

/** A request on a connection of its own: its status and body, or the error code. */
function request(port: number, p: string): Promise<string> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
    }).on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
  });
}

/** Nothing of the emperor's tree or process group is left. */
async function expectNothingLeft(emperor: number, pids: number[]): Promise<void> {
  await until(() => (pids.every((pid) => !alive(pid)) && !processes().some((x) => x.pgid === emperor) ? true : undefined), 10_000).catch(() => undefined);
  expect(pids.filter(alive)).toEqual([]);
  expect(processes().filter((x) => x.pgid === emperor).map((x) => x.pid)).toEqual([]);
}

const STOPS: [NodeJS.Signals, Mode][] = [['SIGINT', 'emperor'], ['SIGINT', 'group'], ['SIGTERM', 'group'], ['SIGTERM', 'every process']];

describe('a stop signal to the emperor\'s group is the emperor\'s stop', () => {
  for (const [sig, mode] of STOPS) {
    it(`${sig} to the ${mode}: each vassal stopped once by its emperor, its workers drained as a stop, the request in flight answered, nothing left`, async () => {
      const { p, ports, masters, workers, trace, cleanup, log } = await govern();
      const pids = [p.pid!, ...masters, ...workers];
      const slow = NAMES.map((n) => request(ports[n]!, '/slow'));
      await sleep(300);
      send(mode, p.pid!, sig);
      expect(await Promise.all(slow)).toEqual(NAMES.map(() => '200 slow'));
      expect((await p).exitCode).toBe(0);
      await expectNothingLeft(p.pid!, pids);
      expect(log().match(/stopping every vassal/g)).toHaveLength(1);
      expect(log().match(/the emperor is buried/g)).toHaveLength(1);
      expectNothingOfItsOwn(log());
      // each vassal stopped by its emperor (not on its own copy: no hooks)
      expect(lines(trace).sort()).toEqual(NAMES.map((n) => `${n} emperor-stop`));
      // each worker drained once, as a stop (the app's SIGINT cleanup)
      expect(lines(cleanup).sort()).toEqual(workers.map((w) => `SIGINT ${w}`).sort());
    }, 90_000);
  }

  it('Ctrl-C twice: the second makes every vassal\'s stop immediate', async () => {
    const { p, ports, masters, workers, log } = await govern();
    const pids = [p.pid!, ...masters, ...workers];
    // a request that would hold each stop for its whole reload-mercy
    const stuck = NAMES.map((n) => request(ports[n]!, '/slow'));
    await sleep(300);
    send('group', p.pid!, 'SIGINT');
    await until(() => (/stopping every vassal/.test(log()) ? true : undefined));
    send('group', p.pid!, 'SIGINT');
    expect((await p).exitCode).toBe(0);
    await Promise.all(stuck);
    await expectNothingLeft(p.pid!, pids);
    expect(log()).toMatch(/stop asked again: immediate, SIGQUIT to every vassal/);
    expect(log()).not.toMatch(/vassal died|respawning/);
  }, 90_000);
});

describe('single-process vassals', () => {
  for (const sig of ['SIGINT', 'SIGHUP'] as const) {
    it(`${sig} to the group: each stopped or reloaded once, by its emperor`, async () => {
      const dir = scratch();
      const vassals = path.join(dir, 'vassals');
      fs.mkdirSync(vassals);
      const trace = path.join(dir, 'trace');
      const ports: Record<string, number> = {};
      for (const n of NAMES) {
        ports[n] = await freePort();
        fs.writeFileSync(path.join(vassals, `${n}.ini`), ['[uwsgi]', `http-socket = 127.0.0.1:${ports[n]}`, `node-app = ${FIXTURES}/apps/cleanup-slow.js`,
          `hook-emperor-stop = exec:echo %n emperor-stop >> ${trace}`, `hook-emperor-reload = exec:echo %n emperor-reload >> ${trace}`, ''].join('\n'));
      }
      const p = startLiege(['--emperor', vassals, '--emperor-freq', '3600'], { cwd: dir, env: { CLEANUP_FILE: path.join(dir, 'cleanup') } });
      started.push(p);
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      for (const n of NAMES) await until(() => get(ports[n]!), 30_000);
      const pids = [p.pid!, ...tree(p.pid!)];
      const slow = NAMES.map((n) => request(ports[n]!, '/slow'));
      await sleep(300);
      send('group', p.pid!, sig);
      expect(await Promise.all(slow)).toEqual(NAMES.map(() => '200 slow'));
      if (sig === 'SIGHUP') {
        await until(() => (lines(trace).length === 3 ? true : undefined));
        for (const n of NAMES) await until(() => get(ports[n]!), 30_000);
        await sleep(1500); // a second reload would have begun by now
        expect(lines(trace).sort()).toEqual(NAMES.map((n) => `${n} emperor-reload`));
        process.kill(p.pid!, 'SIGTERM');
      }
      expect((await p).exitCode).toBe(0);
      await expectNothingLeft(p.pid!, pids);
      expect(err).not.toMatch(/vassal died|respawning|not from the emperor/);
      if (sig === 'SIGINT') expect(lines(trace).sort()).toEqual(NAMES.map((n) => `${n} emperor-stop`));
    }, 90_000);
  }
});

describe('a SIGHUP to the emperor\'s group is the emperor\'s reload', () => {
  for (const mode of ['emperor', 'group', 'every process'] as Mode[]) {
    it(`SIGHUP to the ${mode}: each vassal reloaded once, no request lost`, async () => {
      const { p, ports, masters, workers, trace, log } = await govern();
      const loads: Load[] = NAMES.map((n) => startLoad(ports[n]!, 6));
      await sleep(500);
      send(mode, p.pid!, 'SIGHUP');
      await until(() => ((log().match(/reload done: the new generation serves/g) ?? []).length === 3 ? true : undefined), 40_000);
      await sleep(1500); // a second reload would have begun by now
      const results = await Promise.all(loads.map((l) => l.stop()));
      for (const r of results) {
        expect(r.errors).toEqual({});
        expect(r.failed).toBe(0);
        expect(r.ok).toBeGreaterThan(20);
      }
      expect(log().match(/SIGHUP: reloading every vassal/g)).toHaveLength(1);
      expect(log().match(/graceful reload requested/g)).toHaveLength(3);
      expect(log()).not.toMatch(/generation=2/);
      expectNothingOfItsOwn(log());
      expect(lines(trace).sort()).toEqual(NAMES.map((n) => `${n} emperor-reload`));
      // the same vassal masters (reloaded in place), new workers
      expect(childrenOf(p.pid!).sort()).toEqual([...masters].sort());
      expect(workers.filter(alive)).toEqual([]);
      const now = [...masters, ...masters.flatMap((m) => childrenOf(m))];
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
      await expectNothingLeft(p.pid!, now);
    }, 90_000);
  }
});

describe('a signal to one vassal alone is still that vassal\'s', () => {
  it('SIGHUP to a vassal master: passed on by the emperor, that vassal reloads once, the others serve on', async () => {
    const { p, ports, masters, trace, log } = await govern();
    const load = startLoad(ports.a!, 6);
    await sleep(300);
    const a = await until(async () => { const r = await get(ports.a!); return masters.find((m) => childrenOf(m).includes(Number(r?.pid))); });
    process.kill(a, 'SIGHUP');
    await until(() => (/reload done: the new generation serves/.test(log()) ? true : undefined), 30_000);
    await sleep(1500);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    expect(log()).toMatch(new RegExp(`vassal got SIGHUP not from the emperor: passed on \\(a signal to that vassal alone\\) vassal=a.ini pid=${a}`));
    expect(log().match(/graceful reload requested/g)).toHaveLength(1);
    expect(log()).not.toMatch(/SIGHUP: reloading every vassal/);
    expect(lines(trace)).toEqual([]);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 90_000);
});

describe('attached daemons under KillMode=control-group', () => {
  it('SIGTERM to every process, daemons too: a daemon that ends on it is not respawned, a control daemon\'s end is not the vassal\'s status, each runs its trap once', async () => {
    const dir = scratch();
    const vassals = path.join(dir, 'vassals');
    fs.mkdirSync(vassals);
    const trace = path.join(dir, 'trace');
    const port = await freePort();
    const daemon = (what: string, status: number) => trapDaemon(trace, what, status);
    fs.writeFileSync(path.join(vassals, 'a.ini'), [
      '[uwsgi]', 'master = true', 'processes = 2',
      `http-socket = 127.0.0.1:${port}`,
      `node-app = ${FIXTURES}/apps/cleanup-slow.js`,
      `attach-daemon = ${daemon('daemon', 0)}`,
      `attach-control-daemon = ${daemon('control', 3)}`,
      `hook-emperor-stop = exec:echo emperor-stop >> ${trace}`, '',
    ].join('\n'));
    const p = startLiege(['--emperor', vassals, '--emperor-freq', '3600'], { cwd: dir, env: { CLEANUP_FILE: path.join(dir, 'cleanup') } });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(port), 30_000);
    await until(() => ((err.match(/daemon started/g) ?? []).length === 2 && processes().filter((x) => x.argv.join(' ').includes('while :')).length >= 2 ? true : undefined));
    const pids = [p.pid!, ...tree(p.pid!)];
    // a request in flight: the workers drain while the daemons are gone already
    const slow = request(port, '/slow');
    await sleep(200);
    send('every process', p.pid!, 'SIGTERM');
    expect(await slow).toBe('200 slow');
    expect((await p).exitCode).toBe(0);
    await expectNothingLeft(p.pid!, pids);
    // (its end may still be logged as `daemon exited` when it came before the
    // vassal master heard its own copy: not respawned all the same)
    expect(err.match(/daemon started/g)).toHaveLength(2);
    expect(err).not.toMatch(/vassal died|respawning/);
    expect(lines(trace).sort()).toEqual(['control', 'daemon', 'emperor-stop']);
  }, 90_000);
});

// A vassal master's reload re-execs it: until its new image listens, it
// cannot route a signal by sender as above. liege-early.so notes who sent
// what it catches meanwhile: another sender's is reported to the emperor,
// which judges it like any other (here: not the emperor's own, so passed
// on, and that vassal reloads once more); before, the new image obeyed it
// as its emperor's (the group's SIGHUP reloaded each vassal twice)
describe('a signal that reaches a vassal during its reload\'s re-exec', () => {
  it('is routed by its sender: another sender\'s SIGHUP is reported to the emperor and passed on, reloading that vassal once more', async () => {
    const dir = scratch();
    const vassals = path.join(dir, 'vassals');
    fs.mkdirSync(vassals);
    const starts = path.join(dir, 'starts');
    const port = await freePort();
    // (each start of the image, re-execs too, runs the asap hook: the 3 s
    // sleep holds the new image before its listeners)
    fs.writeFileSync(path.join(vassals, 'a.ini'), ['[uwsgi]', 'master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`,
      `node-app = ${FIXTURES}/apps/cleanup-slow.js`, `hook-asap = exec:sh -c 'echo $$ >> ${starts}; sleep 3'`, ''].join('\n'));
    const p = startLiege(['--emperor', vassals, '--emperor-freq', '3600'], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(port), 30_000);
    const [vassal] = childrenOf(p.pid!);
    process.kill(p.pid!, 'SIGHUP'); // the emperor's reload: the vassal re-execs
    const hup = Date.now();
    await until(() => (lines(starts).length === 2 ? true : undefined), 20_000);
    // (past the time within which the emperor takes a report of its own
    // signal for the group's: os/heard-signals.ts)
    await sleep(Math.max(0, hup + 2300 - Date.now()));
    expect(lines(starts)).toHaveLength(2); // still in the new image's hook
    process.kill(vassal!, 'SIGHUP'); // this test's
    await until(() => (/generation=2/.test(err) ? true : undefined), 30_000).catch((e: Error) => { throw new Error(`${e.message}: ${err}`); });
    expect(err).toMatch(new RegExp(`vassal got SIGHUP not from the emperor: passed on \\(a signal to that vassal alone\\) vassal=a.ini pid=${vassal}`));
    await until(() => get(port), 30_000);
    expect(childrenOf(p.pid!)).toEqual([vassal]); // reloaded in place, never died
    expect(err).not.toMatch(/generation=3|vassal died|respawning/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  // (and outside an emperor: a SIGHUP while the new image's hook blocks is
  // one more reload, and a SIGTERM after it still stops: liege-early.so's
  // wrapper once chained to the hook's own stop handler, set aside then)
  it('a master obeys a SIGHUP that came during its new image\'s blocking hook, then stops on SIGTERM', async () => {
    const dir = scratch();
    const starts = path.join(dir, 'starts');
    const port = await freePort();
    const ini = writeIni(dir, ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`,
      `node-app = ${FIXTURES}/apps/cleanup-slow.js`, `hook-asap = exec:sh -c 'echo $$ >> ${starts}; sleep 2'`]);
    const p = startLiege([ini], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(port), 30_000);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (lines(starts).length === 2 ? true : undefined), 20_000);
    process.kill(p.pid!, 'SIGHUP'); // in the new image's hook
    await until(() => (/generation=2/.test(err) ? true : undefined), 30_000);
    await until(() => get(port), 30_000);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(err).toMatch(/graceful shutdown/);
  }, 90_000);
});
