// Signals that come while the instance stops: a quit (SIGQUIT, or Ctrl-C
// twice) makes a graceful stop immediate; none of them, during the drain or
// the atexit hooks, kills the master (its atexit hooks and vacuum run).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, cmdlineOf, FIXTURES, freePort, get, killGroup, processes, scratch, startLiege, until, writeIni } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Whether p exits within ms. */
const exitsWithin = (p: ResultPromise, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);
/** Exited (a zombie of whoever adopted it counts: it runs nothing). */
const gone = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'); } catch { return true; } };

describe('signals while stopping', () => {
  for (const second of ['SIGQUIT', 'SIGINT'] as const) {
    it(`${second} during a graceful stop that waits for a slow request makes it immediate`, async () => {
      const port = await freePort();
      const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'slow-request.js'), '--reload-mercy', '60']);
      started.push(p);
      await until(() => get(port));
      const worker = childrenOf(p.pid!)[0]!;
      http.get({ host: '127.0.0.1', port, path: '/slow' }).on('error', () => undefined);
      await sleep(300);
      process.kill(p.pid!, second === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
      await sleep(500);
      expect(await exitsWithin(p, 0)).toBe(false); // the stop waits for the request
      process.kill(p.pid!, second);
      expect(await exitsWithin(p, 10_000)).toBe(true);
      expect((await p).exitCode).toBe(0);
      expect(childrenOf(p.pid!)).toEqual([]);
      expect(fs.existsSync(`/proc/${worker}`)).toBe(false);
    }, 40_000);
  }

  it('a graceful stop closes idle keep-alive connections (an app keeping them 2 min, as nginx upstream keepalive does) and still finishes a request in flight', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'long-keepalive.js'), '--reload-mercy', '60']);
    started.push(p);
    await until(() => get(port));
    const agent = new http.Agent({ keepAlive: true });
    const closed: Array<Promise<void>> = [];
    agent.on('free', (sock) => closed.push(new Promise((ok) => sock.once('close', () => ok()))));
    const ask = (p: string) => new Promise<string>((ok, ko) => {
      http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => ok(body.trim()));
      }).on('error', ko);
    });
    expect(await Promise.all([ask('/'), ask('/'), ask('/')])).toEqual(['ok', 'ok', 'ok']);
    expect(closed.length).toBeGreaterThan(0); // idle in the agent's pool now
    const slow = http.get({ host: '127.0.0.1', port, path: '/slow' });
    const slowBody = new Promise<string>((ok, ko) => {
      slow.on('response', (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => ok(body.trim()));
      });
      slow.on('error', ko);
    });
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    expect(await slowBody).toBe('slow done');
    expect(await exitsWithin(p, 15_000)).toBe(true); // not at the keep-alive timeout, nor the mercy
    expect((await p).exitCode).toBe(0);
    await Promise.all(closed); // the idle pool's connections were closed by the workers
    agent.destroy();
  }, 60_000);

  it('a graceful stop closes a connection that sent nothing (a browser\'s preconnect) after a grace, and serves one whose request comes within it', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--reload-mercy', '60']);
    started.push(p);
    await until(() => get(port));
    const open = () => new Promise<net.Socket>((ok) => { const c = net.connect(port, '127.0.0.1', () => ok(c)); c.on('error', () => undefined); });
    const silent = await open();
    const late = await open();
    let answer = '';
    late.on('data', (d) => (answer += d));
    const closed = (c: net.Socket) => new Promise<void>((ok) => c.once('close', () => ok()));
    const [silentClosed, lateClosed] = [closed(silent), closed(late)];
    // answered on a connection opened after them: both were accepted (the backlog is FIFO)
    expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    await sleep(500);
    late.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await lateClosed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    // (before: the silent one held the stop for the whole mercy)
    expect(await exitsWithin(p, 15_000)).toBe(true);
    expect((await p).exitCode).toBe(0);
    await silentClosed;
  }, 60_000);

  it('a graceful stop closes the idle keep-alive connections of an app that terminates TLS itself (https.createServer on the liege socket)', async () => {
    const dir = scratch();
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'own-tls.js'), '--reload-mercy', '60'], { env: { TLS_CERT: cert, TLS_KEY: key } });
    started.push(p);
    const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
    const closed: Array<Promise<void>> = [];
    agent.on('free', (sock) => closed.push(new Promise((ok) => sock.once('close', () => ok()))));
    const ask = () => new Promise<number | undefined>((ok) => {
      https.get({ host: '127.0.0.1', port, agent }, (res) => res.resume().on('end', () => ok(res.statusCode))).on('error', () => ok(undefined));
    });
    await until(ask);
    expect(await Promise.all([ask(), ask(), ask()])).toEqual([200, 200, 200]);
    process.kill(p.pid!, 'SIGTERM');
    // (before: https.Server is no http.Server, its idle connections were kept: the stop took the mercy)
    expect(await exitsWithin(p, 15_000)).toBe(true);
    expect((await p).exitCode).toBe(0);
    await Promise.all(closed);
    agent.destroy();
  }, 60_000);

  it('the master SIGKILLed: every worker drains, closing its idle keep-alive connections, and exits by itself (not SIGKILLed by its watchdog 3 s later)', async () => {
    // the kernel closes a dead master's files before it reparents its
    // children: a worker that read its parent at the channel's close took
    // the master for alive (as when the app closed its own channel) and
    // served on until the watchdog, in about a third of the workers
    const dir = scratch();
    for (let round = 0; round < 3; round++) {
      const marks = path.join(dir, `marks-${round}`);
      fs.writeFileSync(marks, '');
      const port = await freePort();
      const p = startLiege(['--master', '-p', '4', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'exit-mark.js')], { env: { EXIT_MARKS: marks } });
      started.push(p);
      await until(() => get(port));
      const lines = (what: string) => fs.readFileSync(marks, 'utf8').split('\n').filter((l) => l.endsWith(what));
      await until(() => (lines('listening').length === 4 ? true : undefined));
      const workers = childrenOf(p.pid!);
      expect(workers.sort()).toEqual(lines('listening').map((l) => Number(l.split(' ')[0])).sort());
      const agent = new http.Agent({ keepAlive: true });
      const ask = () => new Promise<void>((ok, ko) => http.get({ host: '127.0.0.1', port, agent }, (res) => res.resume().on('end', ok)).on('error', ko));
      await Promise.all(Array.from({ length: 8 }, ask)); // idle in the agent's pool now
      process.kill(p.pid!, 'SIGKILL');
      await until(() => (workers.every(gone) ? true : undefined), 20_000);
      agent.destroy();
      expect(lines('exit 0').sort(), `round ${round}`).toEqual(workers.map((w) => `${w} exit 0`).sort());
    }
  }, 90_000);

  it('a SIGTERM or SIGINT during the atexit hooks is not fatal: the hooks finish, vacuum runs, exit 0', async () => {
    const dir = scratch();
    const port = await freePort();
    const ini = writeIni(dir, ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${path.join(FIXTURES, 'apps', 'handler.js')}`, 'vacuum = true', `pidfile = ${dir}/pid`, `hook-as-user-atexit = exec:sleep 2; echo done > ${dir}/done`]);
    const p = startLiege([ini]);
    started.push(p);
    await until(() => get(port));
    process.kill(p.pid!, 'SIGTERM');
    await until(() => (childrenOf(p.pid!).some((c) => /sleep 2/.test(cmdlineOf(c)) || /sleep 2/.test(childrenOf(c).map(cmdlineOf).join())) ? true : undefined));
    process.kill(p.pid!, 'SIGINT');
    await sleep(100);
    try { process.kill(p.pid!, 'SIGTERM'); } catch { /* killed by the SIGINT: the bug this test is about */ }
    const res = await p;
    expect(res.signal).toBeUndefined();
    expect(res.exitCode).toBe(0);
    expect(fs.existsSync(`${dir}/done`)).toBe(true);
    expect(fs.existsSync(`${dir}/pid`)).toBe(false);
    fs.rmSync(dir, { recursive: true });
  }, 40_000);

  // a startup hook blocks the master's thread: before, the stop waited for
  // the hook to end (a hung one: for good, until systemd's SIGKILL)
  const hung = (dir: string, tag: string) => `exec:sh -c 'while :; do sleep 1; done' ${path.basename(dir)}-${tag}; true`;
  const hookLeft = (dir: string, tag: string) => processes().some((x) => x.state !== 'Z' && x.argv.join(' ').endsWith(`${path.basename(dir)}-${tag}`));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during a startup hook that hangs stops the instance at once: the hook is sent SIGTERM, atexit runs, vacuum, exit 0, nothing left`, async () => {
      const dir = scratch();
      const port = await freePort();
      const ini = writeIni(dir, ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${path.join(FIXTURES, 'apps', 'handler.js')}`, 'vacuum = true', `pidfile = ${dir}/pid`, `hook-pre-app = ${hung(dir, 'start')}`, `hook-as-user-atexit = exec:echo done > ${dir}/done`]);
      const p = startLiege([ini]);
      started.push(p);
      await until(() => hookLeft(dir, 'start') || undefined);
      process.kill(p.pid!, signal);
      expect(await exitsWithin(p, 10_000)).toBe(true);
      const res = await p;
      expect(res.exitCode).toBe(0);
      expect(res.stderr).toMatch(new RegExp(`${signal} during a startup hook: the hook was sent SIGTERM, the instance stops`));
      expect(fs.existsSync(`${dir}/done`)).toBe(true);
      expect(fs.existsSync(`${dir}/pid`)).toBe(false);
      await until(() => (hookLeft(dir, 'start') ? undefined : true), 10_000); // (what the hook's shell ran: the guard's)
      fs.rmSync(dir, { recursive: true });
    }, 40_000);
  }

  it('SIGTERM during a master-start hook that hangs (run on the loop, before it takes its queue): stops at once, the hook ended with the rest', async () => {
    const dir = scratch();
    const port = await freePort();
    const ini = writeIni(dir, ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${path.join(FIXTURES, 'apps', 'handler.js')}`, `hook-master-start = ${hung(dir, 'master-start')}`]);
    const p = startLiege([ini]);
    started.push(p);
    await until(() => hookLeft(dir, 'master-start') || undefined);
    process.kill(p.pid!, 'SIGTERM');
    // before: the stop waited for the hook, for good
    expect(await exitsWithin(p, 10_000)).toBe(true);
    expect((await p).exitCode).toBe(0);
    await until(() => (hookLeft(dir, 'master-start') ? undefined : true), 10_000);
    fs.rmSync(dir, { recursive: true });
  }, 40_000);

  it("a SIGTERM to a worker during its accepting hook is not passed on: the worker drains after the hook, a replacement serves (no 'FATAL hook failed')", async () => {
    const dir = scratch();
    const port = await freePort();
    const ini = writeIni(dir, ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${path.join(FIXTURES, 'apps', 'handler.js')}`, 'hook-accepting = exec:sleep 2']);
    const p = startLiege([ini]);
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const worker = await until(() => childrenOf(p.pid!).find((c) => childrenOf(c).some((h) => /sleep 2/.test(cmdlineOf(h)))));
    process.kill(worker, 'SIGTERM');
    await until(() => (/hook ran phase=accepting .*outcome=ok/.test(err) ? true : undefined));
    const r = await until(() => get(port), 20_000);
    expect(r).toMatchObject({ status: 200 });
    expect(err).not.toMatch(/FATAL/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    fs.rmSync(dir, { recursive: true });
  }, 40_000);

  it('SIGTERM during a reload whose asap hook hangs: the running generation stops (before: the master hung in the hook, no respawn, no stop)', async () => {
    const dir = scratch();
    const port = await freePort();
    const conf = ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${path.join(FIXTURES, 'apps', 'handler.js')}`];
    const ini = writeIni(dir, conf);
    const p = startLiege([ini]);
    started.push(p);
    await until(() => get(port));
    writeIni(dir, [...conf, `hook-asap = ${hung(dir, 'reload')}`]);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => hookLeft(dir, 'reload') || undefined);
    expect(await get(port)).toMatchObject({ status: 200 }); // the running generation serves meanwhile
    process.kill(p.pid!, 'SIGTERM');
    expect(await exitsWithin(p, 15_000)).toBe(true);
    expect((await p).exitCode).toBe(0);
    await until(() => (hookLeft(dir, 'reload') ? undefined : true), 10_000);
    fs.rmSync(dir, { recursive: true });
  }, 40_000);
});
