// A single-process instance (no master, one worker) reloads by re-exec in
// place. Its reload stops accepting first (the listening socket stays open,
// moved to the fd the next image inherits): a connection that comes during
// the drain or the exec waits in the backlog. A connection accepted just
// before, whose request was not read yet, is not taken for an idle
// keep-alive one and closed (an empty reply): it is served.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `n` clients, each a new connection per request (Connection: close), until stopped. */
function freshLoad(port: number, n: number) {
  const result = { ok: 0, failed: 0, errors: {} as Record<string, number> };
  let running = true;
  const fail = (why: string) => { result.failed++; result.errors[why] = (result.errors[why] ?? 0) + 1; };
  const one = () => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) result.ok++; else fail(`status ${res.statusCode}`); resolve(); });
      res.on('error', (e) => (fail((e as NodeJS.ErrnoException).code ?? e.message), resolve()));
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => (fail((e as NodeJS.ErrnoException).code ?? e.message), resolve()));
  });
  const loops = Array.from({ length: n }, async () => { while (running) await one(); });
  return { result, stop: async () => { running = false; await Promise.all(loops); return result; } };
}

describe('single-process reload', () => {
  it('a burst of SIGHUPs under a load of new connections loses none (before: empty replies)', async () => {
    const port = await freePort();
    const p = startLiege(['--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js')], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    const load = freshLoad(port, 8);
    await until(() => (load.result.ok > 50 ? true : undefined));
    for (let i = 0; i < 20; i++) {
      process.kill(p.pid!, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 50));
    }
    const served = err.split('serving in a single process').length;
    await until(() => (err.split('serving in a single process').length > served ? true : undefined), 30_000);
    const before = load.result.ok;
    await until(() => (load.result.ok > before + 50 ? true : undefined), 30_000);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 90_000);
});
