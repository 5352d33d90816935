// Signals to the whole process group (Ctrl-C, a terminal's hangup, `kill
// -TERM -PGID`) or to every process of the instance at once (systemd's
// KillMode=control-group) have the outcome of the same signal to the master
// alone: a reload or a chain reload loses no request under keep-alive load
// and no worker drains before its replacement serves, a stop drains as a
// stop (the app's SIGINT cleanup, the request in flight answered), and
// nothing is left behind. A signal to one worker alone still drains it.
import * as http from 'node:http';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, lines, scratch, signalEach, startLiege, until, trapDaemon } from './helpers';
import { startLoad } from './load';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Mode = 'master' | 'group' | 'every process';

/** Sends `sig` to the master alone, to its process group (startLiege: its
 * own group), or to every process of the instance one by one, the master
 * first, then SIGCONT to each (systemd's KillMode=control-group). */
function send(mode: Mode, master: number, sig: NodeJS.Signals): void {
  if (mode === 'master') return void process.kill(master, sig);
  if (mode === 'group') return void process.kill(-master, sig);
  // (a worker may be gone already: the master's SIGQUIT ends them at once)
  signalEach([master, ...childrenOf(master)], sig);
}

async function serve() {
  const dir = scratch();
  const cleanup = path.join(dir, 'cleanup');
  const port = await freePort();
  const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'cleanup-slow.js')], { env: { CLEANUP_FILE: cleanup } });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => get(port));
  const workers = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; });
  // both serve (a worker still starting would not be the group's yet)
  const seen = new Set<string>();
  await until(async () => { const r = await get(port); if (r?.pid) seen.add(r.pid); return seen.size === 2 || undefined; });
  return { p, port, workers, cleanup, log: () => err };
}

/** What the app's cleanup listeners wrote: "<signal> <pid>" lines. */
const cleanups = (f: string) => lines(f).sort();

/** Master lines that say a worker acted on its own copy of the signal. */
function expectNoWorkerOfItsOwn(log: string): void {
  expect(log).not.toMatch(/worker died/);
  expect(log).not.toMatch(/not from the master/);
  expect(log).not.toMatch(/replacement worker died/);
}

/** A request on a connection of its own: its status and body, or the error code. */
function request(port: number, p: string): Promise<string> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
      res.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
    }).on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
  });
}

const MODES: Mode[] = ['master', 'group', 'every process'];

describe('a reload signal to the group or to every process is the master\'s reload', () => {
  for (const mode of MODES) {
    it(`SIGHUP to the ${mode}: one graceful reload, no request lost, the old workers drain only once the new ones serve`, async () => {
      const { p, port, workers, cleanup, log } = await serve();
      const load = startLoad(port, 16);
      await sleep(500);
      send(mode, p.pid!, 'SIGHUP');
      await until(() => (/reload done/.test(log()) ? true : undefined), 30_000);
      await sleep(300);
      const r = await load.stop();
      expect(r.errors).toEqual({});
      expect(r.failed).toBe(0);
      expect(r.ok).toBeGreaterThan(100);
      expect(log().match(/graceful reload requested/g)).toHaveLength(1);
      expectNoWorkerOfItsOwn(log());
      // the reload's image does not claim its generation started before it serves
      expect(log()).not.toMatch(/master started.*generation=1/);
      expect(log()).toMatch(/master re-executed: the new generation starts.*generation=1/);
      for (const w of workers) expect(log()).toMatch(new RegExp(`old worker gone worker=\\d pid=${w} code=0 signal=null reason="new generation"`));
      expect(workers.filter(alive)).toEqual([]);
      // each old worker drained once, as a reload (the app's SIGTERM cleanup)
      expect(cleanups(cleanup)).toEqual(workers.map((w) => `SIGTERM ${w}`).sort());
      const now = childrenOf(p.pid!);
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
      expect(now.filter(alive)).toEqual([]);
    }, 60_000);
  }

  for (const mode of ['group', 'every process'] as Mode[]) {
    it(`SIGUSR2 to the ${mode}: one chain reload, no worker killed by it, no request lost`, async () => {
      const { p, port, workers, log } = await serve();
      const load = startLoad(port, 16);
      await sleep(500);
      send(mode, p.pid!, 'SIGUSR2');
      await until(() => (/chain reload done/.test(log()) ? true : undefined), 30_000);
      const r = await load.stop();
      expect(r.errors).toEqual({});
      expect(r.failed).toBe(0);
      expect(log().match(/chain reload requested/g)).toHaveLength(1);
      expectNoWorkerOfItsOwn(log());
      expect(workers.filter(alive)).toEqual([]);
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
    }, 60_000);

    it(`SIGUSR1 to the ${mode}: the stats in the master's log, the workers serve on`, async () => {
      const { p, port, workers, log } = await serve();
      const load = startLoad(port, 8);
      await sleep(300);
      send(mode, p.pid!, 'SIGUSR1');
      await until(() => (/master: stats /.test(log()) ? true : undefined));
      await sleep(1000);
      const r = await load.stop();
      expect(r.failed).toBe(0);
      expect(childrenOf(p.pid!).sort()).toEqual([...workers].sort());
      expectNoWorkerOfItsOwn(log());
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
    }, 60_000);
  }
});

describe('a stop signal to the group or to every process is the master\'s stop', () => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) {
    for (const mode of MODES) {
      it(`${sig} to the ${mode}: ${sig === 'SIGQUIT' ? 'an immediate' : 'a graceful'} stop, exit 0, nothing left`, async () => {
        const { p, port, workers, cleanup, log } = await serve();
        const load = startLoad(port, 8);
        const slow = request(port, '/slow');
        await sleep(300); // (the slow request reached a worker)
        send(mode, p.pid!, sig);
        expect((await p).exitCode).toBe(0);
        const r = await load.stop();
        // what a stop refuses (new connections, those in the accept
        // queue) or closes under a keep-alive client; never a wrong answer
        expect(Object.keys(r.errors).filter((e) => e !== 'ECONNREFUSED' && e !== 'ECONNRESET')).toEqual([]);
        expect(log()).toMatch(sig === 'SIGQUIT' ? /immediate shutdown/ : /graceful shutdown/);
        expect(log()).not.toMatch(/signal ignored/);
        expectNoWorkerOfItsOwn(log());
        if (sig === 'SIGQUIT') {
          expect(await slow).not.toMatch(/^200/);
          expect(cleanups(cleanup)).toEqual([]);
        } else {
          expect(await slow).toBe('200 slow');
          // each worker drained once, as a stop (the app's SIGINT cleanup)
          expect(cleanups(cleanup)).toEqual(workers.map((w) => `SIGINT ${w}`).sort());
        }
        expect([p.pid!, ...workers].filter(alive)).toEqual([]);
      }, 60_000);
    }
  }
});

describe('a signal to one worker alone', () => {
  it('SIGTERM: the master passes it on, the worker drains (no request lost) and is respawned', async () => {
    const { p, port, workers, cleanup, log } = await serve();
    const load = startLoad(port, 16);
    await sleep(300);
    const [one, other] = workers as [number, number];
    process.kill(one, 'SIGTERM');
    await until(() => (!alive(one) ? true : undefined), 20_000);
    await until(() => { const c = childrenOf(p.pid!); return c.length === 2 && !c.includes(one) ? true : undefined; });
    await sleep(500);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    expect(log()).toMatch(new RegExp(`worker got SIGTERM from pid ${process.pid}, not from the master: passed on .*pid=${one} signal=SIGTERM from=${process.pid}`));
    expect(cleanups(cleanup)).toEqual([`SIGTERM ${one}`]);
    expect(alive(other)).toBe(true);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('SIGQUIT: the worker ends at once and is respawned; the master stays', async () => {
    const { p, port, workers, log } = await serve();
    const [one] = workers as [number];
    process.kill(one, 'SIGQUIT');
    await until(() => (!alive(one) ? true : undefined), 20_000);
    await until(() => { const c = childrenOf(p.pid!); return c.length === 2 && !c.includes(one) ? true : undefined; });
    expect(log()).toMatch(new RegExp(`passed on .*pid=${one} signal=SIGQUIT`));
    expect(await until(() => get(port))).toMatchObject({ status: 200 });
    expect(alive(p.pid!)).toBe(true);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);
});

describe('attached daemons under KillMode=control-group', () => {
  it('SIGTERM to every process, daemons too: not respawned, the control daemon\'s end is not the instance\'s status', async () => {
    const dir = scratch();
    const trace = path.join(dir, 'trace');
    const port = await freePort();
    const daemon = (what: string, status: number) => trapDaemon(trace, what, status);
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'cleanup-slow.js'),
      '--attach-daemon', daemon('daemon', 0), '--attach-control-daemon', daemon('control', 3)], { env: { CLEANUP_FILE: path.join(dir, 'cleanup') } });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(port));
    const tree = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...tree(c)]);
    await until(() => (tree(p.pid!).filter((c) => lines(`/proc/${c}/cmdline`).join('').includes('while :')).length >= 2 ? true : undefined));
    const all = [p.pid!, ...tree(p.pid!)];
    const slow = request(port, '/slow');
    await sleep(200);
    signalEach(all, 'SIGTERM');
    expect(await slow).toBe('200 slow');
    expect((await p).exitCode).toBe(0);
    await until(() => (all.every((x) => !alive(x)) ? true : undefined)).catch(() => undefined);
    expect(all.filter(alive)).toEqual([]);
    // (its end may still be logged as `daemon exited` when the master took it
    // before its own SIGTERM on a loaded machine: not respawned all the same)
    expect(err.match(/daemon started/g)).toHaveLength(2);
    expect(lines(trace).sort()).toEqual(['control', 'daemon']);
  }, 60_000);
});
