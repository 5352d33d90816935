// Protocols on liege's sockets behind a real nginx: `socket` speaks uWSGI's
// binary protocol (uwsgi_pass + uwsgi_params, TCP and unix with
// chmod-socket, nginx workers as nobody), `http-socket` HTTP/1.1 keep-alive
// (proxy_pass with upstream keep-alive), `https-socket` TLS in the worker.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, killGroup, runLiege, scratch, startLiege, until } from './helpers';
import { NGINX, startNginx, type Nginx } from './nginx';

const dir = scratch();
const started: ResultPromise[] = [];
const nginxes: Nginx[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) killGroup(p);
  for (const n of nginxes.splice(0)) await n.stop();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function get(url: string, init: RequestInit = {}) {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  } catch {
    return undefined;
  }
}

/** A POST with `Expect: 100-continue`: the body goes once the server said continue. */
function postExpecting(port: number, urlPath: string, body: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: urlPath, headers: { expect: '100-continue', 'content-length': body.length }, timeout: 10_000 });
    req.on('continue', () => req.end(body));
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
  });
}

function accepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(undefined));
  });
}

function liege(args: string[]): ResultPromise {
  const p = startLiege(['--master', '--processes', '2', '--node-app', `${FIXTURES}/apps/echo.js`, ...args], { cwd: dir });
  started.push(p);
  return p;
}

describe.skipIf(!NGINX)('nginx in front of liege', () => {
  it('uwsgi_pass to `socket` over TCP: method, URI, query, headers, client address, any body size, status', async () => {
    const [front, back] = [await freePort(), await freePort()];
    liege(['--socket', `127.0.0.1:${back}`]);
    await until(() => accepts(back));
    const ng = await startNginx(dir, `server { listen 127.0.0.1:${front}; client_max_body_size 64m; location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${back}; } }`, front);
    nginxes.push(ng);
    const r = await until(() => get(`http://127.0.0.1:${front}/a/b%20c?x=1&y=%C3%A9`, { headers: { 'x-custom': 'hello', cookie: 'k=v' } }).then((x) => (x?.status === 200 ? x : undefined)));
    const seen = JSON.parse(r.body.toString());
    expect(seen).toMatchObject({ method: 'GET', url: '/a/b%20c?x=1&y=%C3%A9', httpVersion: '1.1', remoteAddress: '127.0.0.1', encrypted: false });
    expect(seen.headers).toMatchObject({ 'x-custom': 'hello', cookie: 'k=v', host: '127.0.0.1' });
    expect(r.headers.get('x-app')).toBe('echo');
    expect((await get(`http://127.0.0.1:${front}/created`))?.status).toBe(201);
    // a body bigger than nginx's buffers (spooled to a temp file) comes back intact
    const body = Buffer.alloc(5 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const echo = await get(`http://127.0.0.1:${front}/echo`, { method: 'POST', body });
    expect(echo?.status).toBe(200);
    expect(echo?.body.equals(body)).toBe(true);
    // as curl sends a body over 1 MiB: `Expect: 100-continue` (before: the
    // app's "100 Continue" was taken by nginx as the response, the rest of
    // the body never sent, the request hung)
    const expected = await postExpecting(front, '/echo', body);
    expect(expected.status).toBe(200);
    expect(expected.body.equals(body)).toBe(true);
    // an app's own `Transfer-Encoding: chunked` reaches the client as the body, not as framing
    expect((await get(`http://127.0.0.1:${front}/chunked`))?.body.toString()).toBe('hello world');
    expect(ng.errorLog()).not.toMatch(/\[error\]/);
  });

  it('uwsgi_pass: a header the client sent twice reaches the app as from a direct client (two Cookie lines joined with "; ", others with ", ")', async () => {
    const [front, back] = [await freePort(), await freePort()];
    liege(['--socket', `127.0.0.1:${back}`]);
    await until(() => accepts(back));
    const ng = await startNginx(dir, `server { listen 127.0.0.1:${front}; location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${back}; } }`, front);
    nginxes.push(ng);
    // fetch() joins repeated headers itself: the request is written by hand
    // (HTTP/1.0: nginx answers without chunks, then closes)
    const raw = await until(() => new Promise<string | undefined>((resolve) => {
      const c = net.connect(front, '127.0.0.1');
      let out = '';
      c.on('connect', () => c.write('GET /dup HTTP/1.0\r\nHost: x\r\nCookie: session=abc\r\nCookie: theme=dark\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nConnection: close\r\n\r\n'));
      c.on('data', (d) => { out += d; });
      c.on('end', () => resolve(out.startsWith('HTTP/1.1 200') ? out : undefined));
      c.on('error', () => resolve(undefined));
    }));
    const seen = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    // before: the last of each won: cookie "theme=dark", the session lost
    expect(seen.headers.cookie).toBe('session=abc; theme=dark');
    expect(seen.headers['x-forwarded-for']).toBe('10.0.0.1, 10.0.0.2');
  });

  it('uwsgi_pass to a unix `socket`: 502 for nginx (nobody) without chmod-socket, served with chmod-socket (bare = 666)', async () => {
    const front = await freePort();
    const sock = path.join(dir, 'app.sock');
    const server = `server { listen 127.0.0.1:${front}; location / { include uwsgi_params; uwsgi_pass unix:${sock}; } }`;
    const plain = liege(['--socket', sock]);
    await until(() => fs.existsSync(sock) || undefined);
    expect(fs.statSync(sock).mode & 0o777).not.toBe(0o666);
    const ng = await startNginx(dir, server, front);
    nginxes.push(ng);
    await new Promise((r) => setTimeout(r, 500));
    expect((await get(`http://127.0.0.1:${front}/`))?.status).toBe(502);
    process.kill(plain.pid!, 'SIGTERM');
    await plain;

    liege(['--socket', sock, '--chmod-socket', '--vacuum']);
    const r = await until(() => get(`http://127.0.0.1:${front}/u?q=1`).then((x) => (x?.status === 200 ? x : undefined)));
    expect(JSON.parse(r.body.toString())).toMatchObject({ url: '/u?q=1', remoteAddress: '127.0.0.1' });
    expect(fs.statSync(sock).mode & 0o777).toBe(0o666);
  });

  it('proxy_pass with upstream keep-alive to `http-socket`', async () => {
    const [front, back] = [await freePort(), await freePort()];
    liege(['--http-socket', `127.0.0.1:${back}`]);
    await until(() => get(`http://127.0.0.1:${back}/`));
    const ng = await startNginx(dir, `upstream app { server 127.0.0.1:${back}; keepalive 8; }
  server { listen 127.0.0.1:${front}; location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_pass http://app; } }`, front);
    nginxes.push(ng);
    await until(() => get(`http://127.0.0.1:${front}/`).then((x) => (x?.status === 200 ? x : undefined)));
    for (let i = 0; i < 20; i++) {
      const r = await get(`http://127.0.0.1:${front}/k${i}`);
      expect(JSON.parse(r!.body.toString()).url).toBe(`/k${i}`);
    }
    expect(ng.errorLog()).not.toMatch(/\[error\]/);
  });
});

describe('https-socket', () => {
  it('terminates TLS in the worker with the configured cert and key', async () => {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    fs.chmodSync(key, 0o600); // readable by root only: the master reads it before the drop
    const port = await freePort();
    liege(['--https-socket', `127.0.0.1:${port},${cert},${key}`, '--uid', 'nobody', '--gid', 'nogroup']);
    const body = await until(() => new Promise<string | undefined>((resolve) => {
      https.get({ host: '127.0.0.1', port, path: '/tls', ca: fs.readFileSync(cert), servername: 'localhost', checkServerIdentity: () => undefined }, (res) => {
        let b = '';
        res.on('data', (d) => { b += d; });
        res.on('end', () => resolve(b));
      }).on('error', () => resolve(undefined));
    }));
    expect(JSON.parse(body)).toMatchObject({ url: '/tls', encrypted: true });
  });

  it('a file that is no PEM, a key of another certificate: refused by the master before any worker, naming the option (before: "hook failed in a worker" after "master started")', async () => {
    const [key, cert, otherKey, otherCert, junk] = ['k1.pem', 'c1.pem', 'k2.pem', 'c2.pem', 'junk.pem'].map((f) => path.join(dir, f));
    for (const [k, c] of [[key, cert], [otherKey, otherCert]]) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', k!, '-out', c!, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    }
    fs.writeFileSync(junk, 'not a certificate\n');
    const port = await freePort();
    for (const [files, why] of [[`${junk},${key}`, /no start line/], [`${cert},${otherKey}`, /key values mismatch/]] as const) {
      const r = await runLiege(['--master', '--processes', '2', '--node-app', `${FIXTURES}/apps/echo.js`, '--https-socket', `127.0.0.1:${port},${files}`], { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/command line: bad https-socket certificate or key: /);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).not.toMatch(/worker spawned|hook failed/);
    }
  });
});
