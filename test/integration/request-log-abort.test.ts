// The request log line of a request whose client went away before the
// response ended (an upload aborted halfway, a client that timed out on a
// slow request: the lines an operator looks for) still names the client's
// address, as uWSGI's does, not "-", and the status nginx gives it (499:
// the client closed the connection before any response).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, statsAt, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');

describe('request log of an aborted request', () => {
  for (const format of ['text', 'json']) {
    it(`an upload aborted halfway is logged with the client's address (${format})`, async () => {
      const port = await freePort();
      const logfile = path.join(dir, `abort-${format}.log`);
      const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/echo.js`, '--http-socket', `127.0.0.1:${port}`, '--logto', logfile, '--log-format', format], { cwd: dir });
      started.push(p);
      await until(() => get(port));
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => undefined);
      c.write(`POST /echo/aborted HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
      await new Promise((r) => setTimeout(r, 300));
      c.destroy();
      const line = await until(() => read(logfile).split('\n').find((l) => l.includes('/echo/aborted')));
      // before: "-" (the peer's address was first asked for after the close)
      // before: "generated 47 bytes … (HTTP/1.1 200)": the app's default status, and Node's own 400 counted as its body
      if (format === 'text') expect(line).toMatch(/\] 127\.0\.0\.1 \[.*POST \/echo\/aborted => generated 0 bytes in \d+ msecs \(HTTP\/1\.1 499\)/);
      else expect(JSON.parse(line)).toMatchObject({ addr: '127.0.0.1', method: 'POST', uri: '/echo/aborted', status: 499, bytes: 0 });
    });
  }

  it('a fetch handler reading an upload the client aborts: 499, not an app exception (no error line, no stack, 0 exceptions); a throw still is one', async () => {
    const [port, stats] = [await freePort(), await freePort()];
    const logfile = path.join(dir, 'abort-fetch.log');
    const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/fetch-default.mjs`, '--http-socket', `127.0.0.1:${port}`, '--logto', logfile, '--stats', `127.0.0.1:${stats}`], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    c.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
    await new Promise((r) => setTimeout(r, 300));
    c.destroy();
    await until(() => read(logfile).split('\n').find((l) => l.includes('POST /upload')));
    // a real exception after it: its line and count show the worker reported what it had
    await fetch(`http://127.0.0.1:${port}/throw`).catch(() => undefined);
    await until(() => (/GET \/throw/.test(read(logfile)) ? true : undefined));
    const text = read(logfile);
    expect(text).toMatch(/POST \/upload => generated 0 bytes in \d+ msecs \(HTTP\/1\.1 499\)/);
    // before: "app: ERROR app exception: Error: aborted" with Node's stack, counted
    expect(text).not.toMatch(/aborted/);
    expect(text).toMatch(/app exception: Error: fetch handler failed on purpose/);
    const dump = await until(async () => {
      const d = await statsAt<{ workers: Array<{ exceptions: number; requests: number }> }>(stats);
      return d && d.workers[0]!.requests >= 3 ? d : undefined;
    });
    expect(dump.workers[0]!.exceptions).toBe(1);
  });
});
