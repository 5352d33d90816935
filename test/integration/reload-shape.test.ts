// Reloads that change the instance's shape (sockets, their protocol, the
// number of workers) under keep-alive load: each goes through, no request
// is lost on the ports that stay, and nothing is left behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until, writeIni } from './helpers';
import { startLoad } from './load';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const app = path.join(FIXTURES, 'apps', 'handler.js');

describe('a reload that changes the shape', () => {
  it('switches the protocol a port speaks (socket → http-socket) on the same listening socket, losing no request elsewhere', async () => {
    const dir = scratch();
    const [a, b] = [await freePort(), await freePort()];
    const ini = (proto: string) => writeIni(dir, ['master = true', 'processes = 2', `http-socket = 127.0.0.1:${a}`, `${proto} = 127.0.0.1:${b}`, `node-app = ${app}`]);
    const p = startLiege([ini('socket')]);
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(a));
    expect(await get(b)).toBeUndefined(); // speaks uwsgi
    const load = startLoad(a, 8);
    ini('http-socket');
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done|reload failed|could not start/.test(err) ? true : undefined), 30_000);
    expect(err).not.toMatch(/EADDRINUSE/);
    expect(err).toMatch(/reload done/);
    await sleep(300);
    const r = await load.stop();
    expect(r.failed).toBe(0);
    expect(await get(b)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    fs.rmSync(dir, { recursive: true });
  }, 60_000);
});
