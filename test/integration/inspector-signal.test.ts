// SIGUSR1 never opens Node's inspector (a debugger on 127.0.0.1:9229 any
// local user may attach to) in a process liege starts: a worker, the
// single-process server, an emperor and its vassals ignore it (the master
// logs its stats); an app's own SIGUSR1 listener is still called, and an app
// that removes its listeners is not killed by the next one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, childrenOf, cmdlineOf, FIXTURES, freePort, get, getUnix, killGroup, scratch, startLiege, statsAt, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function liege(args: string[]) {
  const p = startLiege(args, { cwd: dir });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  p.stdout!.on('data', (d: Buffer) => { err += d.toString(); });
  return { p, out: () => err };
}

const INSPECTOR_PORT = (9229).toString(16).toUpperCase().padStart(4, '0');

/** Whether `pid` holds a socket listening on port 9229 (/proc/net/tcp*: the
 * socket inodes in LISTEN state, 0A, on that port, among the process's fds). */
function inspectorOpen(pid: number): boolean {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(`:${INSPECTOR_PORT}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try { return inodes.has(/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''); } catch { return false; }
    });
  } catch {
    return false;
  }
}

async function status(port: number, p = '/'): Promise<{ got: number; listeners: number; pid: number } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(3000) });
    return { ...(await r.json()) as { got: number; listeners: number }, pid: Number(r.headers.get('x-pid')) };
  } catch {
    return undefined;
  }
}

const workerPids = (pid: number) => childrenOf(pid).filter((c) => cmdlineOf(c).includes('worker'));
// the inspector opens from its own thread, soon after the signal: a process
// that got SIGUSR1 is looked at after this (no speed is asserted)
const settle = () => new Promise((r) => setTimeout(r, 500));

describe('SIGUSR1 and the inspector', () => {
  it('a worker ignores SIGUSR1: it serves on, nothing listens on 9229, the master only logs its stats', async () => {
    const [port, stats] = [await freePort(), await freePort()];
    const { p, out } = liege(['--master', '--processes', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/echo.js`, '--disable-logging', '--stats', `127.0.0.1:${stats}`]);
    // both accepting (a worker still in Node's own start, before any of its
    // JS ran, has Node's default: src/os/inspector-signal.ts)
    const workers = await until(async () => {
      const s = await statsAt<{ workers: Array<{ pid: number; accepting: number }> }>(stats);
      return s?.workers.length === 2 && s.workers.every((w) => w.accepting) ? s.workers.map((w) => w.pid) : undefined;
    });
    for (const w of workers) process.kill(w, 'SIGUSR1');
    process.kill(p.pid!, 'SIGUSR1');
    await until(() => (/master: stats /.test(out()) ? true : undefined));
    await settle();
    for (const w of workers) {
      expect(alive(w)).toBe(true);
      expect(inspectorOpen(w)).toBe(false);
    }
    expect(inspectorOpen(p.pid!)).toBe(false);
    expect(workerPids(p.pid!).sort()).toEqual(workers.sort());
    expect(out()).not.toMatch(/Debugger listening|inspector|LIEGE_ERR/i);
    for (let i = 0; i < 4; i++) expect((await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } })).status).toBe(200);
  });

  it("a worker's app with a SIGUSR1 listener of its own gets the signal; once it removed its listeners the next one is ignored, not the end of the worker", async () => {
    const port = await freePort();
    const { p, out } = liege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/usr1-listener.js`, '--disable-logging']);
    const first = await until(() => status(port));
    expect(first.got).toBe(0);
    process.kill(first.pid, 'SIGUSR1');
    await until(async () => ((await status(port))?.got === 1 ? true : undefined));
    process.kill(first.pid, 'SIGUSR1');
    await until(async () => ((await status(port))?.got === 2 ? true : undefined));
    expect(inspectorOpen(first.pid)).toBe(false);
    expect((await status(port, '/forget'))?.listeners).toBeGreaterThanOrEqual(1); // liege's own no-op stays
    process.kill(first.pid, 'SIGUSR1');
    await settle();
    expect(alive(first.pid)).toBe(true);
    expect(inspectorOpen(first.pid)).toBe(false);
    const after = await status(port);
    expect(after).toMatchObject({ pid: first.pid, got: 2 });
    expect(workerPids(p.pid!)).toEqual([first.pid]);
    expect(out()).not.toMatch(/Debugger listening|inspector|LIEGE_ERR/i);
  });

  it('the single-process server (no master) ignores SIGUSR1 and calls the app\'s listener, also after the app removed its listeners', async () => {
    const port = await freePort();
    const { p, out } = liege(['--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/usr1-listener.js`, '--disable-logging']);
    const first = await until(() => status(port));
    expect(first.pid).toBe(p.pid);
    process.kill(p.pid!, 'SIGUSR1');
    await until(async () => ((await status(port))?.got === 1 ? true : undefined));
    await status(port, '/forget');
    process.kill(p.pid!, 'SIGUSR1');
    await settle();
    expect(alive(p.pid!)).toBe(true);
    expect(inspectorOpen(p.pid!)).toBe(false);
    expect(await status(port)).toMatchObject({ pid: p.pid, got: 1 });
    expect(out()).not.toMatch(/Debugger listening|inspector|LIEGE_ERR/i);
  });

  it('an emperor, its vassal master and the vassal\'s worker all ignore SIGUSR1', async () => {
    const vassals = path.join(dir, 'vassals');
    fs.mkdirSync(vassals);
    const sock = path.join(dir, 'v.sock');
    fs.writeFileSync(path.join(vassals, 'v.ini'), ['[uwsgi]', 'master = true', 'processes = 1', `http-socket = ${sock}`, `node-app = ${FIXTURES}/apps/handler.js`, ''].join('\n'));
    const { p, out } = liege(['--emperor', vassals, '--emperor-freq', '3600']);
    const worker = await until(() => getUnix(sock));
    const vassal = childrenOf(p.pid!)[0]!;
    expect(childrenOf(vassal)).toContain(worker);
    for (const pid of [p.pid!, vassal, worker]) process.kill(pid, 'SIGUSR1');
    await until(() => (/master: stats /.test(out()) ? true : undefined));
    await settle();
    for (const pid of [p.pid!, vassal, worker]) {
      expect(alive(pid)).toBe(true);
      expect(inspectorOpen(pid)).toBe(false);
    }
    expect(await getUnix(sock)).toBe(worker);
    expect(out()).not.toMatch(/Debugger listening|inspector/i);
  });

  it('a worker whose app removed every listener of the process (removeAllListeners()) still ignores SIGUSR1', async () => {
    const port = await freePort();
    const { p, out } = liege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/resets-all-listeners.js`, '--disable-logging']);
    const worker = Number((await until(() => get(port)))!.pid);
    await settle(); // the app resets its listeners 100 ms after it listens
    process.kill(worker, 'SIGUSR1');
    await settle();
    expect(alive(worker)).toBe(true);
    expect(inspectorOpen(worker)).toBe(false);
    expect((await get(port))?.pid).toBe(String(worker));
    expect(workerPids(p.pid!)).toEqual([worker]);
    expect(out()).not.toMatch(/Debugger listening|inspector|died/i);
  });
});
