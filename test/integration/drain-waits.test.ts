// What a draining worker waits for, and for how long. A connection that has
// sent nothing (a browser's preconnect, a TLS client after its handshake on
// an app that terminates TLS itself) is closed FRESH_GRACE_MS into a drain,
// a reload's as a stop's; before, it held a reload for the whole
// worker-reload-mercy, the log then saying only "old worker gone". A drain
// that lingers says what it waits for, and its mercy expiring (the worker's
// own, or the master's SIGKILL of a stuck one) is a warning naming the
// option. The app's cleanup runs for the drain's signal only (SIGTERM for a
// reload, SIGINT for a stop), the other's when it has none for it: an app
// listening for both (PM2's) ran its cleanup twice.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, lines, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const opened: net.Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.destroy();
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
beforeAll(() => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exitsWithin = (p: ResultPromise, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);

function start(port: number, app: string, extra: string[], logFile: string, env: Record<string, string> = {}): ResultPromise {
  const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', app), '--logto', logFile, ...extra], { env });
  started.push(p);
  return p;
}

/** A connection that sends nothing; resolves when the server closes it. */
function silent(port: number): Promise<void> {
  return new Promise((ok) => {
    const c = net.connect(port, '127.0.0.1');
    opened.push(c);
    c.on('error', () => undefined);
    c.on('close', () => ok());
  });
}

describe('a drain and the connections that sent nothing', () => {
  it('a stop is not held by a client idle after its TLS handshake on an app that terminates TLS itself', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'tls-stop.log');
    const p = start(port, 'own-tls.js', ['--reload-mercy', '60', '--worker-reload-mercy', '60'], logFile, { TLS_CERT: cert, TLS_KEY: key });
    const client = await until(() => new Promise<tls.TLSSocket | undefined>((ok) => {
      const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => ok(c));
      c.on('error', () => ok(undefined));
    }));
    opened.push(client);
    const closed = new Promise<void>((ok) => client.on('close', () => ok()));
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    // closed after its grace (2 s), not at the mercy (60 s)
    expect(await exitsWithin(p, 20_000)).toBe(true);
    await closed;
    expect((await p).exitCode).toBe(0);
    expect(lines(logFile).some((l) => /mercy/.test(l))).toBe(false);
  }, 60_000);

  it('a single process (no master) that terminates TLS itself finishes a request in flight at a stop (it was cut when the grace for silent connections ended)', async () => {
    const port = await freePort();
    const p = startLiege(['--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'own-tls.js')], { env: { TLS_CERT: cert, TLS_KEY: key } });
    started.push(p);
    const ask = (uri: string) => new Promise<number | undefined>((ok) => {
      https.get({ host: '127.0.0.1', port, path: uri, agent: false, rejectUnauthorized: false }, (res) => res.resume().on('end', () => ok(res.statusCode))).on('error', () => ok(undefined));
    });
    await until(() => ask('/'));
    const slow = ask('/slow'); // answered after 3 s
    await sleep(500);
    process.kill(p.pid!, 'SIGTERM');
    expect(await slow).toBe(200);
    expect(await exitsWithin(p, 20_000)).toBe(true);
  }, 60_000);

  it('a reload is not held by connections that sent nothing; a request sent within the grace is answered', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'silent-reload.log');
    const p = start(port, 'slow-request.js', ['--worker-reload-mercy', '60'], logFile);
    const first = await until(() => get(port));
    const closes = [silent(port), silent(port), silent(port)];
    // and one whose request comes 1 s into the drain
    const late = new Promise<string>((ok) => {
      const c = net.connect(port, '127.0.0.1');
      opened.push(c);
      let got = '';
      c.on('data', (d) => (got += d));
      c.on('error', () => undefined);
      c.on('close', () => ok(got));
      c.on('connect', () => setTimeout(() => c.write('GET /late HTTP/1.1\r\nHost: x\r\n\r\n'), 1500));
    });
    await sleep(500);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => lines(logFile).some((l) => /old worker gone/.test(l)), 20_000);
    await Promise.all(closes);
    const answer = await late;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain(`x-pid: ${first.pid}`);
    expect(lines(logFile).some((l) => /mercy/.test(l))).toBe(false);
    const next = await until(() => get(port));
    expect(next.pid).not.toBe(first.pid);
  }, 60_000);
});

describe('a drain that lingers', () => {
  it('says what it waits for, and its mercy expiring is a warning naming worker-reload-mercy', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'linger.log');
    const p = start(port, 'slow-request.js', ['--worker-reload-mercy', '8'], logFile);
    await until(() => get(port));
    http.get({ host: '127.0.0.1', port, path: '/slow' }).on('error', () => undefined);
    await sleep(300);
    process.kill(p.pid!, 'SIGHUP');
    const report = await until(() => lines(logFile).find((l) => /still draining/.test(l)), 20_000);
    expect(report).toMatch(/waiting for 1 request in flight; the mercy \(worker-reload-mercy = 8 s\) ends it/);
    const warn = await until(() => lines(logFile).find((l) => /drain mercy .* expired/.test(l)), 20_000);
    expect(warn).toMatch(/drain mercy \(worker-reload-mercy = 8 s\) expired \(new generation\): closing 1 request in flight/);
    await until(() => lines(logFile).some((l) => /old worker gone/.test(l)), 10_000);
  }, 60_000);

  it("a stop during a reload's drain bounds it by the stop's mercy: the worker ends it (before: it kept the reload's, and the master SIGKILLed it)", async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'stop-in-drain.log');
    const p = start(port, 'slow-request.js', ['--worker-reload-mercy', '30', '--reload-mercy', '3'], logFile);
    await until(() => get(port));
    http.get({ host: '127.0.0.1', port, path: '/slow' }).on('error', () => undefined);
    await sleep(300);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => lines(logFile).find((l) => /worker draining/.test(l)), 20_000);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    // (the worker's own line: the master's SIGKILL a second later is a
    // stuck worker's, here only a starved one's)
    const warn = lines(logFile).find((l) => /drain mercy .* expired/.test(l));
    expect(warn).toMatch(/worker: WARN drain mercy \(reload-mercy = 3 s\) expired \(new generation\): closing 1 request in flight/);
  }, 60_000);

  it('a stuck old worker SIGKILLed when its mercy expires is a warning naming worker-reload-mercy', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'stuck.log');
    const p = start(port, 'stuck.js', ['--worker-reload-mercy', '2'], logFile);
    await until(() => get(port));
    const worker = childrenOf(p.pid!)[0]!;
    http.get({ host: '127.0.0.1', port, path: '/spin' }).on('error', () => undefined);
    await sleep(500);
    process.kill(p.pid!, 'SIGHUP');
    const warn = await until(() => lines(logFile).find((l) => /worker still running 1 s after its drain mercy/.test(l)), 20_000);
    expect(warn).toMatch(/WARN/);
    expect(warn).toMatch(/drain mercy \(worker-reload-mercy = 2 s\) expired: SIGKILL/);
    expect(warn).toContain(`pid=${worker}`);
    await until(() => lines(logFile).some((l) => /old worker gone .*signal=SIGKILL/.test(l)), 10_000);
  }, 60_000);
});

describe("the app's cleanup on a drain", () => {
  it('an app listening for SIGINT and SIGTERM cleans up once: SIGTERM on a reload, SIGINT on a stop', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'both.log');
    const marks = path.join(dir, 'both.marks');
    const p = start(port, 'both-signals.js', [], logFile, { CLEANUP_FILE: marks });
    const first = await until(() => get(port));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => lines(logFile).some((l) => /old worker gone/.test(l)), 20_000);
    const second = await until(async () => {
      const a = await get(port);
      return a && a.pid !== first.pid ? a : undefined;
    });
    expect(fs.readFileSync(marks, 'utf8').trim().split('\n')).toEqual([`SIGTERM ${first.pid}`]);
    process.kill(p.pid!, 'SIGTERM');
    expect(await exitsWithin(p, 20_000)).toBe(true);
    expect(fs.readFileSync(marks, 'utf8').trim().split('\n')).toEqual([`SIGTERM ${first.pid}`, `SIGINT ${second.pid}`]);
  }, 60_000);

  it("an app listening for SIGTERM only has it run on a stop (SIGINT's stand-in)", async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'term.log');
    const marks = path.join(dir, 'term.marks');
    const p = start(port, 'both-signals.js', [], logFile, { CLEANUP_FILE: marks, SIGNALS: 'SIGTERM' });
    const first = await until(() => get(port));
    process.kill(p.pid!, 'SIGTERM');
    expect(await exitsWithin(p, 20_000)).toBe(true);
    expect(fs.readFileSync(marks, 'utf8').trim().split('\n')).toEqual([`SIGTERM ${first.pid}`]);
  }, 60_000);
});
