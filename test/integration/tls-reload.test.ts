// https-socket as an operator runs it: the key readable by root only (mode
// 600, as certbot and ssl-cert leave it), workers as nobody, 2 workers,
// keep-alive clients; a reload (the master then runs as nobody and cannot
// read the key again), a bad path at start and at reload.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, killGroup, runLiege, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const key = path.join(dir, 'key.pem');
const cert = path.join(dir, 'cert.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
fs.chmodSync(key, 0o600);

const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: fs.readFileSync(cert), checkServerIdentity: () => undefined });
afterAll(() => agent.destroy());

/** GET over the keep-alive agent → status and the serving pid. */
function get(port: number): Promise<{ status: number; pid: string } | undefined> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent, servername: 'localhost', timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, pid: String(res.headers['x-pid']) }));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => { req.destroy(); resolve(undefined); });
  });
}

function config(port: number, certFile = cert): string {
  return writeIni(dir, ['master = true', 'processes = 2', `https-socket = 127.0.0.1:${port},${certFile},${key}`, `node-app = ${FIXTURES}/apps/echo.js`, 'uid = nobody', 'gid = nogroup'], `tls-${port}.ini`);
}

describe('https-socket reloads', () => {
  it('a reload after the privilege drop serves on with the key read as root (said once, with the way out); a bad path at reload keeps the running generation', async () => {
    const port = await freePort();
    const ini = config(port);
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const first = await until(() => get(port));
    expect(first.status).toBe(200);
    process.kill(p.pid!, 'SIGHUP');
    // before: "unable to read …key.pem: EACCES", every reload refused for good
    await until(() => (/reload done/.test(err) ? true : /LIEGE_ERR_RELOAD/.test(err) ? 'failed' : undefined), 30_000);
    expect(err).not.toMatch(/LIEGE_ERR_RELOAD/);
    expect(err).toMatch(/tls-\d+\.ini:4: unable to read \S+key\.pem: EACCES as uid 65534 \(the master dropped root at start\): serving with the certificate and key read before/);
    const after = await until(async () => {
      const r = await get(port);
      return r && r.pid !== first.pid ? r : undefined;
    });
    expect(after.status).toBe(200);
    // a path that does not exist is the config's fault: refused, the running generation serves
    config(port, path.join(dir, 'missing.pem'));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/LIEGE_ERR_RELOAD/.test(err) ? true : undefined), 30_000);
    expect(err).toMatch(/tls-\d+\.ini:4: unable to read \S+missing\.pem: ENOENT/);
    expect((await get(port))?.status).toBe(200);
    // fixed: the image that fell back still hands the key over
    config(port);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => ((err.match(/reload done/g) ?? []).length === 2 ? true : undefined), 30_000);
    expect((await get(port))?.status).toBe(200);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  it('a bad certificate path at start: exit 1 naming the line, nothing served', async () => {
    const port = await freePort();
    const r = await runLiege(['--ini', config(port, path.join(dir, 'nope.pem'))], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/tls-\d+\.ini:4: unable to read \S+nope\.pem: ENOENT/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await get(port)).toBeUndefined();
  });
});
