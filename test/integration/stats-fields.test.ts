// Stats fields an operator watches, once always 0: listen_queue (uWSGI's:
// connections the kernel accepted on a liege socket that no worker took
// yet, the first sign that every worker is busy) and harakiri_count (per
// worker slot, how many times harakiri killed its worker).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, statsAt, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const clients: net.Socket[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Stats {
  listen_queue: number;
  sockets: Array<{ name: string; queue: number; max_queue: number }>;
  workers: Array<{ id: number; pid: number; harakiri_count: number; status: string; accepting: number; silent_ms: number }>;
  draining: Array<{ id: number; pid: number; reason: string; draining_ms: number; busy: number; request: string | null }>;
}


describe('stats listen_queue and harakiri_count', () => {
  it('counts the connections waiting in a socket\'s accept queue (TCP and unix) while the only worker is stuck; 0 when idle', async () => {
    const [port, other, statsPort] = [await freePort(), await freePort(), await freePort()];
    const unix = `${dir}/queue.sock`;
    const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/stuck.js`, '--http-socket', `127.0.0.1:${port}`, '--http-socket', `127.0.0.1:${other}`, '--http-socket', unix, '--listen', '64', '--stats', `127.0.0.1:${statsPort}`], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const idle = await until(() => statsAt<Stats>(statsPort));
    expect(idle.listen_queue).toBe(0);
    expect(idle.sockets.map((s) => s.queue)).toEqual([0, 0, 0]);
    // the only worker busy-loops from now on: it accepts nothing more
    http.get(`http://127.0.0.1:${port}/spin`).on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 5; i++) {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => undefined);
      clients.push(c);
    }
    for (let i = 0; i < 3; i++) {
      const c = net.connect(unix);
      c.on('error', () => undefined);
      clients.push(c);
    }
    const busy = await until(() => statsAt<Stats>(statsPort).then((s) => (s && s.listen_queue >= 8 ? s : undefined)));
    expect(busy.sockets[0]).toMatchObject({ name: `127.0.0.1:${port}`, max_queue: 64 });
    expect(busy.sockets[0]!.queue).toBeGreaterThanOrEqual(5);
    expect(busy.sockets[1]!.queue).toBe(0);
    expect(busy.sockets[2]).toMatchObject({ name: unix, max_queue: 64 });
    expect(busy.sockets[2]!.queue).toBeGreaterThanOrEqual(3);
    expect(busy.listen_queue).toBe(busy.sockets[0]!.queue + busy.sockets[2]!.queue);
    // its last heartbeat said idle; 3 s without one, it is shown blocked (before: idle and accepting)
    const blocked = await until(() => statsAt<Stats>(statsPort).then((s) => (s && s.workers[0]!.silent_ms >= 3000 ? s : undefined)));
    expect(blocked.workers[0]).toMatchObject({ status: 'busy', accepting: 0 });
  });

  it('lists the workers that drain (what a reload waits for), with why, since when and their requests in flight', async () => {
    const [port, statsPort] = [await freePort(), await freePort()];
    const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/slow-request.js`, '--http-socket', `127.0.0.1:${port}`, '--stats', `127.0.0.1:${statsPort}`], { cwd: dir });
    started.push(p);
    const first = await until(() => get(port));
    expect((await statsAt<Stats>(statsPort))!.draining).toEqual([]);
    http.get(`http://127.0.0.1:${port}/slow`).on('error', () => undefined);
    await until(() => statsAt<Stats>(statsPort).then((s) => (s?.workers[0]!.status === 'busy' ? true : undefined)));
    process.kill(p.pid!, 'SIGHUP');
    const during = await until(() => statsAt<Stats>(statsPort).then((s) => (s && s.draining.length === 1 && s.draining[0]!.draining_ms >= 1000 ? s : undefined)), 20_000);
    expect(during.draining[0]).toMatchObject({ id: 1, pid: Number(first.pid), reason: 'new generation', busy: 1, request: 'GET /slow' });
    expect(during.workers[0]!.pid).not.toBe(Number(first.pid));
  }, 40_000);

  it('counts the harakiri kills of the slot that ran the stuck request, the other slot stays 0', async () => {
    const [port, statsPort] = [await freePort(), await freePort()];
    const p = startLiege(['--master', '--processes', '2', '--node-app', `${FIXTURES}/apps/stuck.js`, '--http-socket', `127.0.0.1:${port}`, '--harakiri', '1', '--stats', `127.0.0.1:${statsPort}`], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const before = await until(() => statsAt<Stats>(statsPort));
    expect(before.workers.map((w) => w.harakiri_count)).toEqual([0, 0]);
    const stuck = fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(20_000) }).catch(() => undefined);
    const after = await until(() => statsAt<Stats>(statsPort).then((s) => (s && s.workers.some((w) => w.harakiri_count > 0) ? s : undefined)), 20_000);
    await stuck;
    expect(after.workers.map((w) => w.harakiri_count).sort()).toEqual([0, 1]);
  }, 30_000);
});
