// log-master: the workers' output (request log, the app's console, its child
// processes) goes through the master as whole lines: never mixed between
// workers, cut at log-master-bufsize, JSON lines in log-format = json,
// log-drain / log-filter / log-encoder applied, carried across a reload, and a log reader
// that stops reading costs lines, never a worker.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { childrenOf, cmdlineOf, FIXTURES, freePort, get, killGroup, runLiege, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  for (const pid of pids.splice(0)) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const APP = `${FIXTURES}/apps/chatter.js`;
const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');

// keep-alive (`close` false): an old worker answers during a reload's exec
async function fetchPid(port: number, p: string, close = true): Promise<number | undefined> {
  try {
    const headers: Record<string, string> = close ? { connection: 'close' } : {};
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { headers, signal: AbortSignal.timeout(5000) });
    await r.text();
    return r.status === 200 ? Number(r.headers.get('x-pid')) : undefined;
  } catch {
    return undefined;
  }
}

async function start(extra: string[]): Promise<{ p: ResultPromise; port: number }> {
  const port = await freePort();
  const p = startLiege(['--processes', '2', '--node-app', APP, '--http-socket', `127.0.0.1:${port}`, '--log-master', ...extra], { cwd: dir });
  started.push(p);
  await until(() => get(port));
  return { p, port };
}

async function stop(p: ResultPromise): Promise<string> {
  process.kill(p.pid!, 'SIGTERM');
  const r = await p;
  return `${r.stdout}\n${r.stderr}`;
}

const workersOf = (pid: number) => childrenOf(pid).filter((c) => cmdlineOf(c).includes('worker/main.js'));

describe('log-master', () => {
  it('long lines written at once by two workers into a pipe come out whole, one line each', async () => {
    // (no request log: it shares fd 1 with the app's output in each worker)
    const { p, port } = await start(['--log-master-bufsize', '100000', '--disable-logging']);
    // 8 at once until both workers wrote some (where the kernel puts the
    // connections decides: under a heavy load one worker may take them all),
    // at most 48 lines (3 MiB: within what the master keeps for a slow log)
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV'.split('');
    const served = new Set<number | undefined>();
    let sent = 0;
    while (sent < letters.length && (served.size < 2 || sent < 24)) {
      const batch = letters.slice(sent, sent + 8);
      sent += batch.length;
      for (const pid of await Promise.all(batch.map((ch) => fetchPid(port, `/line?len=65536&ch=${ch}`)))) served.add(pid);
    }
    expect(served.has(undefined)).toBe(false);
    const out = await stop(p);
    const long = out.split('\n').filter((l) => l.length > 100 && /^[a-zA-Z]+$/.test(l));
    expect(long).toHaveLength(sent);
    for (const l of long) {
      expect(l).toHaveLength(65536);
      expect(l).toBe(l[0]!.repeat(65536));
    }
    expect(new Set(long.map((l) => l[0]))).toEqual(new Set(letters.slice(0, sent)));
  });

  it('a line longer than log-master-bufsize is cut into pieces of that size; a child process\'s output is carried too', async () => {
    const { p, port } = await start(['--log-master-bufsize', '1000', '--disable-logging']);
    await fetchPid(port, '/line?len=2500&ch=q');
    await fetchPid(port, '/child?tag=t1');
    const out = (await stop(p)).split('\n');
    expect(out.filter((l) => /^q+$/.test(l)).map((l) => l.length)).toEqual([1000, 1000, 500]);
    expect(out).toContain('child out t1');
    expect(out).toContain('child err t1');
  });

  it('in log-format = json every line is JSON: a child process\'s lines become app lines of the worker that started it, a daemon\'s daemon lines', async () => {
    const { p, port } = await start(['--log-format', 'json', '--attach-daemon', 'echo daemon says hi; exec sleep 60']);
    const pid = await fetchPid(port, '/child?tag=j1');
    await fetchPid(port, '/hello');
    const out = (await stop(p)).split('\n').filter(Boolean);
    const objs = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    const child = objs.filter((o) => typeof o.msg === 'string' && (o.msg as string).endsWith(' j1'));
    expect(child).toHaveLength(2);
    for (const o of child) {
      expect(o.component).toBe('app');
      expect(o.pid).toBe(pid);
      expect([1, 2]).toContain(o.worker);
      expect(typeof o.master_pid).toBe('number');
    }
    expect(child.find((o) => o.msg === 'child out j1')).toMatchObject({ stream: 'stdout', level: 30 });
    expect(child.find((o) => o.msg === 'child err j1')).toMatchObject({ stream: 'stderr', level: 50 });
    expect(objs.some((o) => o.component === 'request' && o.uri === '/hello')).toBe(true);
    // an attach-daemon's output too
    const daemon = objs.find((o) => o.msg === 'daemon says hi');
    expect(daemon).toMatchObject({ component: 'daemon', daemon: 'echo daemon says hi; exec sleep 60', stream: 'stdout' });
  });

  it('log-filter keeps only matching lines, log-drain drops matching ones (request log, app output and the master\'s own lines alike)', async () => {
    const ini = writeIni(dir, ['master = true', 'processes = 2', `node-app = ${APP}`, `http-socket = 127.0.0.1:${await freePort()}`,
      'log-filter = /keep|/health', 'log-drain = /health'], 'filter.ini');
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(read(ini))![1]);
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    for (const u of ['/keep-1', '/health', '/other', '/keep-2']) await fetchPid(port, u);
    await until(() => undefined, 300).catch(() => undefined);
    const out = (await stop(p)).split('\n').filter(Boolean);
    expect(out.length).toBeGreaterThanOrEqual(4); // app line and request line of each /keep
    for (const l of out) expect(l).toMatch(/\/keep-[12]/);
    expect(out.filter((l) => l.includes('app says /keep-1'))).toHaveLength(1);
    expect(out.filter((l) => l.includes('GET /keep-2'))).toHaveLength(1);
  });

  it('across a graceful reload every line arrives once; after mv and fifo `l` the master alone reopens', async () => {
    const logfile = path.join(dir, 'reload.log');
    const fifo = path.join(dir, 'reload.fifo');
    const { p, port } = await start(['--logto', logfile, '--master-fifo', fifo]);
    const before = workersOf(p.pid!);
    const N = 60;
    const ids = Array.from({ length: N }, (_, i) => i);
    const load = (async () => {
      for (const i of ids) expect(await fetchPid(port, `/r-${i}`, false)).toBeGreaterThan(0);
    })();
    await until(() => (read(logfile).includes('app says /r-10') ? true : undefined));
    process.kill(p.pid!, 'SIGHUP');
    await load;
    await until(() => (read(logfile).includes('reload done') ? true : undefined), 30_000);
    const after = workersOf(p.pid!);
    expect(after.some((w) => before.includes(w))).toBe(false);
    await until(() => (read(logfile).includes(`GET /r-${N - 1} `) ? true : undefined));
    const text = read(logfile);
    for (const i of ids) {
      expect(text.split('\n').filter((l) => l === `app says /r-${i}`)).toHaveLength(1);
      expect(text.split('\n').filter((l) => l.includes(`GET /r-${i} `))).toHaveLength(1);
    }
    fs.renameSync(logfile, `${logfile}.1`);
    fs.writeFileSync(fifo, 'l');
    await until(() => (read(logfile).includes('log file reopened') ? true : undefined));
    // no worker was told: their output reaches the master's fresh file anyway
    expect(read(logfile)).toMatch(/log file reopened workers=0/);
    await fetchPid(port, '/rotated');
    await until(() => (read(logfile).includes('app says /rotated') && read(logfile).includes('GET /rotated') ? true : undefined));
    expect(read(`${logfile}.1`)).not.toContain('/rotated');
    await stop(p);
  });

  it('a line half written when the old image hands the pipes to the new one comes out whole', async () => {
    const { p, port } = await start(['--disable-logging']);
    const before = workersOf(p.pid!);
    // the first half now, the rest 300 ms later (then the answer): the re-exec falls in between
    const half = fetchPid(port, '/half?tag=h1');
    await new Promise((r) => setTimeout(r, 50));
    process.kill(p.pid!, 'SIGHUP');
    expect(before).toContain(await half);
    const out = (await stop(p)).split('\n');
    expect(out).toContain('half line h1 ends here');
    expect(out.filter((l) => l.includes('half line'))).toHaveLength(1);
  });

  it('a log reader that stops reading costs lines, not serving: a worker flooding its output goes on answering', async () => {
    const port = await freePort();
    const child = spawn(path.join(__dirname, '../../bin/liege'), ['--processes', '2', '--node-app', APP, '--http-socket', `127.0.0.1:${port}`, '--log-master'],
      { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TEST_LIEGE: '1' } });
    pids.push(child.pid!);
    child.stdout!.pause();
    child.stderr!.pause(); // read up to its high-water mark, then never again
    await until(() => get(port));
    const flooders = new Set<number | undefined>();
    for (let i = 0; i < 4; i++) flooders.add(await fetchPid(port, '/flood?mb=8'));
    expect(flooders.has(undefined)).toBe(false);
    // each worker that flooded its output answers again (a blocked one would never take a connection)
    for (const pid of flooders) await until(async () => ((await fetchPid(port, '/after')) === pid ? true : undefined));
    // the master keeps nothing of what it could not write
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
    expect(rss).toBeLessThan(150 * 1024);
  });

  it('log-encoder: every line (liege\'s own, the app\'s, a child process\'s, the request log) goes through the chain; gzip is refused at load', async () => {
    const port = await freePort();
    const ini = writeIni(dir, ['master = true', 'processes = 2', `node-app = ${APP}`, `http-socket = 127.0.0.1:${port}`,
      'log-encoder = json {"t":${millis},"line":"${msg}"}', 'log-encoder = nl'], 'enc.ini');
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    await fetchPid(port, '/child?tag=e1');
    await fetchPid(port, '/quote"d');
    const out = (await stop(p)).split('\n').filter(Boolean);
    const objs = out.map((l) => JSON.parse(l) as { t: number; line: string });
    const text = objs.map((o) => o.line);
    expect(text).toContain('child out e1');
    expect(text).toContain('child err e1');
    expect(text).toContain('app says /quote%22d');
    expect(text.some((l) => l.includes('GET /quote%22d'))).toBe(true);
    expect(text.some((l) => l.includes('sockets=["127.0.0.1:'))).toBe(true); // quotes of liege's own line, escaped
    expect(text.some((l) => l.includes('master: graceful shutdown'))).toBe(true);
    for (const o of objs) expect(typeof o.t).toBe('number');

    const bad = writeIni(dir, ['http-socket = 127.0.0.1:1', 'log-encoder = gzip'], 'gzip.ini');
    const r = await runLiege(['--ini', bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${bad}:3`);
    expect(r.stderr).toMatch(/gzip writes binary logs, not supported/);
  });

  it('a bad log-drain regexp is refused at load with its file, line and text; log-master with one process runs a master', async () => {
    const ini = writeIni(dir, ['http-socket = 127.0.0.1:1', 'log-drain = (unclosed'], 'bad.ini');
    const r = await runLiege(['--ini', ini]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${ini}:3`);
    expect(r.stderr).toContain('(unclosed');
    expect(r.stderr).toContain('a valid regular expression');
    expect(r.stderr).not.toMatch(/\n\s+at /);

    const port = await freePort();
    const p = startLiege(['--processes', '1', '--node-app', APP, '--http-socket', `127.0.0.1:${port}`, '--log-master'], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const pid = await fetchPid(port, '/one');
    expect(pid).not.toBe(p.pid);
    expect(workersOf(p.pid!)).toContain(pid);
    const out = await stop(p);
    expect(out).toContain('app says /one');
  });
});
