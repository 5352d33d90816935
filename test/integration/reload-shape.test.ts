// Reloads that change the instance's shape (sockets, their protocol, the
// number of workers) under keep-alive load: each goes through, no request
// is lost on the ports that stay, and nothing is left behind.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until, writeIni } from './helpers';
import { startLoad } from './load';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const app = path.join(FIXTURES, 'apps', 'handler.js');

/** Whether something listens on 127.0.0.1:port (a connect is accepted by the kernel). */
const listening = (port: number) => new Promise<boolean>((resolve) => {
  const c = net.connect(port, '127.0.0.1');
  c.once('connect', () => (c.destroy(), resolve(true)));
  c.once('error', () => resolve(false));
});

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

  it('a reload that removes one port and adds another, then fails (pre-app hook): the fallback keeps the old ports (its respawns too), the added one is not left listening', async () => {
    const dir = scratch();
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    const base = ['master = true', 'processes = 2', `http-socket = 127.0.0.1:${a}`, `node-app = ${app}`];
    const ini = writeIni(dir, [...base, `http-socket = 127.0.0.1:${b}`]);
    const p = startLiege([ini]);
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(b));
    writeIni(dir, [...base, `http-socket = 127.0.0.1:${c}`, 'hook-pre-app = exec:false']);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/previous generation/.test(err) ? true : undefined), 20_000);
    expect(await listening(c)).toBe(false); // bound by the failed image: released
    // the fallback's respawns get the running generation's sockets, all open
    for (const w of childrenOf(p.pid!)) process.kill(w, 'SIGKILL');
    await until(() => (err.match(/worker spawned/g)?.length === 4 ? true : undefined));
    await until(() => get(a));
    expect(await get(b)).toMatchObject({ status: 200 });
    expect(err).not.toMatch(/destroying instance|EINVAL|EBADF/);
    // fixed: the next reload closes b and serves c
    writeIni(dir, [...base, `http-socket = 127.0.0.1:${c}`]);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(err) ? true : undefined), 30_000);
    expect(await get(c)).toMatchObject({ status: 200 });
    expect(await listening(b)).toBe(false);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    fs.rmSync(dir, { recursive: true });
  }, 60_000);

  it('a unix socket removed by a reload is unlinked (vacuum)', async () => {
    const dir = scratch();
    const port = await freePort();
    const sock = path.join(dir, 'app.sock');
    const base = ['master = true', 'processes = 1', 'vacuum = true', `http-socket = 127.0.0.1:${port}`, `node-app = ${app}`];
    const ini = writeIni(dir, [...base, `http-socket = ${sock}`]);
    const p = startLiege([ini]);
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(port));
    expect(fs.existsSync(sock)).toBe(true);
    writeIni(dir, base);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(err) ? true : undefined), 30_000);
    expect(fs.existsSync(sock)).toBe(false);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    fs.rmSync(dir, { recursive: true });
  }, 60_000);
});
