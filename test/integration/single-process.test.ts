// A single-process instance (no master, one worker: the app runs in the
// liege process) keeps a master's guarantees: it is a subreaper (what the
// app double-forks is its child, reaped, and ends at the stop and before a
// reload's exec; SIGKILLed mid-drain, its guard ends it), and it owns the
// drain as a worker does (the app's SIGTERM/SIGINT listeners run once its
// requests are done; their process.exit() does not cut the instance's own
// end). A drain's log lines name its cause and the option that bounds it.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, FIXTURES, freePort, get, killGroup, killMarked, processes, scratch, startLiege, until, written } from './helpers';

const dir = scratch();
const MARK = `liege-single-${process.pid}`;
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  killMarked(MARK);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const marked = () => processes().filter((x) => x.state !== 'Z' && x.argv.join(' ').includes(MARK));
// the double-forked loops (not the shells that started them)
const jobs = (name: string) => marked().filter((x) => x.argv[0] === 'sh' && x.argv.join(' ').includes(`${MARK}-${name}`) && !x.argv.join(' ').includes('('));
const living = (pid: number) => processes().some((x) => x.pid === pid && x.state !== 'Z');
const zombiesOf = (pid: number) => processes().filter((x) => x.ppid === pid && x.state === 'Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An app that double-forks a job at load (its shell exits: the job is
 * orphaned) and a short one that exits by itself; GET /slow answers after
 * SLOW_MS; with CLEANUP_FILE, its SIGTERM listener writes "<signal>
 * <requests in flight>" there and calls process.exit(0) (a naive app). */
function app(name: string): string {
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, [
    "const { spawn } = require('child_process');",
    "const fs = require('fs');",
    `spawn('sh', ['-c', "(sh -c 'while :; do sleep 1; done' ${MARK}-${name} &)"], { stdio: 'ignore' });`,
    `spawn('sh', ['-c', "(sh -c 'sleep 1; true' ${MARK}-short-${name} &)"], { stdio: 'ignore' });`,
    'let inFlight = 0;',
    'module.exports = (req, res) => {',
    '  inFlight++;',
    "  const ms = req.url.startsWith('/slow') ? Number(process.env.SLOW_MS || 1500) : 0;",
    "  setTimeout(() => { inFlight--; res.writeHead(200, { 'x-pid': String(process.pid) }); res.end('ok\\n'); }, ms);",
    '};',
    'if (process.env.CLEANUP_FILE) {',
    "  process.on('SIGTERM', (s) => { fs.appendFileSync(process.env.CLEANUP_FILE, `${s} ${inFlight}\\n`); process.exit(0); });",
    '}',
    '',
  ].join('\n'));
  return file;
}

async function serve(name: string, extra: string[] = [], env: Record<string, string> = {}) {
  const port = await freePort();
  const p = startLiege(['--http-socket', `127.0.0.1:${port}`, '--node-app', app(name), ...extra], { cwd: dir, env });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  await until(() => get(port));
  return { p, port, err: () => err };
}

const slow = (port: number) => fetch(`http://127.0.0.1:${port}/slow`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(30_000) })
  .then(async (r) => ({ status: r.status, pid: r.headers.get('x-pid'), body: await r.text() }), () => undefined);

const refused = (port: number) => new Promise<boolean>((resolve) => {
  const c = net.connect(port, '127.0.0.1');
  c.once('connect', () => { c.destroy(); resolve(false); });
  c.once('error', () => resolve(true));
});

describe('single-process instance as a subreaper', () => {
  it('adopts what the app double-forks and reaps it; a stop ends it (before: left to init, running on)', async () => {
    const { p } = await serve('stop');
    const [job] = await until(() => (jobs('stop').length === 1 ? jobs('stop') : undefined));
    expect(job!.ppid).toBe(p.pid);
    // the short one landed on us too, and once it exits it is reaped: no zombie
    await until(() => marked().some((x) => x.argv.join(' ').includes(`${MARK}-short-stop`) && x.ppid === p.pid) || undefined);
    await until(() => (!marked().some((x) => x.argv.join(' ').includes(`${MARK}-short-stop`)) && zombiesOf(p.pid!).length === 0 ? true : undefined));
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    // SIGKILLed before the exit (the guard's would come 3 s later); (a
    // zombie now: init here may not reap)
    await until(() => (!living(job!.pid) ? true : undefined), 2000);
    expect(jobs('stop')).toEqual([]);
  }, 40_000);

  it("a reload ends the app's double-forked jobs before the exec; the next image's are its own", async () => {
    const { p, port } = await serve('reload');
    const [first] = await until(() => (jobs('reload').length === 1 ? jobs('reload') : undefined));
    process.kill(p.pid!, 'SIGHUP');
    const [next] = await until(() => {
      const now = jobs('reload');
      return now.length === 1 && now[0]!.pid !== first!.pid ? now : undefined;
    }, 30_000);
    expect(living(first!.pid)).toBe(false);
    expect(next!.ppid).toBe(p.pid);
    // (the next image's app spawned it while loading: it may not serve yet)
    expect(await until(() => get(port), 30_000)).toMatchObject({ status: 200, pid: String(p.pid) });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(jobs('reload')).toEqual([]);
  }, 40_000);

  it('SIGKILLed mid-drain (a stop waiting for a request): nothing is left behind, the port is free', async () => {
    const { p, port } = await serve('killed', [], { SLOW_MS: '20000' });
    await until(() => (jobs('killed').length === 1 ? true : undefined));
    const inFlight = slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    await sleep(300); // (draining: the listener is closed, the request runs)
    expect(alive(p.pid!)).toBe(true);
    process.kill(p.pid!, 'SIGKILL');
    await until(() => (marked().length === 0 ? true : undefined), 20_000);
    expect(await refused(port)).toBe(true);
    expect(await inFlight).toBeUndefined();
  }, 40_000);
});

describe("single-process instance: the app's signal listeners are held back", () => {
  it('a naive app that exits on SIGTERM loses no request in flight; its listener runs after it, and the atexit hooks still run', async () => {
    const cleanup = path.join(dir, 'cleanup-stop');
    const atexit = path.join(dir, 'atexit-stop');
    const { p, port } = await serve('naive-stop', ['--hook-as-user-atexit', `exec:touch ${atexit}`], { CLEANUP_FILE: cleanup });
    const inFlight = slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    expect(await inFlight).toMatchObject({ status: 200, pid: String(p.pid) });
    expect((await p).exitCode).toBe(0);
    // once, with no request left in flight
    expect(written(cleanup)).toBe('SIGTERM 0\n');
    expect(fs.existsSync(atexit)).toBe(true);
    expect(jobs('naive-stop')).toEqual([]);
  }, 40_000);

  it('a reload: the request in flight is answered, the listener runs, its process.exit() does not end the instance', async () => {
    const cleanup = path.join(dir, 'cleanup-reload');
    const { p, port, err } = await serve('naive-reload', [], { CLEANUP_FILE: cleanup });
    const served = err().split('serving in a single process').length;
    const inFlight = slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGHUP');
    expect(await inFlight).toMatchObject({ status: 200, pid: String(p.pid) });
    await until(() => (err().split('serving in a single process').length > served ? true : undefined), 30_000);
    expect(written(cleanup)).toBe('SIGTERM 0\n');
    expect(await get(port)).toMatchObject({ status: 200, pid: String(p.pid) });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 40_000);

  it('an app that removed every listener of the process (removeAllListeners()) and exits on SIGTERM: its request in flight is answered', async () => {
    const port = await freePort();
    const p = startLiege(['--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'resets-all-listeners.js')], { cwd: dir });
    started.push(p);
    const at = (url: string) => fetch(`http://127.0.0.1:${port}${url}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) }).then(async (r) => ({ status: r.status, reset: r.headers.get('x-reset'), body: await r.text() }), () => undefined);
    await until(async () => ((await at('/'))?.reset === '1' ? true : undefined));
    const inFlight = at('/slow');
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    expect(await inFlight).toMatchObject({ status: 200, body: 'reset all\n' });
    expect((await p).exitCode).toBe(0);
  }, 30_000);

  it('a second SIGINT during the drain (Ctrl-C twice) makes the stop immediate, as a master\'s: its atexit hooks still run, nothing is left', async () => {
    const cleanup = path.join(dir, 'cleanup-twice');
    const atexit = path.join(dir, 'atexit-twice');
    const { p, port } = await serve('twice', ['--hook-as-user-atexit', `exec:touch ${atexit}`], { CLEANUP_FILE: cleanup, SLOW_MS: '20000' });
    await until(() => (jobs('twice').length === 1 ? true : undefined));
    const inFlight = slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGINT');
    await sleep(300);
    expect(alive(p.pid!)).toBe(true); // (draining)
    process.kill(p.pid!, 'SIGINT');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/stop asked again: immediate/);
    expect(await inFlight).toBeUndefined();
    expect(written(cleanup)).toBeUndefined(); // (cut: the app's shutdown listeners do not run)
    expect(fs.existsSync(atexit)).toBe(true);
    expect(jobs('twice')).toEqual([]);
  }, 40_000);

  it('SIGKILLed while the app waits in its drain: the app never ran its listener, nothing is left behind', async () => {
    const cleanup = path.join(dir, 'cleanup-killed');
    const { p, port } = await serve('naive-killed', [], { CLEANUP_FILE: cleanup, SLOW_MS: '20000' });
    await until(() => (jobs('naive-killed').length === 1 ? true : undefined));
    void slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    await sleep(500);
    expect(alive(p.pid!)).toBe(true); // (before: the app's process.exit(0) ended it at once)
    process.kill(p.pid!, 'SIGKILL');
    await until(() => (marked().length === 0 ? true : undefined), 20_000);
    expect(written(cleanup)).toBeUndefined();
    expect(await refused(port)).toBe(true);
  }, 40_000);
});

describe('a drain names its cause and the option that bounds it', () => {
  it('single process, stop: reload-mercy when it is the smaller; the cause is the stop', async () => {
    const { p, port } = await serve('mercy-stop', ['--reload-mercy', '1', '--worker-reload-mercy', '60'], { SLOW_MS: '20000' });
    const inFlight = slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/drain mercy \(reload-mercy = 1 s\) expired \(stop \(SIGTERM\)\): closing 1 request in flight/);
    expect(await inFlight).toBeUndefined();
  }, 40_000);

  it('single process, reload: worker-reload-mercy, as a worker at a reload', async () => {
    const { p, port, err } = await serve('mercy-reload', ['--reload-mercy', '60', '--worker-reload-mercy', '1'], { SLOW_MS: '20000' });
    void slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/drain mercy \(worker-reload-mercy = 1 s\) expired \(reload\): closing 1 request in flight/.test(err()) ? true : undefined), 20_000);
    await until(() => get(port), 20_000);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 40_000);

  it('master, stop: the worker says "stop", not SIGINT, and ends its own drain at reload-mercy (the smaller) instead of being SIGKILLed', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'slow-request.js'), '--reload-mercy', '2', '--worker-reload-mercy', '60']);
    started.push(p);
    await until(() => get(port));
    const inFlight = slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/drain mercy \(reload-mercy = 2 s\) expired \(stop\): closing 1 request in flight/);
    expect(res.stderr).not.toMatch(/SIGKILL/);
    expect(await inFlight).toBeUndefined();
  }, 40_000);

  it('master, reload: the worker names the reload, not SIGTERM', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'slow-request.js'), '--worker-reload-mercy', '2']);
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    void slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGHUP');
    const line = await until(() => err.split('\n').find((l) => /drain mercy .* expired/.test(l)), 20_000);
    expect(line).toMatch(/drain mercy \(worker-reload-mercy = 2 s\) expired \(new generation\): closing 1 request in flight/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 40_000);

  it('master SIGKILLed while its worker drains for a stop: nothing is left behind (worker, its double-forked job), the port is free', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app('master-killed'), '--reload-mercy', '60'], { cwd: dir, env: { SLOW_MS: '20000' } });
    started.push(p);
    await until(() => get(port));
    await until(() => (jobs('master-killed').length === 1 ? true : undefined));
    const worker = processes().find((x) => x.ppid === p.pid && x.argv.some((a) => a.endsWith('main.js')))!.pid;
    void slow(port);
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    await sleep(500);
    expect(living(worker)).toBe(true); // (draining: the request runs for 20 s)
    process.kill(p.pid!, 'SIGKILL');
    await until(() => (marked().length === 0 && !living(worker) ? true : undefined), 20_000);
    expect(await refused(port)).toBe(true);
  }, 40_000);
});
