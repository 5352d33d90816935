// The uwsgi protocol on `socket` without nginx: packets written by hand, in
// pieces, malformed, and behind an async `connect` request hook (the
// adapter hands the accepted socket itself to the app's server and holds its
// data until the server set up its parser).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, killGroup, scratch, startLiege, until, uwsgiPacket } from './helpers';

const started: ResultPromise[] = [];
const logDir = scratch();
afterAll(() => fs.rmSync(logDir, { recursive: true, force: true }));
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

/** Sends `pieces` with a pause between them; the whole answer up to the close. */
function exchange(port: number, pieces: Buffer[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    c.on('data', (d) => got.push(d));
    c.on('error', reject);
    c.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
    c.setTimeout(10_000, () => c.destroy(new Error('no close within 10 s')));
    c.once('connect', async () => {
      for (const p of pieces) {
        c.write(p);
        await new Promise((r) => setTimeout(r, 30));
      }
    });
  });
}

/** Sends `data`, waits for the first bytes of the answer (or `afterMs`), then resets the connection (RST). */
function sendThenReset(port: number, data: Buffer, afterMs?: number): Promise<void> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    c.on('close', () => resolve());
    const reset = () => c.resetAndDestroy();
    c.once('connect', () => {
      c.write(data);
      if (afterMs !== undefined) setTimeout(reset, afterMs);
    });
    if (afterMs === undefined) c.once('data', reset);
  });
}

let master = 0;

async function serve(extra: string[] = []) {
  const port = await freePort();
  const p = startLiege(['--master', '-p', '1', '--socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'echo.js'), ...extra]);
  master = p.pid!;
  started.push(p);
  const vars = { REQUEST_METHOD: 'GET', REQUEST_URI: '/ready', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'x' };
  await until(async () => ((await exchange(port, [uwsgiPacket(vars)]).catch(() => '')).startsWith('HTTP/1.1 200') ? true : undefined));
  return port;
}

const GET = { REQUEST_METHOD: 'GET', REQUEST_URI: '/a?q=1', QUERY_STRING: 'q=1', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '10.1.2.3', REMOTE_PORT: '4567', HTTP_HOST: 'example.org', HTTP_X_TRACE: 'abc' };

describe('uwsgi protocol on `socket`', () => {
  it('a packet in pieces, the client address from REMOTE_ADDR, a body; the answer is plain HTTP, never chunked, then the close', async () => {
    const port = await serve();
    const whole = uwsgiPacket(GET);
    const out = await exchange(port, [whole.subarray(0, 2), whole.subarray(2, 9), whole.subarray(9)]);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out).not.toMatch(/transfer-encoding: chunked/i);
    const seen = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
    expect(seen).toMatchObject({ method: 'GET', url: '/a?q=1', remoteAddress: '10.1.2.3', headers: { host: 'example.org', 'x-trace': 'abc' } });
    const body = Buffer.alloc(300_000, 'z');
    const post = uwsgiPacket({ REQUEST_METHOD: 'POST', REQUEST_URI: '/echo', SERVER_PROTOCOL: 'HTTP/1.1', CONTENT_LENGTH: String(body.length), HTTP_HOST: 'x' }, body);
    const echoed = await exchange(port, [post.subarray(0, 100), post.subarray(100, 70_000), post.subarray(70_000)]);
    expect(echoed.slice(echoed.indexOf('\r\n\r\n') + 4)).toBe(body.toString('latin1'));
  }, 30_000);

  it("`Expect: 100-continue` (nginx passes it on after answering the client itself) gets no `100 Continue`: the answer is the response", async () => {
    const port = await serve();
    const body = Buffer.alloc(200_000, 'e');
    const post = uwsgiPacket({ REQUEST_METHOD: 'POST', REQUEST_URI: '/echo', SERVER_PROTOCOL: 'HTTP/1.1', CONTENT_LENGTH: String(body.length), HTTP_HOST: 'x', HTTP_EXPECT: '100-continue' }, body);
    const out = await exchange(port, [post]);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out.slice(out.indexOf('\r\n\r\n') + 4)).toBe(body.toString('latin1'));
  }, 30_000);

  it('an app that sets `Transfer-Encoding: chunked` itself still answers with a plain body (nginx drops the header, not the framing)', async () => {
    const port = await serve();
    for (const uri of ['/chunked', '/chunked/set']) {
      const out = await exchange(port, [uwsgiPacket({ ...GET, REQUEST_URI: uri })]);
      expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(out).not.toMatch(/transfer-encoding/i);
      expect(out.slice(out.indexOf('\r\n\r\n') + 4)).toBe('hello world');
    }
  }, 30_000);

  it('a packet without HTTP_HOST is served (uWSGI asks no Host of a uwsgi client): Host is SERVER_NAME, else SERVER_ADDR, else localhost', async () => {
    const port = await serve();
    const bare = { REQUEST_METHOD: 'GET', REQUEST_URI: '/h', SERVER_PROTOCOL: 'HTTP/1.1' };
    const cases: Array<[Record<string, string>, string]> = [[{ SERVER_NAME: 'svc.local', SERVER_ADDR: '10.0.0.1' }, 'svc.local'], [{ SERVER_ADDR: '10.0.0.1' }, '10.0.0.1'], [{}, 'localhost']];
    for (const [extra, host] of cases) {
      const out = await exchange(port, [uwsgiPacket({ ...bare, ...extra })]);
      expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)).headers.host).toBe(host);
    }
  }, 30_000);

  it('the request log names the protocol the client spoke to nginx (SERVER_PROTOCOL: HTTP/2.0 for an h2 client, as uWSGI logs it), text and JSON', async () => {
    for (const format of ['text', 'json']) {
      const logfile = path.join(logDir, `proto-${format}.log`);
      const port = await serve(['--logto', logfile, '--log-format', format]);
      await exchange(port, [uwsgiPacket({ ...GET, REQUEST_URI: '/h2', SERVER_PROTOCOL: 'HTTP/2.0' })]);
      await exchange(port, [uwsgiPacket({ ...GET, REQUEST_URI: '/h11', SERVER_PROTOCOL: 'HTTP/1.1' })]);
      const text = await until(() => {
        const t = fs.existsSync(logfile) ? fs.readFileSync(logfile, 'utf8') : '';
        return /\/h2\b/.test(t) && /\/h11\b/.test(t) ? t : undefined;
      });
      const line = (uri: string) => text.split('\n').find((l) => l.includes(`${uri}"`) || l.includes(`${uri} =>`))!;
      // before: "HTTP/1.1" for every request (the head liege rebuilt for the app's server)
      if (format === 'text') {
        expect(line('/h2')).toMatch(/\(HTTP\/2\.0 200\)$/);
        expect(line('/h11')).toMatch(/\(HTTP\/1\.1 200\)$/);
      } else {
        expect(JSON.parse(line('/h2')).proto).toBe('HTTP/2.0');
        expect(JSON.parse(line('/h11')).proto).toBe('HTTP/1.1');
      }
      for (const p of started.splice(0)) killGroup(p);
    }
  }, 30_000);

  it('a malformed packet gets 400 and the close; the worker keeps serving', async () => {
    const port = await serve();
    const bad = Buffer.from([0, 6, 0, 0, 5, 0, 65, 66, 67, 68]); // a key longer than its block
    expect(await exchange(port, [bad])).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    const evil = uwsgiPacket({ REQUEST_METHOD: 'GET', REQUEST_URI: '/x y', SERVER_PROTOCOL: 'HTTP/1.1' });
    expect(await exchange(port, [evil])).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(await exchange(port, [uwsgiPacket(GET)])).toMatch(/^HTTP\/1\.1 200 OK/);
  }, 30_000);

  it('a client that resets its connection after a malformed packet got its 400, or while an async `connect` hook runs: the worker lives on', async () => {
    const dir = scratch();
    const hook = path.join(dir, 'hook.js');
    fs.writeFileSync(hook, "module.exports = { connect: () => new Promise((r) => setTimeout(r, 300)) };\n");
    const port = await serve(['--request-hooks', hook]);
    const [worker] = childrenOf(master);
    const bad = Buffer.from([0, 6, 0, 0, 5, 0, 65, 66, 67, 68]);
    for (let i = 0; i < 5; i++) await sendThenReset(port, bad);
    for (let i = 0; i < 5; i++) await sendThenReset(port, uwsgiPacket(GET), 50);
    // each one was an uncaught ECONNRESET that ended the worker
    expect(await exchange(port, [uwsgiPacket(GET)])).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(childrenOf(master)).toEqual([worker]);
  }, 30_000);

  it('REMOTE_ADDR and REMOTE_PORT are taken only as an address and a port (else the peer\'s): nothing else reaches the app or the request log', async () => {
    const port = await serve();
    const forged = { ...GET, REMOTE_ADDR: '10.0.0.1 [Thu Nov 26] GET /admin => generated\n[pid: 1|worker: 1|req: 1] 6.6.6.6', REMOTE_PORT: 'x' };
    const out = await exchange(port, [uwsgiPacket(forged)]);
    expect(JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4))).toMatchObject({ remoteAddress: '127.0.0.1' });
    const v6 = await exchange(port, [uwsgiPacket({ ...GET, REMOTE_ADDR: '2001:db8::7' })]);
    expect(JSON.parse(v6.slice(v6.indexOf('\r\n\r\n') + 4))).toMatchObject({ remoteAddress: '2001:db8::7' });
  }, 30_000);

  it('a client that has not sent its whole packet within socket-timeout is cut off, a stalled one and a trickling one; the worker keeps serving', async () => {
    const port = await serve(['--socket-timeout', '1']);
    const whole = uwsgiPacket(GET);
    // stalls after part of the vars: closed without an answer (before: held for ever)
    expect(await exchange(port, [whole.subarray(0, 10)])).toBe('');
    // keeps sending, a byte every 30 ms (~5 s for the packet): the deadline is
    // for the whole packet, not for silence
    const bytes = Array.from({ length: whole.length }, (_, i) => whole.subarray(i, i + 1));
    expect(await exchange(port, bytes)).toBe('');
    expect(await exchange(port, [whole.subarray(0, 7), whole.subarray(7)])).toMatch(/^HTTP\/1\.1 200 OK/);
  }, 30_000);

  it('a connection accepted before a drain whose packet comes after it began is answered (it was not followed until its packet was in: the worker exited under it)', async () => {
    const port = await serve();
    const worker = childrenOf(master)[0]!;
    const early = net.connect(port, '127.0.0.1');
    let answer = '';
    early.on('data', (d) => (answer += d.toString('latin1')));
    const closed = new Promise<void>((ok) => early.once('close', () => ok()));
    await new Promise((ok) => early.once('connect', ok));
    // answered on a connection opened after it: it was accepted too (the backlog is FIFO)
    expect(await exchange(port, [uwsgiPacket(GET)])).toMatch(/^HTTP\/1\.1 200 OK/);
    process.kill(worker, 'SIGTERM'); // a recycling's drain
    await new Promise((r) => setTimeout(r, 300));
    early.write(uwsgiPacket(GET));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
  }, 30_000);

  it('behind an async `connect` request hook the request is still read whole', async () => {
    const dir = scratch();
    const hook = path.join(dir, 'hook.js');
    fs.writeFileSync(hook, "module.exports = { connect: () => new Promise((r) => setTimeout(r, 50)) };\n");
    const port = await serve(['--request-hooks', hook]);
    const out = await exchange(port, [uwsgiPacket(GET)]);
    expect(JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4))).toMatchObject({ url: '/a?q=1', remoteAddress: '10.1.2.3' });
  }, 30_000);
});
