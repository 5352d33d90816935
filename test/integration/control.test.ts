// See and steer: the stats server (uWSGI's JSON, stats-http), `liege top`,
// the Prometheus endpoint, master-fifo letters, touch-reload,
// `liege --reload/--stop PIDFILE`, process titles; and the logs: the
// request log (uWSGI-like text, JSON fields), disable-logging + log-4xx,
// logto, one pid per JSON line.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { childrenOf, FIXTURES, freePort, killGroup, LIEGE, runLiege, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = `${FIXTURES}/apps/echo.js`;

function liege(args: string[]): ResultPromise {
  const p = startLiege(['--master', '--processes', '2', '--node-app', app, ...args], { cwd: dir });
  started.push(p);
  return p;
}

async function get(port: number, p = '/'): Promise<number | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(3000), headers: { connection: 'close' } });
    await r.text();
    return r.status;
  } catch {
    return undefined;
  }
}

function rawRead(port: number, send = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let out = '';
    c.on('connect', () => { if (send) c.write(send); });
    c.on('data', (d) => { out += d; });
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

const cmdline = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } };
const workerPids = (pid: number) => childrenOf(pid).filter((c) => cmdline(c).includes('worker'));

describe('stats, top, metrics', () => {
  it('serves uWSGI-style stats JSON, as HTTP with stats-http; liege top reads it; metrics for Prometheus', async () => {
    const [port, stats, metrics] = [await freePort(), await freePort(), await freePort()];
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--stats', `127.0.0.1:${stats}`, '--stats-http', '--metrics', `127.0.0.1:${metrics}`, '--disable-logging']);
    await until(() => get(port));
    for (let i = 0; i < 5; i++) await get(port, '/x');
    await new Promise((r) => setTimeout(r, 1300)); // workers report counters once a second
    // (the control side may start listening after the workers answered, on a loaded machine)
    const raw = await until(() => rawRead(stats, 'GET / HTTP/1.0\r\n\r\n').catch(() => undefined));
    expect(raw).toMatch(/^HTTP\/1\.0 200 OK\r\nContent-Type: application\/json/);
    const doc = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    expect(doc.pid).toBe(p.pid);
    expect(doc.sockets[0]).toMatchObject({ name: `127.0.0.1:${port}`, proto: 'http' });
    expect(doc.workers).toHaveLength(2);
    for (const w of doc.workers) {
      expect(w).toMatchObject({ pid: expect.any(Number), status: 'idle', respawn_count: 1, exceptions: 0 });
      expect(w.rss).toBeGreaterThan(1 << 20);
      expect(w.last_spawn).toBeGreaterThan(Date.now() / 1000 - 120);
    }
    expect(doc.workers.reduce((a: number, w: { requests: number }) => a + w.requests, 0)).toBeGreaterThanOrEqual(6);
    expect(doc.workers.some((w: { avg_rt: number }) => w.avg_rt > 0)).toBe(true);

    const top = await execa(LIEGE, ['top', `127.0.0.1:${stats}`, '--once'], { reject: false });
    expect(top.exitCode).toBe(0);
    expect(top.stdout).toMatch(new RegExp(`master pid ${p.pid}`));
    expect(top.stdout.split('\n').filter((l) => /^[12]\s+\d+/.test(l))).toHaveLength(2);
    // as uwsgitop takes a stats-http server (before: getaddrinfo ENOTFOUND http://127.0.0.1)
    const url = await execa(LIEGE, ['top', `http://127.0.0.1:${stats}/`, '--once'], { reject: false });
    expect(url.exitCode, url.stderr).toBe(0);
    expect(url.stdout).toMatch(new RegExp(`master pid ${p.pid}`));

    const m = await until(() => fetch(`http://127.0.0.1:${metrics}/metrics`).then((r) => r.text(), () => undefined));
    expect(m).toMatch(/liege_worker_requests_total\{worker="\d+"\} \d+/);
    expect(m).toMatch(/liege_worker_rss_bytes\{worker="2"\} \d+/);
    expect(m).toMatch(/liege_master_rss_bytes \d+/);
  });
  it('liege top --once on a unix stats socket, plain and stats-http (before: write EPIPE on most tries, the request line sent to a plain server that had answered and closed)', async () => {
    for (const http of [false, true]) {
      const port = await freePort();
      const stats = path.join(dir, `top-${http}.sock`);
      const p = liege(['--http-socket', `127.0.0.1:${port}`, '--stats', stats, ...(http ? ['--stats-http'] : []), '--disable-logging']);
      await until(() => get(port));
      for (let i = 0; i < 5; i++) {
        const top = await execa(LIEGE, ['top', stats, '--once'], { reject: false });
        expect(top.stderr).toBe('');
        expect(top.stdout).toMatch(new RegExp(`master pid ${p.pid}`));
        expect(top.exitCode).toBe(0);
      }
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
    }
  });

  it('a stale stats socket file of root\'s in a sticky directory, the master dropped to nobody: the error says whose file it is (before: EADDRINUSE, as if an instance listened)', async () => {
    const sticky = path.join(dir, 'sticky');
    fs.mkdirSync(sticky);
    fs.chmodSync(sticky, 0o1777);
    const stats = path.join(sticky, 'stale.sock');
    // a socket file nobody listens on, owned by root (a start as root, SIGKILLed)
    await execa('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stats)})`]);
    const port = await freePort();
    const r = await runLiege(['--master', '-p', '1', '--node-app', app, '--http-socket', `127.0.0.1:${port}`, '--stats', stats, '--uid', 'nobody', '--gid', 'nogroup'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/unable to listen on \S+stale\.sock for stats: EADDRINUSE \(the socket file there is uid 0's: the master, as uid 65534 since the privilege drop, may not connect to it to see whether it is stale \(a file left by a run as root\?\): remove it if no instance listens there\)/);
  });

  it('a touch file the dropped master may not look at (a 0700 directory of root\'s) is said once (before: never fired, in silence)', async () => {
    const priv = path.join(dir, 'priv');
    fs.mkdirSync(priv, { mode: 0o700 });
    const touch = path.join(priv, 'reload.touch');
    fs.writeFileSync(touch, '');
    const port = await freePort();
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--uid', 'nobody', '--gid', 'nogroup', '--touch-reload', touch, '--disable-logging']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    await new Promise((r) => setTimeout(r, 2500)); // two more looks: said once
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    const said = err.split('\n').filter((l) => /unable to look at the touch file/.test(l));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/unable to look at the touch file \S+reload\.touch: EACCES \(the master looks at it as uid 65534 since the privilege drop: let that user enter \S+priv\); a touch is not seen until it can/);
  });

  it('liege top keeps its view across a reload, and ends with 1 a few seconds after the instance stopped (it retried forever)', async () => {
    const [port, stats] = [await freePort(), await freePort()];
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--stats', `127.0.0.1:${stats}`, '--disable-logging']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    const top = execa(LIEGE, ['top', `127.0.0.1:${stats}`], { reject: false, stdin: 'ignore', timeout: 30_000 });
    let frames = 0;
    top.stdout!.on('data', (d: Buffer) => { frames += d.toString().split(`master pid ${p.pid}`).length - 1; });
    await until(() => (frames >= 1 ? true : undefined));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(err) ? true : undefined));
    const seen = frames;
    await until(() => (frames > seen ? true : undefined));
    expect(top.exitCode).toBeNull(); // still running
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    const r = await top;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^liege: the instance at 127\\.0\\.0\\.1:${stats} is gone: no stats server there for 3 s \\(connect ECONNREFUSED`));
  });

  it('stats (unix socket) and metrics (TCP) keep answering across a reload: a scrape during the re-exec waits for the new image (before: refused for ~200 ms)', async () => {
    const [port, metrics] = [await freePort(), await freePort()];
    const stats = path.join(dir, 'stats.sock');
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--stats', stats, '--metrics', `127.0.0.1:${metrics}`, '--disable-logging']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    await until(() => (/master started/.test(err) ? true : undefined)); // stats and metrics listen
    const scrape = (ask: () => Promise<string>) => ask().then((text) => text, (e: Error) => `failed: ${e.message}`);
    const statsDoc = () => new Promise<string>((resolve, reject) => {
      const c = net.connect(stats);
      let out = '';
      c.on('data', (d) => { out += d; });
      c.on('end', () => resolve(out));
      c.on('error', reject);
    });
    const metricsDoc = () => fetch(`http://127.0.0.1:${metrics}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
    const results: string[] = [];
    let scraping = true;
    const loop = (async () => {
      while (scraping) results.push(await scrape(statsDoc), await scrape(metricsDoc));
    })();
    await until(() => (results.length >= 10 ? true : undefined));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(err) ? true : undefined));
    const during = results.length;
    await until(() => (results.length >= during + 10 ? true : undefined));
    scraping = false;
    await loop;
    expect(results.filter((r) => r.startsWith('failed'))).toEqual([]);
    // the same master answered before and after (the stats document's pid)
    const pids = new Set(results.filter((r) => r.startsWith('{')).map((r) => JSON.parse(r).pid));
    expect([...pids]).toEqual([p.pid]);
    expect(results.filter((r) => r.includes('liege_master_rss_bytes')).length).toBeGreaterThanOrEqual(10);
    expect(fs.lstatSync(stats).isSocket()).toBe(true);
  });
  it('a reload that moves stats to another port serves it there and closes the old one; metrics dropped from the config is closed too', async () => {
    const [port, stats1, stats2, metrics] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const ini = path.join(dir, 'moves.ini');
    const conf = ['[uwsgi]', 'master = true', 'processes = 2', `node-app = ${app}`, `http-socket = 127.0.0.1:${port}`, 'disable-logging = true'];
    fs.writeFileSync(ini, `${[...conf, `stats = 127.0.0.1:${stats1}`, `metrics = 127.0.0.1:${metrics}`].join('\n')}\n`);
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    await until(() => (/master started/.test(err) ? true : undefined)); // stats listens
    expect(JSON.parse(await rawRead(stats1)).pid).toBe(p.pid);
    fs.writeFileSync(ini, `${[...conf, `stats = 127.0.0.1:${stats2}`].join('\n')}\n`);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(err) ? true : undefined));
    expect(JSON.parse(await rawRead(stats2)).pid).toBe(p.pid);
    await expect(rawRead(stats1)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await get(metrics, '/metrics')).toBeUndefined();
  });
  /** A liege from `conf` lines; its stderr so far. */
  function fromIni(name: string, conf: string[]): { ini: string; p: ResultPromise; err: () => string } {
    const ini = path.join(dir, name);
    fs.writeFileSync(ini, `${conf.join('\n')}\n`);
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    return { ini, p, err: () => err };
  }

  it('after a failed reload (an asap hook fails) the stats, the fifo and touch-reload still work: the fix deployed by touching the file goes through', async () => {
    const [port, stats] = [await freePort(), await freePort()];
    const touch = path.join(dir, 'fallback.touch');
    const fifo = path.join(dir, 'fallback.fifo');
    fs.writeFileSync(touch, '');
    const conf = ['[uwsgi]', 'master = true', 'processes = 2', `node-app = ${app}`, `http-socket = 127.0.0.1:${port}`, `stats = 127.0.0.1:${stats}`, `touch-reload = ${touch}`, `master-fifo = ${fifo}`];
    const { ini, p, err } = fromIni('fallback.ini', conf);
    await until(() => get(port));
    await until(() => (/master started/.test(err()) ? true : undefined)); // the touch file's first mtime is read
    const old = await until(() => (workerPids(p.pid!).length === 2 ? workerPids(p.pid!) : undefined));
    fs.writeFileSync(ini, `${[...conf, 'hook-asap = exec:false'].join('\n')}\n`);
    fs.utimesSync(touch, new Date(), new Date(Date.now() + 5000));
    await until(() => (/master running the previous generation/.test(err()) ? true : undefined));
    const doc = JSON.parse(await until(() => rawRead(stats).catch(() => undefined)));
    expect(doc.workers.map((w: { pid: number }) => w.pid).sort()).toEqual(old.sort());
    fs.writeFileSync(fifo, 's'); // the stats to the log: the fifo is read
    await until(() => (/master: stats /.test(err()) ? true : undefined));
    fs.writeFileSync(ini, `${conf.join('\n')}\n`);
    fs.utimesSync(touch, new Date(), new Date(Date.now() + 10_000));
    await until(() => (/reload done/.test(err()) ? true : undefined));
    expect(workerPids(p.pid!).some((w) => old.includes(w))).toBe(false);
    expect(await get(port)).toBe(200);
  });

  it("SIGUSR1 logs the stats, as uWSGI's master (before: Node opened its inspector, a debugger on 127.0.0.1:9229, in the master), with no stats server too", async () => {
    const port = await freePort();
    const { p, err } = fromIni('usr1.ini', ['[uwsgi]', 'master = true', 'processes = 2', `node-app = ${app}`, `http-socket = 127.0.0.1:${port}`]);
    await until(() => (/master started/.test(err()) ? true : undefined));
    await until(() => (workerPids(p.pid!).length === 2 ? true : undefined));
    process.kill(p.pid!, 'SIGUSR1');
    const line = await until(() => err().split('\n').find((l) => /master: stats /.test(l)));
    expect(line).toMatch(/"workers":\[\{"id":1,/);
    expect(err()).not.toMatch(/Debugger|inspector/i);
    expect(await get(port)).toBe(200);
  });

  it('a reload into a busy stats address fails as a reload: the running workers keep serving and the old stats address still answers', async () => {
    const [port, stats] = [await freePort(), await freePort()];
    const busy = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const conf = ['[uwsgi]', 'master = true', 'processes = 2', `node-app = ${app}`, `http-socket = 127.0.0.1:${port}`, 'disable-logging = true'];
    const { ini, p, err } = fromIni('busy-stats.ini', [...conf, `stats = 127.0.0.1:${stats}`]);
    await until(() => get(port));
    const old = await until(() => (workerPids(p.pid!).length === 2 ? workerPids(p.pid!) : undefined));
    fs.writeFileSync(ini, `${[...conf, `stats = 127.0.0.1:${busyPort}`].join('\n')}\n`);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/LIEGE_ERR_RELOAD/.test(err()) ? true : undefined));
    busy.close();
    expect(err()).toMatch(new RegExp(`busy-stats\\.ini:7: unable to listen on 127\\.0\\.0\\.1:${busyPort} for stats: EADDRINUSE`));
    expect(await get(port)).toBe(200);
    expect(JSON.parse(await rawRead(stats)).pid).toBe(p.pid);
    await until(() => (workerPids(p.pid!).length === 2 ? true : undefined));
    expect(workerPids(p.pid!).sort()).toEqual(old.sort());
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  });
});

describe('master fifo, touch files, pidfile commands', () => {
  it('fifo w reloads the workers, P rewrites pidfiles, q stops gracefully', async () => {
    const port = await freePort();
    const fifo = path.join(dir, 'master.fifo');
    const pidfile = path.join(dir, 'fifo.pid');
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--master-fifo', fifo, '--pidfile', pidfile]);
    await until(() => get(port));
    const before = await until(() => (workerPids(p.pid!).length === 2 ? workerPids(p.pid!) : undefined));
    fs.writeFileSync(fifo, 'w');
    await until(() => { const w = workerPids(p.pid!); return w.length === 2 && !w.some((x) => before.includes(x)) ? w : undefined; });
    expect(await until(() => get(port))).toBe(200);
    fs.unlinkSync(pidfile);
    fs.writeFileSync(fifo, 'P');
    // `pidfile` is written in place (as uWSGI does; safe-pidfile renames): wait for its whole content
    await until(() => (fs.existsSync(pidfile) && fs.readFileSync(pidfile, 'utf8') === `${p.pid}\n`) || undefined);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  });

  it('fifo slots: after `1` only the second fifo is read; a command to the first is logged as ignored, not silently dropped', async () => {
    const port = await freePort();
    const [f0, f1] = [path.join(dir, 'slot0.fifo'), path.join(dir, 'slot1.fifo')];
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--master-fifo', f0, '--master-fifo', f1]);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    // the fifos are made after the workers start: a write before would create a plain file
    await until(() => [f0, f1].every((f) => fs.existsSync(f) && fs.statSync(f).isFIFO()) || undefined);
    // a slot that does not exist: said, the active fifo stays (before: silence)
    fs.writeFileSync(f0, '7');
    await until(() => (/master fifo slot 7 does not exist \(2 fifos: 0-1\): the active fifo stays/.test(err) ? true : undefined));
    fs.writeFileSync(f0, '1');
    await until(() => (/master fifo selected/.test(err) ? true : undefined));
    fs.writeFileSync(f0, 'q');
    await until(() => (/master fifo command ignored: not the active fifo .*command=q/.test(err) ? true : undefined));
    expect(await get(port)).toBe(200);
    fs.writeFileSync(f1, 'q');
    expect((await p).exitCode).toBe(0);
  });

  it('a touch-reload during a reload\'s re-exec is not lost: a second reload follows', async () => {
    const port = await freePort();
    const touch = path.join(dir, 'during.touch');
    fs.writeFileSync(touch, '');
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--touch-reload', touch]);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    await until(() => (/master started/.test(err) ? true : undefined));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/graceful reload requested/.test(err) ? true : undefined));
    // the old image's watcher is stopped now, the new one not started yet
    fs.utimesSync(touch, new Date(), new Date(Date.now() + 5000));
    await until(() => ((err.match(/reload done/g) ?? []).length >= 2 ? true : undefined));
    expect(err).toMatch(/touched file=\S+during\.touch command=reload/);
  });

  it('touch-reload reloads (same pid, new workers); liege --stop PIDFILE stops', async () => {
    const port = await freePort();
    const touch = path.join(dir, 'reload.touch');
    fs.writeFileSync(touch, '');
    const pidfile = path.join(dir, 'touch.pid');
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--touch-reload', touch, '--safe-pidfile', pidfile]);
    await until(() => get(port));
    const before = await until(() => (workerPids(p.pid!).length === 2 ? workerPids(p.pid!) : undefined));
    fs.utimesSync(touch, new Date(), new Date(Date.now() + 5000));
    await until(() => { const w = workerPids(p.pid!); return w.length === 2 && !w.some((x) => before.includes(x)) ? w : undefined; });
    expect(await until(() => get(port))).toBe(200);
    const stop = await execa(LIEGE, ['--stop', pidfile], { reject: false });
    expect(stop.exitCode, stop.stderr).toBe(0);
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/graceful (reload requested|shutdown)/);
    const bad = await execa(LIEGE, ['--reload', path.join(dir, 'nope.pid')], { reject: false });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/unable to read the pidfile \S+nope\.pid: ENOENT/);
  });

  it('a second copy started by mistake (its port taken) fails and leaves the running instance\'s pidfile, with or without vacuum; a failed start leaves no pidfile of its own', async () => {
    const port = await freePort();
    const pidfile = path.join(dir, 'twice.pid');
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--pidfile', pidfile, '--vacuum']);
    await until(() => get(port));
    await until(() => (fs.existsSync(pidfile) && fs.readFileSync(pidfile, 'utf8') === `${p.pid}\n`) || undefined);
    for (const extra of [['--vacuum'], []]) {
      const again = await runLiege(['--master', '--processes', '1', '--node-app', app, '--http-socket', `127.0.0.1:${port}`, '--pidfile', pidfile, ...extra], { cwd: dir });
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toMatch(/EADDRINUSE/);
      // before: overwritten with the failed copy's pid (and removed by its vacuum)
      expect(fs.readFileSync(pidfile, 'utf8')).toBe(`${p.pid}\n`);
    }
    const fresh = path.join(dir, 'failed-start.pid');
    const failed = await runLiege(['--master', '--processes', '1', '--node-app', app, '--http-socket', `127.0.0.1:${port}`, '--pidfile', fresh], { cwd: dir });
    expect(failed.exitCode).toBe(1);
    expect(fs.existsSync(fresh)).toBe(false);
    const stop = await execa(LIEGE, ['--stop', pidfile], { reject: false });
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect((await p).exitCode).toBe(0);
  });

  it('a failed start with vacuum does not put back the pidfile of an instance that was SIGKILLed (without vacuum: left as found)', async () => {
    const port = await freePort();
    const held = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => held.once('listening', r));
    try {
      const dead = (await execa('sh', ['-c', 'echo $$'])).stdout.trim(); // a pid that runs no more
      const pidfile = path.join(dir, 'stale.pid');
      for (const [extra, left] of [[['--vacuum'], false], [[], true]] as const) {
        fs.writeFileSync(pidfile, `${dead}\n`);
        const r = await runLiege(['--master', '--processes', '1', '--node-app', app, '--http-socket', `127.0.0.1:${port}`, '--pidfile', pidfile, ...extra], { cwd: dir });
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(/EADDRINUSE/);
        // before: put back with vacuum too, a pidfile of a dead instance
        expect(fs.existsSync(pidfile)).toBe(left);
      }
    } finally {
      held.close();
    }
  });

  it('a pidfile that cannot be written: exit 1 naming the option (file:line), the path and the reason; no stack trace, the port free', async () => {
    const port = await freePort();
    const ini = path.join(dir, 'bad-pidfile.ini');
    const pidfile = path.join(dir, 'no-such-dir', 'x.pid');
    fs.writeFileSync(ini, `[uwsgi]\nmaster = true\nprocesses = 1\nhttp-socket = 127.0.0.1:${port}\nnode-app = ${app}\npidfile = ${pidfile}\n`);
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode).toBe(1);
    // before: "unable to start: ENOENT: no such file or directory, open …"
    expect(r.stderr).toMatch(/bad-pidfile\.ini:6: unable to write the pidfile .*x\.pid: ENOENT.*expected a writable path/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await get(port)).toBeUndefined();
  });

  it('procname-master, procname-prefix and auto-procname set the process titles', async () => {
    const port = await freePort();
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--auto-procname', '--procname-prefix', 'myapp-']);
    await until(() => get(port));
    await until(() => (cmdline(p.pid!).startsWith('myapp-liege master') ? true : undefined));
    const titles = await until(() => {
      const t = childrenOf(p.pid!).map((c) => cmdline(c).replace(/\0+$/, ''));
      return t.filter((x) => x.startsWith('myapp-liege worker')).length === 2 ? t : undefined;
    });
    expect(titles.sort()).toEqual(['myapp-liege worker 1', 'myapp-liege worker 2']);
  });
});

describe('logs', () => {
  it('request log: a uWSGI-like text line per request; disable-logging + log-4xx keeps only 4xx; logto writes the file', async () => {
    const port = await freePort();
    const p = liege(['--http-socket', `127.0.0.1:${port}`]);
    await until(() => get(port));
    await get(port, '/hello?a=1');
    await (await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'hello liege' })).text();
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.stderr).toMatch(/\[pid: \d+\|worker: [12]\|req: \d+\] 127\.0\.0\.1 \[\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}\] GET \/hello\?a=1 => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 200\)/);
    // "generated N bytes" is the body, as uWSGI: not the headers
    expect(r.stderr).toMatch(/POST \/echo => generated 11 bytes in \d+ msecs \(HTTP\/1\.1 200\)/);

    const port2 = await freePort();
    const logfile = path.join(dir, 'liege.log');
    const q = liege(['--http-socket', `127.0.0.1:${port2}`, '--disable-logging', '--log-4xx', '--logto', logfile, '--log-x-forwarded-for']);
    await until(() => get(port2));
    await get(port2, '/fine');
    expect(await get(port2, '/missing')).toBe(404);
    const proxied = await fetch(`http://127.0.0.1:${port2}/missing/proxied`, { headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } });
    expect(proxied.status).toBe(404);
    await proxied.text();
    process.kill(q.pid!, 'SIGTERM');
    await q;
    const text = fs.readFileSync(logfile, 'utf8');
    expect(text).toMatch(/master started/);
    expect(text).not.toMatch(/GET \/fine/);
    expect(text).toMatch(/\] 127\.0\.0\.1 \[.* GET \/missing => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 404\)/);
    // log-x-forwarded-for: the header's value, as uWSGI
    expect(text).toMatch(/\] 203\.0\.113\.9, 10\.0\.0\.1 \[.* GET \/missing\/proxied => /);
  });

  it('log-format = json: nothing but JSON, one pid per line, master_pid and worker on worker lines, request fields', async () => {
    const port = await freePort();
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--log-format', 'json']);
    await until(() => get(port));
    await get(port, '/j');
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) {
      expect(() => JSON.parse(l)).not.toThrow();
      expect(l.match(/"pid":/g) ?? []).toHaveLength(1);
    }
    const objs = lines.map((l) => JSON.parse(l));
    const spawned = objs.find((o) => o.msg === 'worker spawned');
    expect(spawned).toMatchObject({ pid: p.pid, worker_pid: expect.any(Number), worker: 1 });
    // its own pid is not said again as another process's (before: "child_pid" = pid)
    expect(objs.find((o) => o.msg === 'master started')).not.toHaveProperty('child_pid');
    const req = objs.find((o) => o.component === 'request' && o.uri === '/j');
    expect(req).toMatchObject({ master_pid: p.pid, worker: expect.any(Number), method: 'GET', uri: '/j', status: 200, addr: '127.0.0.1' });
    expect(req.pid).not.toBe(p.pid);
  });

  it('log-format = json: Node\'s process warnings in the app (a deprecation, emitWarning) are JSON lines, not text on stderr', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/warns.js`, '--log-format', 'json'], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    const lines = r.stderr.split('\n').filter(Boolean);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    const objs = lines.map((l) => JSON.parse(l));
    expect(objs.find((o) => o.code === 'DEP0005')).toMatchObject({ component: 'node', warning: 'DeprecationWarning', worker: 1 });
    expect(objs.find((o) => o.code === 'APP_WARN')).toMatchObject({ component: 'node', warning: 'Warning', msg: 'the app warns on purpose' });
  });

  it('log-format = json: a worker line whose call site names its slot has one `worker` key (before: two)', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/throws-later.js`, '--log-format', 'json'], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    await fetch(`http://127.0.0.1:${port}/throw`).catch(() => undefined);
    await until(() => (/"code":"LIEGE_ERR_APP"/.test(err) ? true : undefined));
    process.kill(p.pid!, 'SIGTERM');
    await p;
    const lines = err.split('\n').filter((l) => l.includes('"code":"LIEGE_ERR_APP"'));
    for (const l of lines) {
      const keys = [...l.matchAll(/[{,]"([a-z_]+)":/g)].map((m) => m[1]);
      expect(keys).toEqual([...new Set(keys)]);
    }
    // the worker's own line (the master's says worker_pid)
    expect(lines.map((l) => JSON.parse(l)).find((o) => o.master_pid === p.pid)).toMatchObject({ worker: 1 });
  });

  it('stats or metrics on a busy address: a clear error naming the option, exit 1; a live stats socket of another process is left alone', async () => {
    const busy = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    const taken = `127.0.0.1:${(busy.address() as net.AddressInfo).port}`;
    const live = path.join(dir, 'other-stats.sock');
    const other = net.createServer((c) => { c.on('error', () => undefined); c.end('other\n'); }).listen(live);
    await new Promise((r) => other.once('listening', r));
    try {
      for (const opt of ['--stats', '--metrics']) {
        const r = await runLiege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${await freePort()}`, '--node-app', app, opt, taken], { cwd: dir });
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`command line: unable to listen on ${taken} for ${opt.slice(2)}: EADDRINUSE: \`${taken}\` \\(expected a free address for the ${opt.slice(2)} server\\)`));
      }
      const r = await runLiege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${await freePort()}`, '--node-app', app, '--stats', live], { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/unable to listen on \S+other-stats\.sock for stats: EADDRINUSE/);
      // before: liege unlinked it and took the path over
      expect(await new Promise((resolve) => net.connect({ path: live }).on('data', (d) => resolve(d.toString())).on('error', () => resolve('gone')))).toBe('other\n');
    } finally {
      busy.close();
      other.close();
    }
  });

  it('a master-fifo in a missing directory: a clear error naming file:line, exit 1 (before: mkfifo\'s raw failure, "unable to start")', async () => {
    const ini = path.join(dir, 'fifo.ini');
    const fifo = path.join(dir, 'no-such-dir', 'app.fifo');
    fs.writeFileSync(ini, `[uwsgi]\nmaster = true\nprocesses = 1\nhttp-socket = 127.0.0.1:${await freePort()}\nnode-app = ${app}\nmaster-fifo = ${fifo}\n`);
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/fifo\.ini:6: unable to create the master fifo \S+app\.fifo: cannot create fifo .*No such file or directory: `\S+app\.fifo` \(expected a free path in an existing directory, or an existing fifo\) code=LIEGE_ERR_SOCKET/);
    expect(r.stderr).not.toMatch(/Command failed/);
  });

  it('after a rotation (mv), fifo `lw` (reopen, then reload the workers) puts the request log in the fresh file, with log-master too', async () => {
    const port = await freePort();
    const logfile = path.join(dir, 'rot-lw.log');
    const fifo = path.join(dir, 'rot-lw.fifo');
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--logto', logfile, '--master-fifo', fifo, '--log-master']);
    await until(() => get(port));
    await until(() => (fs.existsSync(fifo) && fs.statSync(fifo).isFIFO()) || undefined);
    fs.renameSync(logfile, `${logfile}.1`);
    fs.writeFileSync(fifo, 'lw');
    await until(() => (/reload done/.test(fs.existsSync(logfile) ? fs.readFileSync(logfile, 'utf8') : '') ? true : undefined));
    await get(port, '/after-rotation');
    await until(() => (/GET \/after-rotation/.test(fs.readFileSync(logfile, 'utf8')) ? true : undefined));
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(fs.readFileSync(`${logfile}.1`, 'utf8')).not.toMatch(/after-rotation/);
    expect(r.stderr).not.toMatch(/not implemented/);
  });

  it('touch-logreopen: after a rotation (mv), the master writes to a fresh file at the path', async () => {
    const port = await freePort();
    const logfile = path.join(dir, 'rotate.log');
    const trigger = path.join(dir, 'reopen.touch');
    fs.writeFileSync(trigger, '');
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--logto', logfile, '--touch-logreopen', trigger]);
    await until(() => get(port));
    await until(() => (fs.readFileSync(logfile, 'utf8').includes('master started') ? true : undefined));
    fs.renameSync(logfile, `${logfile}.1`);
    fs.utimesSync(trigger, new Date(), new Date(Date.now() + 5000));
    await until(() => (fs.existsSync(logfile) && fs.readFileSync(logfile, 'utf8').includes('log file reopened') ? true : undefined));
    process.kill(p.pid!, 'SIGTERM');
    await p;
    expect(fs.readFileSync(logfile, 'utf8')).toMatch(/graceful shutdown/);
    expect(fs.readFileSync(`${logfile}.1`, 'utf8')).not.toMatch(/graceful shutdown/);
  });
});
