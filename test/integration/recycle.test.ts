// Worker recycling with the real master: harakiri SIGKILLs a stuck worker,
// max-requests and chain reload replace workers under keep-alive load
// without one failed request.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until, written } from './helpers';
import { startLoad } from './load';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(app: string, extra: string[] = []) {
  const port = await freePort();
  const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', app), ...extra]);
  started.push(p);
  await until(() => get(port));
  await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
  return { port, p };
}

describe('recycling', () => {
  it('harakiri SIGKILLs a worker stuck in a request and replaces it', async () => {
    const { port, p } = await serve('stuck.js', ['--harakiri', '2']);
    const old = childrenOf(p.pid!);
    const stuck = fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(20_000) }).then(() => 'answered', () => 'failed');
    // one old worker dies, a new one takes its place
    await until(() => {
      const now = childrenOf(p.pid!);
      return (now.length === 2 && old.some((c) => !alive(c)) && now.some((c) => !old.includes(c))) || undefined;
    }, 20_000);
    expect(await stuck).toBe('failed');
    for (let i = 0; i < 10; i++) expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/harakiri: .* SIGKILL/);
  }, 40_000);

  it('harakiri sees a request whose handler blocks the loop at once (busy slot), and harakiri-verbose logs it', async () => {
    // the handler spins before the worker could send anything: only the
    // slot shared with the master tells it when the request started, so the
    // master's own verdict says "a request ran" 2 or 3 s (limit 2 + the 1 s
    // check), not "event loop blocked" (the missing heartbeat, a second later)
    const { port, p } = await serve('stuck.js', ['--harakiri', '2', '--harakiri-verbose']);
    const old = childrenOf(p.pid!);
    const stuck = fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(20_000) }).then(() => 'answered', () => 'failed');
    await until(() => (old.some((c) => !alive(c)) ? true : undefined), 20_000);
    expect(await stuck).toBe('failed');
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    for (let i = 0; i < 4; i++) expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    const line = res.stderr.split('\n').find((l) => /harakiri: .*SIGKILL/.test(l));
    expect(line, res.stderr).toMatch(/harakiri: a request ran [23] s: SIGKILL/);
    expect(line).toContain('request="GET /spin"');
    expect(line).not.toMatch(/event loop blocked/);
  }, 40_000);

  /** A graceful stop while a worker is stuck in a request (stuck.js /spin):
   * the stop's output, the stuck request's fate, the port. */
  async function stopWhileStuck(args: string[]) {
    const { port, p } = await serve('stuck.js', args);
    const stuck = fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(30_000) }).then(() => 'answered', () => 'failed');
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    return { res: await p, stuck, port };
  }

  it('a graceful stop keeps the harakiri deadline: a worker stuck in a request is SIGKILLed then, not at reload-mercy', async () => {
    const { res, stuck, port } = await stopWhileStuck(['--harakiri', '2', '--reload-mercy', '20']);
    expect(res.exitCode).toBe(0);
    expect(await stuck).toBe('failed');
    const stop = res.stderr.split('graceful shutdown')[1]!;
    expect(stop, res.stderr).toMatch(/harakiri: .* SIGKILL/);
    expect(stop).not.toMatch(/reload-mercy/);
    expect(await get(port)).toBeUndefined();
  }, 40_000);

  it('a graceful stop that outlasts reload-mercy says which worker it SIGKILLs', async () => {
    // (its event loop blocked: the worker cannot end its own drain at the mercy)
    const { res, stuck } = await stopWhileStuck(['--reload-mercy', '2']);
    expect(res.exitCode).toBe(0);
    expect(await stuck).toBe('failed');
    expect(res.stderr).toMatch(/worker still running 1 s after its stop mercy \(reload-mercy = 2 s\) expired: SIGKILL/);
  }, 40_000);

  it('max-requests recycles workers under keep-alive load, losing no request', async () => {
    const { port, p } = await serve('handler.js', ['--max-requests', '50', '--min-worker-lifetime', '1']);
    const old = childrenOf(p.pid!);
    const load = startLoad(port, 8);
    // past min-worker-lifetime (1 s), until a recycled worker has answered
    await until(() => (load.result.ok >= 400 && [...load.result.pids].some((x) => !old.includes(Number(x))) ? true : undefined), 30_000);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    // a recycled worker's replacement answered (how many of the first two
    // answered depends on how the 8 connections split between them)
    expect([...r.pids].some((x) => !old.includes(Number(x)))).toBe(true);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/recycling: max-requests: \d+ requests/);
  }, 45_000);

  it('max-requests + max-requests-delta: each worker is recycled at its own count (max + id × delta), when it reaches it, not at the next second\'s heartbeat', async () => {
    const { port, p } = await serve('handler.js', ['--max-requests', '300', '--max-requests-delta', '100', '--min-worker-lifetime', '0']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const load = startLoad(port, 8);
    const recycled = () => [...err.matchAll(/recycling: max-requests: (\d+) requests worker=(\d)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    await until(() => (recycled().some(([, w]) => w === 1) && recycled().some(([, w]) => w === 2) ? true : undefined), 30_000);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    // (under keep-alive load a worker serves ~2000 requests a second: a
    // verdict at the next heartbeat says far more than its count)
    for (const [n, w] of recycled()) expect(n, err).toBe(300 + 100 * w);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 45_000);

  it('max-worker-lifetime is not held back by min-worker-lifetime (uWSGI: that gates max-requests and reload-on-rss only); no request lost', async () => {
    const { port, p } = await serve('handler.js', ['--max-worker-lifetime', '2', '--min-worker-lifetime', '60']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const load = startLoad(port, 8);
    // (before: recycled only once min-worker-lifetime, 60 s, had passed)
    await until(() => (/recycling: max-worker-lifetime: \d+ s worker=1/.test(err) && /recycling: max-worker-lifetime: \d+ s worker=2/.test(err) ? true : undefined), 20_000);
    await until(() => ((err.match(/old worker gone/g) ?? []).length >= 2 ? true : undefined), 20_000);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 45_000);

  it('a worker that reaches max-requests before min-worker-lifetime is recycled once it has lived that long, not before', async () => {
    const { port, p } = await serve('handler.js', ['--max-requests', '100', '--min-worker-lifetime', '3']);
    const seen: Array<[number, string]> = [];
    p.stderr!.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) seen.push([Date.now(), l]); });
    const startedAt = Date.now();
    const load = startLoad(port, 8);
    await until(() => (seen.some(([, l]) => /recycling: max-requests/.test(l)) ? true : undefined), 20_000);
    const first = seen.find(([, l]) => /recycling: max-requests/.test(l))!;
    // the workers started before startedAt: 3 s after it at the earliest
    expect(first[0] - startedAt).toBeGreaterThanOrEqual(2000);
    // by then the worker had served far more than 100
    expect(Number(/max-requests: (\d+) requests/.exec(first[1])![1])).toBeGreaterThan(100);
    const r = await load.stop();
    expect(r.failed).toBe(0);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 45_000);

  it('chain reload (SIGUSR2, touch-chain-reload) replaces one worker at a time, losing no request', async () => {
    const dir = scratch();
    const touch = path.join(dir, 'chain');
    fs.writeFileSync(touch, '');
    const { port, p } = await serve('handler.js', ['--touch-chain-reload', touch]);
    for (const trigger of ['SIGUSR2', 'touch'] as const) {
      const old = childrenOf(p.pid!);
      const load = startLoad(port, 8);
      await sleep(300);
      if (trigger === 'SIGUSR2') process.kill(p.pid!, 'SIGUSR2');
      else fs.utimesSync(touch, new Date(), new Date(Date.now() + 5000));
      await until(() => {
        const now = childrenOf(p.pid!);
        return (now.length === 2 && !now.some((c) => old.includes(c))) || undefined;
      }, 30_000);
      await sleep(300);
      const r = await load.stop();
      expect(r.errors).toEqual({});
      expect(r.failed).toBe(0);
      expect([...r.pids].some((x) => old.includes(Number(x)))).toBe(true);
      expect([...r.pids].some((x) => !old.includes(Number(x)))).toBe(true);
    }
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    const chains = res.stderr.split(/chain reload requested: one worker at a time/).slice(1);
    expect(chains).toHaveLength(2);
    // one at a time, read from the master's log: the second replacement is
    // spawned only after the first one accepted and its old worker drains
    // (a reload of all at once spawns both before any old worker drains)
    for (const c of chains) {
      const events = c.split('\n').map((l) => /worker (spawned|draining)/.exec(l)?.[1]).filter((x) => x);
      expect(events.slice(0, 4), c).toEqual(['spawned', 'draining', 'spawned', 'draining']);
    }
  }, 60_000);
  it('a worker whose app closes its channel to the master (process.disconnect()) is replaced after min-worker-lifetime, without a failed request, and said why; harakiri does not take it for stuck', async () => {
    const mark = path.join(scratch(), 'disconnected');
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'disconnects.js'), '--min-worker-lifetime', '3', '--harakiri', '2'], { env: { DISCONNECT_MARK: mark } });
    started.push(p);
    await until(() => get(port));
    const gone = Number(await until(() => written(mark)));
    const load = startLoad(port, 8);
    // it served on, unwatched, until the master replaced it
    await until(() => (alive(gone) ? undefined : true), 20_000);
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    await sleep(300);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(new RegExp(`recycling: its channel to the master closed while it runs .*pid=${gone}`));
    expect(res.stderr).not.toMatch(/harakiri/);
  }, 40_000);
});
