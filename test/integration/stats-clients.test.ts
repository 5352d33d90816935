// The stats and metrics servers are the master's: clients that connect and
// then never send their request (stats-http, metrics) or never read must not
// hold the master's file descriptors for long (with enough of them, the
// master could no longer spawn a worker: EMFILE), while a well-behaved
// client is still answered.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const clients: net.Socket[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const fds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

function stats(port: number, send: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { if (send) c.write(send); });
    let out = '';
    c.on('data', (d) => { out += d; });
    c.on('end', () => resolve(out));
    c.on('error', () => resolve(undefined));
  });
}

describe('stats clients that never send or never read', () => {
  for (const http of [true, false]) {
    it(`200 of them do not hold the master's fds${http ? ' (stats-http: no request sent)' : ' (never read)'}; a normal client is answered meanwhile`, async () => {
      const [port, statsPort] = [await freePort(), await freePort()];
      const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/echo.js`, '--http-socket', `127.0.0.1:${port}`, '--stats', `127.0.0.1:${statsPort}`, ...(http ? ['--stats-http'] : [])], { cwd: dir });
      started.push(p);
      let err = '';
      p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      await until(() => (/master started/.test(err) ? true : undefined));
      const send = http ? 'GET / HTTP/1.0\r\n\r\n' : '';
      await until(() => stats(statsPort, send));
      const base = fds(p.pid!);
      for (let i = 0; i < 200; i++) {
        const c = net.connect(statsPort, '127.0.0.1');
        c.on('error', () => undefined);
        c.pause(); // never reads (and with stats-http, never sends)
        clients.push(c);
      }
      await until(() => (clients.every((c) => !c.connecting) ? true : undefined));
      const answer = await stats(statsPort, send);
      expect(answer).toMatch(/"workers"/);
      // before: 200 more fds in the master until the clients went away
      await until(() => (fds(p.pid!) <= base + 5 ? true : undefined), 20_000);
      expect(clients.filter((c) => !c.destroyed).length).toBe(200); // the clients are still there
    });
  }

  it("metrics: 200 clients that send no request do not hold the master's fds past a few seconds; a scrape is answered meanwhile, with the listen queue and harakiri series", async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/echo.js`, '--http-socket', `127.0.0.1:${port}`, '--metrics', `127.0.0.1:${metricsPort}`], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => (/master started/.test(err) ? true : undefined));
    const scrape = () => fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(3000) }).then((r) => r.text(), () => undefined);
    await until(scrape);
    const base = fds(p.pid!);
    for (let i = 0; i < 200; i++) {
      const c = net.connect(metricsPort, '127.0.0.1');
      c.on('error', () => undefined);
      clients.push(c);
    }
    await until(() => (clients.every((c) => !c.connecting) ? true : undefined));
    const text = await scrape();
    expect(text).toMatch(new RegExp(`liege_socket_listen_queue\\{socket="127\\.0\\.0\\.1:${port}"\\} 0`));
    expect(text).toMatch(/# TYPE liege_worker_harakiri_total counter/);
    // before: Node's defaults kept each for a minute or more
    await until(() => (fds(p.pid!) <= base + 5 ? true : undefined), 20_000);
  });
});
