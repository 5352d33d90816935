// The app shares its worker's IPC channel with liege: what it sends with
// process.send() (node:cluster apps report to their primary, PM2 apps send
// 'ready') is the app's, never taken for a message of liege's worker.
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, startLiege, statsAt, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});


describe("the app's own IPC messages", () => {
  it("messages shaped like liege's ({ type: 'fatal' | 'stats' | 'accepting' }, 'ready', null) neither end the instance nor break its stats or harakiri", async () => {
    const [port, statsPort] = [await freePort(), await freePort()];
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'sends.js'), '--harakiri', '5', '--stats', `127.0.0.1:${statsPort}`]);
    started.push(p);
    await until(() => get(port));
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    const workers = childrenOf(p.pid!);
    for (let i = 0; i < 4; i++) expect((await fetch(`http://127.0.0.1:${port}/fatal`)).status).toBe(200);
    for (let i = 0; i < 20; i++) expect(await get(port)).toMatchObject({ status: 200 });
    // the workers' own counters still reach the master (a heartbeat a second)
    const s = await until(() => statsAt<{ workers: Array<{ pid: number; requests: number; status: string }> }>(statsPort).then((x) => (x && x.workers.reduce((a, w) => a + w.requests, 0) >= 24 ? x : undefined)));
    expect(s.workers.map((w) => w.pid).sort()).toEqual([...workers].sort());
    expect(childrenOf(p.pid!)).toEqual(workers);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/FATAL|unexpected error|survived/);
  }, 30_000);
});
