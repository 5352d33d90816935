// An app's own second port (a metrics port, shared by the workers as under
// node:cluster: master/shared-ports.ts) across reloads, under keep-alive
// load on both ports: a SIGHUP hands the listening socket over to the new
// image (before: every new worker died with EADDRINUSE until the old ones
// left, and clients saw ECONNREFUSED), a chain reload drains the app's
// server on that port as liege's own (before: resets); a port the new
// generation dropped is closed once the old one is gone.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';
import { startLoad, type LoadResult } from './load';

const started: ResultPromise[] = [];
// liege's own lines, for a failing test's report
const said = new Map<ResultPromise, string>();
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') for (const text of said.values()) console.log(`--- liege's stderr (tail)\n${text.split('\n').slice(-60).join('\n')}`);
  said.clear();
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(env: Record<string, string> = {}) {
  const port = await freePort();
  const metrics = await freePort();
  const p = startLiege(['--master', '-p', '3', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'two-ports.js')], { env: { METRICS_PORT: String(metrics), ...env } });
  started.push(p);
  said.set(p, '');
  p.stderr!.on('data', (d: Buffer) => said.set(p, said.get(p) + d.toString()));
  await until(() => get(port));
  await until(() => get(metrics));
  await until(() => (childrenOf(p.pid!).length === 3 ? true : undefined));
  return { port, metrics, p };
}

/** `reload` under keep-alive load on both ports, until every worker is new. */
async function underLoad(p: ResultPromise, ports: number[], reload: () => void): Promise<{ old: number[]; results: LoadResult[] }> {
  const old = childrenOf(p.pid!);
  const loads = ports.map((port) => startLoad(port, 8));
  await sleep(500);
  reload();
  await until(() => {
    const now = childrenOf(p.pid!);
    return (now.length === 3 && !now.some((c) => old.includes(c))) || undefined;
  }, 40_000);
  await sleep(700);
  return { old, results: await Promise.all(loads.map((l) => l.stop())) };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (e) => resolve((e as NodeJS.ErrnoException).code === 'ECONNREFUSED'));
  });
}

describe("an app's own second port across reloads", () => {
  const cases = [
    ['a graceful reload (SIGHUP), the metrics port listened at load', 'SIGHUP', '0'],
    ['a graceful reload (SIGHUP), the metrics port listened 100 ms after', 'SIGHUP', '100'],
    ['a chain reload (SIGUSR2)', 'SIGUSR2', '100'],
  ] as const;
  for (const [how, signal, delay] of cases) {
    it(`${how}: no failed request on either port, the port never refused, no EADDRINUSE`, async () => {
      const { port, metrics, p } = await serve({ METRICS_DELAY_MS: delay });
      const { old, results } = await underLoad(p, [port, metrics], () => process.kill(p.pid!, signal));
      for (const [i, r] of results.entries()) {
        const which = i === 0 ? 'the liege socket' : 'the metrics port';
        expect(r.errors, which).toEqual({});
        expect(r.failed, which).toBe(0);
        expect(r.ok, which).toBeGreaterThan(50);
        // both generations answered on each port
        expect([...r.pids].some((x) => old.includes(Number(x))), which).toBe(true);
        expect([...r.pids].some((x) => !old.includes(Number(x))), which).toBe(true);
      }
      process.kill(p.pid!, 'SIGTERM');
      const res = await p;
      expect(res.exitCode).toBe(0);
      expect(res.stderr).not.toMatch(/EADDRINUSE|uncaught exception|worker died/);
    }, 90_000);
  }

  it('a second SIGHUP hands the port over again; a new generation that no longer listens on it: closed once the old workers are gone', async () => {
    const unless = path.join(scratch(), 'no-metrics');
    const { port, metrics, p } = await serve({ METRICS_UNLESS: unless });
    // twice: the image that adopted the socket hands it over in its turn
    const first = await underLoad(p, [port, metrics], () => process.kill(p.pid!, 'SIGHUP'));
    for (const r of first.results) expect(r.failed).toBe(0);
    fs.writeFileSync(unless, '');
    process.kill(p.pid!, 'SIGHUP');
    await until(() => refused(metrics).then((x) => x || undefined), 30_000);
    expect((await get(port))?.status).toBe(200);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/closed a shared port the new generation does not listen on address=127\.0\.0\.1:\d+/);
    expect(res.stderr).not.toMatch(/EADDRINUSE/);
  }, 90_000);
});
