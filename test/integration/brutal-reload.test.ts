// Brutal reloads (master fifo `R` and `W`, uWSGI's reap_them_all): the
// workers are killed at once — a request in flight is cut, no drain, no
// mercy — and the listening sockets stay open, so a connection made
// meanwhile waits in the backlog for the new generation, never refused.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until, writeIni } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// a graceful reload would wait this long for the stuck worker
const MERCY = 120;

async function serve(extra: string[] = []) {
  const dir = scratch();
  const fifo = path.join(dir, 'master.fifo');
  const port = await freePort();
  const ini = writeIni(dir, ['master = true', 'processes = 2', `http-socket = 127.0.0.1:${port}`, `node-app = ${path.join(FIXTURES, 'apps', 'stuck.js')}`, `master-fifo = ${fifo}`, `worker-reload-mercy = ${MERCY}`, `reload-mercy = ${MERCY}`, ...extra]);
  const p = startLiege(['--ini', ini]);
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // (30 s: beside the config fuzz's hundreds of starts, a 2-core CI box took more than 15)
  await until(() => get(port), 30_000);
  await until(() => (fs.existsSync(fifo) && fs.statSync(fifo).isFIFO() ? true : undefined));
  const workers = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; });
  return { p, fifo, port, ini, workers, log: () => err };
}

/** A request to /spin: one worker busy-loops in it for good. Resolves with
 * how it ended ('cut' when the connection was closed under it). */
function spin(port: number): Promise<string> {
  return fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(MERCY * 1000) }).then((r) => `status ${r.status}`, (e: Error) => (e.name === 'TimeoutError' ? 'timeout' : 'cut'));
}

/** Connects to the port one connection at a time until stopped; the
 * errors met (ECONNREFUSED: the port was not listening). */
function probe(port: number): { stop: () => Promise<string[]> } {
  const errors: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const c = net.connect(port, '127.0.0.1');
        c.on('connect', () => { c.destroy(); resolve(); });
        c.on('error', (e: NodeJS.ErrnoException) => { errors.push(e.code ?? e.message); resolve(); });
      });
      await sleep(20);
    }
  })();
  return { stop: async () => { running = false; await loop; return errors; } };
}

/** The pid of the worker that spins (the one not answering /). */
async function spinning(port: number, workers: number[]): Promise<number> {
  await sleep(500); // the spin request reached its worker
  const answering = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const r = await get(port);
    if (r?.pid) answering.add(Number(r.pid));
  }
  const stuck = workers.filter((w) => !answering.has(w));
  expect(stuck).toHaveLength(1);
  return stuck[0]!;
}

describe('fifo R: brutal reload', () => {
  it('kills a worker stuck in a request at once (a graceful reload waits up to the mercy), re-execs in place, the new generation serves, the port never refuses', async () => {
    const { p, fifo, port, workers, log } = await serve();
    const cut = spin(port);
    const stuck = await spinning(port, workers);
    const probing = probe(port);
    fs.writeFileSync(fifo, 'R');
    // long before the 120 s mercy: nothing drained
    await until(() => (!alive(stuck) && !workers.some(alive) ? true : undefined), 30_000);
    expect(await cut).toBe('cut');
    await until(() => (/reload done/.test(log()) ? true : undefined), 30_000);
    expect(await probing.stop()).toEqual([]);
    expect(log()).toMatch(/brutal reload requested/);
    expect(log()).toMatch(/brutal reload: every worker killed/);
    expect(log()).not.toMatch(/graceful reload requested/);
    // the same master (re-exec in place), a new generation
    expect(p.exitCode).toBeNull();
    const now = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; });
    expect(now.filter((w) => workers.includes(w))).toEqual([]);
    const r = await get(port);
    expect(r).toMatchObject({ status: 200 });
    expect(now).toContain(Number(r!.pid));
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  it('a worker SIGKILLed by someone else as R arrives does not upset it', async () => {
    const { p, fifo, port, workers, log } = await serve();
    fs.writeFileSync(fifo, 'R');
    try {
      process.kill(workers[1]!, 'SIGKILL');
    } catch { /* R got there first: killed already */ }
    await until(() => (/reload done/.test(log()) ? true : undefined), 30_000);
    expect(await get(port)).toMatchObject({ status: 200 });
    const now = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; });
    expect(now.filter((w) => workers.includes(w))).toEqual([]);
    expect(log()).not.toMatch(/survived|LIEGE_ERR_INTERNAL/);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('a config that no longer loads is refused: the running generation keeps serving, the stuck worker too; after the fix R goes through', async () => {
    const { p, fifo, port, ini, workers, log } = await serve();
    const cut = spin(port);
    const stuck = await spinning(port, workers);
    const good = fs.readFileSync(ini, 'utf8');
    fs.writeFileSync(ini, good.replace('processes = 2', 'processes = many'));
    fs.writeFileSync(fifo, 'R');
    await until(() => (/reload refused, the running generation keeps serving/.test(log()) ? true : undefined), 20_000);
    expect(log()).toMatch(/processes/);
    expect(workers.every(alive)).toBe(true);
    expect(childrenOf(p.pid!).sort()).toEqual([...workers].sort());
    expect(await get(port)).toMatchObject({ status: 200 });
    fs.writeFileSync(ini, good);
    fs.writeFileSync(fifo, 'R');
    await until(() => (!alive(stuck) ? true : undefined), 30_000);
    expect(await cut).toBe('cut');
    await until(() => (/reload done/.test(log()) ? true : undefined), 30_000);
    expect(await get(port)).toMatchObject({ status: 200 });
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  it('a new image that cannot start (an asap hook fails): the previous generation is started again and serves, the port never refuses', async () => {
    const { p, fifo, port, ini, workers, log } = await serve();
    const good = fs.readFileSync(ini, 'utf8');
    fs.writeFileSync(ini, `${good}hook-asap = exec:false\n`);
    const probing = probe(port);
    fs.writeFileSync(fifo, 'R');
    await until(() => (/master running the previous generation/.test(log()) ? true : undefined), 30_000).catch(() => { throw new Error(log()); });
    const now = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; }, 30_000);
    expect(now.filter((w) => workers.includes(w))).toEqual([]);
    expect(await until(() => get(port))).toMatchObject({ status: 200 });
    expect(await probing.stop()).toEqual([]);
    expect(log()).toMatch(/the new generation could not start: the previous generation \(its workers killed by the brutal reload\) starts again/);
    // the fix goes through
    fs.writeFileSync(ini, good);
    fs.writeFileSync(fifo, 'R');
    await until(() => (/reload done/.test(log()) ? true : undefined), 30_000);
    expect(await get(port)).toMatchObject({ status: 200 });
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  it('during a graceful reload that waits for the stuck worker, R goes at once (not merged after it)', async () => {
    const { p, fifo, port, workers, log } = await serve();
    const cut = spin(port);
    const stuck = await spinning(port, workers);
    fs.writeFileSync(fifo, 'r');
    // the new generation accepts; the stuck worker drains for up to the mercy
    await until(() => (/generation=1/.test(log()) && /master started/.test(log()) ? true : undefined), 30_000);
    await until(() => (childrenOf(p.pid!).length >= 3 && workers.filter(alive).length === 1 ? true : undefined), 30_000);
    expect(alive(stuck)).toBe(true);
    const probing = probe(port);
    fs.writeFileSync(fifo, 'R');
    await until(() => (!alive(stuck) ? true : undefined), 30_000);
    expect(await cut).toBe('cut');
    expect(log()).toMatch(/brutal reload requested while a reload runs: reloading now/);
    await until(() => (/generation=2/.test(log()) && /reload done/.test(log().split('generation=2')[1] ?? '') ? true : undefined), 30_000);
    expect(await probing.stop()).toEqual([]);
    expect(await get(port)).toMatchObject({ status: 200 });
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 120_000);
  it('R refused (bad config) during a graceful reload leaves that reload running: it ends when the stuck worker goes', async () => {
    const { p, fifo, port, ini, workers, log } = await serve();
    void spin(port);
    const stuck = await spinning(port, workers);
    fs.writeFileSync(fifo, 'r');
    await until(() => (childrenOf(p.pid!).length >= 3 && workers.filter(alive).length === 1 ? true : undefined), 30_000);
    const good = fs.readFileSync(ini, 'utf8');
    fs.writeFileSync(ini, good.replace('processes = 2', 'processes = many'));
    fs.writeFileSync(fifo, 'R');
    await until(() => (/reload refused/.test(log()) ? true : undefined), 20_000);
    expect(alive(stuck)).toBe(true);
    process.kill(stuck, 'SIGKILL');
    await until(() => (/reload done/.test(log()) ? true : undefined), 20_000);
    expect(log()).not.toMatch(/brutal reload requested while a reload runs/);
    fs.writeFileSync(ini, good);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 90_000);
});

describe('fifo W: brutal workers reload', () => {
  it('kills every worker at once (the stuck one too) and starts new ones; the master stays', async () => {
    const { p, fifo, port, workers, log } = await serve();
    const cut = spin(port);
    const stuck = await spinning(port, workers);
    fs.writeFileSync(fifo, 'W');
    await until(() => (!workers.some(alive) ? true : undefined), 30_000);
    expect(alive(stuck)).toBe(false);
    expect(await cut).toBe('cut');
    const now = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; });
    expect(now.filter((w) => workers.includes(w))).toEqual([]);
    expect(await until(() => get(port))).toMatchObject({ status: 200 });
    expect(log()).toMatch(/reloading the workers \(brutal\)/);
    expect(log()).not.toMatch(/generation=1/);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  it('says the kills it was asked for as kills with their reason (info), not as crashes; W after W respawns at once (no backoff)', async () => {
    const { p, fifo, port, workers, log } = await serve();
    fs.writeFileSync(fifo, 'W');
    // the second W as the first one's workers start
    await until(() => (childrenOf(p.pid!).filter((w) => !workers.includes(w)).length === 2 ? true : undefined), 30_000);
    fs.writeFileSync(fifo, 'W');
    await until(() => ((log().match(/worker killed \(brutal workers reload\), respawning/g) ?? []).length >= 4 ? true : undefined), 30_000);
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined), 30_000);
    expect(await until(() => get(port))).toMatchObject({ status: 200 });
    const kills = log().split('\n').filter((l) => /worker killed/.test(l));
    for (const k of kills) {
      expect(k).not.toMatch(/WARN|ERROR/);
      expect(k).toMatch(/respawn_in_ms=0/);
    }
    // before: "WARN worker died, respawning" for each
    expect(log()).not.toMatch(/worker died/);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  it('also kills an old worker that a graceful workers reload left draining (stuck in its request, held by the mercy)', async () => {
    const { p, fifo, port, workers, log } = await serve();
    const cut = spin(port);
    const stuck = await spinning(port, workers);
    fs.writeFileSync(fifo, 'w');
    // the replacements accept, the idle old worker is gone, the stuck one
    // drains (only once its replacement accepted: before, it is still its
    // slot's worker, which W kills as such)
    await until(() => (workers.filter(alive).length === 1 && childrenOf(p.pid!).length === 3 ? true : undefined), 30_000);
    await until(() => (new RegExp(`worker draining worker=\\d+ pid=${stuck} `).test(log()) ? true : undefined), 30_000);
    expect(alive(stuck)).toBe(true);
    fs.writeFileSync(fifo, 'W');
    await until(() => (!alive(stuck) ? true : undefined), 30_000);
    expect(await cut).toBe('cut');
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined), 30_000);
    expect(await until(() => get(port))).toMatchObject({ status: 200 });
    expect(log()).toMatch(/old worker gone .*reason="brutal workers reload"/);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 90_000);
});
