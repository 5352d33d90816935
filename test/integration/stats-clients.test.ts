// The stats and metrics servers are the master's: clients that connect and
// then never send their request (stats-http, metrics) or never read must not
// hold the master's file descriptors for long (with enough of them, the
// master could no longer spawn a worker: EMFILE), while a well-behaved
// client is still answered. And at most 64 of them at once: a client that
// opens hundreds holds no more of the master's fds than that.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

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

/** An instance with a metrics server, scraped once; its stderr so far via err(). */
async function withMetrics() {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/echo.js`, '--http-socket', `127.0.0.1:${port}`, '--metrics', `127.0.0.1:${metricsPort}`], { cwd: dir });
  started.push(p);
  let text = '';
  p.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
  await until(() => (/master started/.test(text) ? true : undefined));
  const scrape = () => fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(3000) }).then((r) => r.text(), () => undefined);
  await until(scrape);
  return { p, port, metricsPort, scrape, err: () => text };
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
    const { p, port, metricsPort, scrape } = await withMetrics();
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

describe('a cap on the stats clients at once', () => {
  const CAP = 64; // src/os/client-cap.ts

  /** CAP + 236 clients of `port` that send, read and close nothing; the
   * most fds `pid` held meanwhile (looked at every 20 clients, and after). */
  async function flood(port: number, pid: number): Promise<number> {
    let most = 0;
    for (let i = 0; i < CAP + 236; i++) {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => undefined);
      c.pause();
      clients.push(c);
      if (i % 20 === 0) most = Math.max(most, fds(pid));
    }
    await until(() => (clients.every((c) => !c.connecting) ? true : undefined));
    // (a server takes a connect at once: the last ones may still wait in its accept queue)
    await new Promise((r) => setTimeout(r, 300));
    return Math.max(most, fds(pid));
  }

  it('300 clients that send nothing hold at most 64 of the master\'s fds; HTTP is served, a stats client is answered meanwhile, one warning is said; after them, the full stats', async () => {
    const [port, statsPort] = [await freePort(), await freePort()];
    const p = startLiege(['--master', '--processes', '2', '--node-app', `${FIXTURES}/apps/echo.js`, '--http-socket', `127.0.0.1:${port}`, '--stats', `127.0.0.1:${statsPort}`, '--stats-http'], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => (/master started/.test(err) ? true : undefined));
    const send = 'GET / HTTP/1.0\r\n\r\n';
    await until(() => stats(statsPort, send));
    const base = fds(p.pid!);
    const most = await flood(statsPort, p.pid!);
    // before: base + 300 (each client an fd of the master for 5 s)
    expect(most).toBeLessThanOrEqual(base + CAP + 4);
    expect((await get(port))?.status).toBe(200);
    // a client that sends its request at once takes the place of the oldest
    expect(await stats(statsPort, send)).toMatch(/"workers"/);
    expect(err.match(/more than 64 stats clients at once/g)).toHaveLength(1);
    for (const c of clients.splice(0)) c.destroy();
    const doc = JSON.parse((await until(() => stats(statsPort, send)))!.split('\r\n\r\n')[1]!) as { pid: number; workers: Array<{ id: number; pid: number }> };
    expect(doc.pid).toBe(p.pid);
    expect(doc.workers.map((w) => w.id)).toEqual([1, 2]);
    expect(doc.workers.every((w) => w.pid > 0)).toBe(true);
    // the end of the burst, said once, with its count
    const end = await until(() => /stats clients: the burst is over, (\d+) cut off/.exec(err) ?? undefined, 20_000);
    expect(Number(end[1])).toBeGreaterThanOrEqual(236);
    await until(() => (fds(p.pid!) <= base + 5 ? true : undefined), 20_000);
  });

  it('metrics: 300 clients that send no request hold at most 64 of the master\'s fds, with one warning', async () => {
    const { p, metricsPort, scrape, err } = await withMetrics();
    const base = fds(p.pid!);
    expect(await flood(metricsPort, p.pid!)).toBeLessThanOrEqual(base + CAP + 4);
    expect(await scrape()).toMatch(/liege_worker_up\{worker="1"\} 1/);
    expect(err().match(/more than 64 metrics clients at once/g)).toHaveLength(1);
  });

  it('emperor-stats: clients that never close do not hold the emperor\'s fds (before: for good), 300 at once hold at most 64', async () => {
    const statsPort = await freePort();
    const vassals = fs.mkdtempSync(`${dir}/vassals-`);
    const p = startLiege(['--emperor', vassals, '--emperor-stats', `127.0.0.1:${statsPort}`], { cwd: dir });
    started.push(p);
    await until(() => stats(statsPort, ''));
    const base = fds(p.pid!);
    expect(await flood(statsPort, p.pid!)).toBeLessThanOrEqual(base + CAP + 4);
    await until(() => (fds(p.pid!) <= base + 2 ? true : undefined), 10_000);
    expect(clients.filter((c) => !c.destroyed).length).toBe(CAP + 236); // still there, on their side
    expect(JSON.parse((await stats(statsPort, ''))!)).toMatchObject({ pid: p.pid });
  });
});
