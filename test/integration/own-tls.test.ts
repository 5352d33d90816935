// An app that terminates TLS itself on liege's plain socket
// (https.createServer: an https.Server is no http.Server) is served as any
// other: its requests are logged and counted (max-requests recycles its
// worker), and a reload's drain tells a kept-alive connection to close.
// Before: liege only followed http.Server, so none of this happened.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, killGroup, lines, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
beforeAll(() => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
});
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Answer { status: number; pid: string; connection: string | undefined }

function ask(port: number, uri = '/', agent?: https.Agent): Promise<Answer | undefined> {
  return new Promise((ok) => {
    const req = https.get({ host: '127.0.0.1', port, path: uri, agent: agent ?? false, rejectUnauthorized: false }, (res) => {
      res.resume().on('end', () => ok({ status: res.statusCode!, pid: String(res.headers['x-pid']), connection: res.headers.connection }));
    });
    req.on('error', () => ok(undefined));
  });
}

function start(port: number, extra: string[], logFile: string): ResultPromise {
  const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'own-tls.js'), '--logto', logFile, ...extra], { env: { TLS_CERT: cert, TLS_KEY: key } });
  started.push(p);
  return p;
}

describe('an app that terminates TLS itself', () => {
  it('has its requests logged and counted: max-requests recycles its worker', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'counted.log');
    start(port, ['--max-requests', '3', '--min-worker-lifetime', '1'], logFile);
    const first = await until(() => ask(port, '/probe'));
    expect(first.status).toBe(200);
    await ask(port, '/probe');
    await ask(port, '/probe');
    // the request log has them, as for an http.Server
    await until(() => (lines(logFile).filter((l) => / GET \/probe => generated \d+ bytes .*\(HTTP\/1\.1 200\)/.test(l)).length === 3 ? true : undefined));
    // the third request recycled the worker: another one answers now
    const next = await until(async () => {
      const a = await ask(port, '/probe');
      return a && a.pid !== first.pid ? a : undefined;
    });
    expect(next.status).toBe(200);
    expect(lines(logFile).some((l) => /max-requests/.test(l))).toBe(true);
  }, 60_000);

  it("a reload's drain answers a request in flight with Connection: close", async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'drain.log');
    const p = start(port, [], logFile);
    const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
    try {
      const first = await until(() => ask(port, '/', agent));
      expect(first.connection).toBe('keep-alive');
      const slow = ask(port, '/slow', agent);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(p.pid!, 'SIGHUP');
      const answer = await slow;
      expect(answer).toMatchObject({ status: 200, pid: first.pid, connection: 'close' });
      // the new generation serves
      await until(async () => {
        const a = await ask(port);
        return a && a.pid !== first.pid ? a : undefined;
      });
    } finally {
      agent.destroy();
    }
  }, 60_000);
});
