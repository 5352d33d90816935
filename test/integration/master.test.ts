// A master with workers on a real socket: serving, respawn, graceful
// reload (same pid, sockets inherited), a refused bad reload, shutdown
// with no process left behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, runLiege, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cmdline = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } };
const workersOf = (pid: number) => childrenOf(pid).filter((c) => cmdline(c).includes('worker/main.js'));

describe('master and workers', () => {
  it('serves an app that listens by itself, respawns a killed worker, reloads and stops cleanly', async () => {
    const port = await freePort();
    const ini = writeIni(dir, ['master = true', 'processes = 2', `http-socket = 127.0.0.1:${port}`, `node-app = ${FIXTURES}/apps/listen.js`, 'uid = nobody', 'gid = nogroup'], 'listen.ini');
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    const first = await until(() => get(port));
    expect(first.status).toBe(200);
    expect(first.body).toBe('listen-app\n');
    const workers = await until(() => (workersOf(p.pid!).length === 2 ? workersOf(p.pid!) : undefined));
    // the workers run as nobody
    expect(fs.statSync(`/proc/${workers[0]}`).uid).toBe(65534);

    process.kill(workers[0]!, 'SIGKILL');
    const after = await until(() => { const w = workersOf(p.pid!); return w.length === 2 && !w.includes(workers[0]!) ? w : undefined; });
    expect(after).toContain(workers[1]);
    expect((await until(() => get(port))).status).toBe(200);

    process.kill(p.pid!, 'SIGHUP');
    const reloaded = await until(() => { const w = workersOf(p.pid!); return w.length === 2 && !w.some((x) => after.includes(x)) ? w : undefined; });
    expect(reloaded).toHaveLength(2);
    expect((await until(() => get(port))).status).toBe(200);

    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    for (const w of reloaded) expect(alive(w)).toBe(false);
  });

  it('keeps serving when the config is invalid at reload time', async () => {
    const port = await freePort();
    const lines = ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${FIXTURES}/apps/handler.js`, 'env = APP_GREETING=hi'];
    const ini = writeIni(dir, lines, 'reload.ini');
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    expect((await until(() => get(port))).body).toBe('handler-app hi\n');
    const w = await until(() => (workersOf(p.pid!).length === 1 ? workersOf(p.pid!) : undefined));
    writeIni(dir, [...lines, 'hook-asap = no_such_action:x'], 'reload.ini');
    process.kill(p.pid!, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    expect(workersOf(p.pid!)).toEqual(w);
    expect((await get(port))?.status).toBe(200);
    process.kill(p.pid!, 'SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/reload refused, the running generation keeps serving: reload\.ini:7: unknown hook action `no_such_action`/);
  });

  it('a config only root may read (mode 600): the reload, as the dropped user, is refused and says which user must read it', async () => {
    const port = await freePort();
    const lines = ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${FIXTURES}/apps/handler.js`, 'uid = nobody', 'gid = nogroup'];
    const ini = writeIni(dir, lines, 'root-only.ini');
    fs.chmodSync(ini, 0o600);
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload refused/.test(err) ? true : undefined));
    expect((await get(port))?.status).toBe(200);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    // before: "unable to read config root-only.ini: EACCES", no word of why root could
    expect(err).toMatch(/reload refused, the running generation keeps serving: .*unable to read config \S*root-only\.ini: EACCES \(read as uid 65534, the user the master runs as since the privilege drop: make it readable by that user/);
  });

  it('a chdir the dropped user may not enter: exit 1 naming the option and why (before: a bare EACCES, no file:line)', async () => {
    const priv = path.join(dir, 'priv-chdir');
    fs.mkdirSync(priv, { mode: 0o700 });
    const port = await freePort();
    const r = await runLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/handler.js`, '--uid', 'nobody', '--gid', 'nogroup', '--chdir', priv], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/command line: unable to chdir to \S+priv-chdir: EACCES \(the master enters it after the privilege drop, as uid 65534: let that user enter it\)/);
  });

  it('a failing accepting hook in a worker ends the instance with 1 after atexit', async () => {
    const port = await freePort();
    const t = path.join(dir, 'acc.trace');
    const p = startLiege(['--master', '--http-socket', `127.0.0.1:${port}`, '--hook-accepting', 'exec:false', '--hook-as-user-atexit', `appendn:${t} atexit`], { cwd: dir });
    started.push(p);
    const r = await p;
    expect(r.exitCode).toBe(1);
    expect(fs.readFileSync(t, 'utf8')).toBe('atexit\n');
  });

  it('a control daemon that dies stops the instance, which exits 0 as under uWSGI (outside PID 1)', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '--http-socket', `127.0.0.1:${port}`, '--attach-control-daemon', 'sleep 1; kill -KILL $$'], { cwd: dir });
    started.push(p);
    const r = await p;
    expect(r.stderr).toMatch(/control daemon died, shutting down status=137/);
    expect(r.exitCode).toBe(0);
  });

  it("a stop lets a daemon's cleanup run for reload-mercy when it is set, 3 s when not (as uWSGI), then SIGKILLs it", async () => {
    const cleanup = async (mercy: string[]) => {
      const port = await freePort();
      const mark = path.join(dir, `cleaned-${port}`);
      // its cleanup takes 4 s
      const daemon = `sh -c 'trap "sleep 4; echo done > ${mark}; exit 0" TERM; while :; do sleep 0.1; done'`;
      const p = startLiege(['--master', '--http-socket', `127.0.0.1:${port}`, '--attach-daemon', daemon, ...mercy], { cwd: dir });
      started.push(p);
      await until(() => childrenOf(p.pid!).some((c) => cmdline(c).includes('trap')) || undefined);
      await new Promise((r) => setTimeout(r, 300)); // (its trap set)
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
      return fs.existsSync(mark);
    };
    expect(await cleanup([])).toBe(false);
    expect(await cleanup(['--reload-mercy', '8'])).toBe(true);
  }, 30_000);

  it('leaves no orphans when the master is SIGKILLed: workers and daemon groups go too', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--attach-daemon', 'sleep 300 & sleep 301'], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const descendants = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...descendants(c)]);
    const tree = await until(() => { const d = descendants(p.pid!); return d.filter((x) => /^sleep 30[01]/.test(cmdline(x).replace(/\0/g, ' '))).length === 2 ? d : undefined; });
    expect(tree.length).toBeGreaterThanOrEqual(6); // 2 workers, guard, sh, 2 sleeps
    process.kill(p.pid!, 'SIGKILL');
    await until(() => tree.every((x) => !alive(x)) || undefined);
  });
});
