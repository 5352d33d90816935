// Lossless reload under keep-alive load (real master, real workers, a Node
// keep-alive load loop): 0 failed requests with a well-behaved and a naive
// app, a storm of SIGHUPs, a SIGHUP to the whole group, a reload into a
// broken app, SIGTERM mid-reload.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';
import { startLoad } from './load';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

/** Whether the process has a handler for signal `sig` (/proc SigCgt). */
function catches(pid: number, sig: number): boolean {
  const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return !!m && (BigInt(`0x${m[1]}`) & (1n << BigInt(sig - 1))) !== 0n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(app: string, extra: string[] = []) {
  const port = await freePort();
  const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, ...extra]);
  started.push(p);
  await until(() => get(port));
  await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
  return { port, p };
}

/** Resolves once the master's workers are all new and `n` in number. */
async function newGeneration(pid: number, old: number[], n = 2, ms = 30_000) {
  await until(() => {
    const now = childrenOf(pid);
    return (now.length === n && !now.some((c) => old.includes(c))) || undefined;
  }, ms);
}

/** A SIGHUP (`hup` sends it) under keep-alive load: no request lost, the
 * new generation up; the caller checks the rest, then stops the master. */
async function hupUnderLoad(app: string, hup: (master: number) => void) {
  const { port, p } = await serve(path.join(FIXTURES, 'apps', app));
  const old = childrenOf(p.pid!);
  const load = startLoad(port, 16);
  await sleep(500);
  hup(p.pid!);
  await newGeneration(p.pid!, old);
  await sleep(500);
  const r = await load.stop();
  expect(r.errors).toEqual({});
  expect(r.failed).toBe(0);
  expect(r.ok).toBeGreaterThan(100);
  return { p, old, r };
}

async function stopMaster(p: ResultPromise) {
  process.kill(p.pid!, 'SIGTERM');
  expect((await p).exitCode).toBe(0);
}

describe('graceful reload', () => {
  for (const app of ['handler.js', 'naive.js', 'resets-signals.js', 'resets-all-listeners.js']) {
    it(`loses no request under keep-alive load (${app})`, async () => {
      const { p, old, r } = await hupUnderLoad(app, (master) => process.kill(master, 'SIGHUP'));
      // both generations answered during the run
      expect([...r.pids].some((x) => old.includes(Number(x)))).toBe(true);
      expect([...r.pids].some((x) => !old.includes(Number(x)))).toBe(true);
      await stopMaster(p);
    }, 60_000);
  }

  it('an app that removed every listener of the process (removeAllListeners()) is still drained by SIGTERM: its request in flight is answered (before: the worker died at once)', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'resets-all-listeners.js')]);
    started.push(p);
    const at = (url: string) => fetch(`http://127.0.0.1:${port}${url}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) }).then(async (r) => ({ status: r.status, pid: r.headers.get('x-pid'), reset: r.headers.get('x-reset'), body: await r.text() }), () => undefined);
    const worker = Number((await until(async () => ((await at('/'))?.reset === '1' ? await at('/') : undefined)))!.pid);
    const slow = at('/slow');
    await sleep(300); // (the request reached the worker: it answers in 1 s)
    process.kill(worker, 'SIGTERM');
    expect(await slow).toMatchObject({ status: 200, pid: String(worker), body: 'reset all\n' });
    await until(() => !alive(worker) || undefined);
    await stopMaster(p);
  }, 30_000);

  it('a SIGHUP to the whole process group (a terminal hangup) is the master\'s reload (the workers leave it to the master: group-signals.test.ts): no request lost', async () => {
    // startLiege: its own group
    const { p } = await hupUnderLoad('handler.js', (master) => process.kill(-master, 'SIGHUP'));
    expect(alive(p.pid!)).toBe(true);
    await stopMaster(p);
  }, 60_000);

  it("a SIGHUP to the whole group, the app having removed every SIGHUP listener (removeAllListeners('SIGHUP')): no request lost, no worker ended by it", async () => {
    const { p } = await hupUnderLoad('resets-signals.js', (master) => process.kill(-master, 'SIGHUP'));
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/signal=SIGHUP/);
  }, 60_000);

  it('survives 20 SIGHUPs 50 ms apart (and one as soon as JS runs), still serving', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js')]);
    started.push(p);
    // the first moment a handler exists (bin/liege's first lines), long
    // before the master loop runs; before it no Node program can catch a signal
    await until(() => catches(p.pid!, 1) || undefined, 10_000);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => get(port));
    const load = startLoad(port, 8);
    for (let i = 0; i < 20; i++) {
      process.kill(p.pid!, 'SIGHUP');
      await sleep(50);
    }
    await sleep(3000);
    expect(alive(p.pid!)).toBe(true);
    const r = await load.stop();
    expect(r.failed).toBe(0);
    expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('keeps the running generation serving when the new one cannot load the app', async () => {
    const dir = scratch();
    const app = path.join(dir, 'app.js');
    fs.copyFileSync(path.join(FIXTURES, 'apps', 'handler.js'), app);
    const { port, p } = await serve(app);
    const old = childrenOf(p.pid!);
    // both workers serve (loaded the good app) before it is broken: one
    // still loading would load the broken one and crash-loop
    const seen = new Set<string>();
    await until(async () => {
      const r = await get(port);
      if (r?.pid) seen.add(r.pid);
      return seen.size === 2 || undefined;
    });
    fs.copyFileSync(path.join(FIXTURES, 'apps', 'broken.js'), app);
    const load = startLoad(port, 8);
    process.kill(p.pid!, 'SIGHUP');
    await sleep(4000);
    const r = await load.stop();
    expect(r.failed).toBe(0);
    expect([...r.pids].every((x) => old.includes(Number(x)))).toBe(true);
    // fixed: the next reload goes through
    fs.copyFileSync(path.join(FIXTURES, 'apps', 'handler.js'), app);
    process.kill(p.pid!, 'SIGHUP');
    try {
      await newGeneration(p.pid!, old);
    } catch (e) {
      killGroup(p);
      console.log((await p).stderr, childrenOf(p.pid!));
      throw e;
    }
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/LIEGE_ERR_APP_LOAD/);
    expect(res.stderr).toMatch(/broken on purpose at load/);
    expect(res.stderr).not.toMatch(/hook failed/);
    // while the new generation fails, the reload is not "done" (nor READY=1);
    // the reload with the fix goes at once (when it lands while a slot waits
    // for its backoff) or is merged (when a retry is booting: it loads the fix)
    const broken = res.stderr.split('graceful reload requested')[1]!.split(/reload requested while/)[0]!;
    expect(broken).toMatch(/replacement worker died before accepting/);
    expect(broken).not.toMatch(/reload done/);
  }, 120_000); // (its waits add up past a minute on a loaded machine: it timed out once at 60 s, at load 5 on 2 cores)

  it('a reload whose newly added port is busy keeps the running generation serving (not "done"); freed, the next reload binds it', async () => {
    const dir = scratch();
    const [port, port2] = [await freePort(), await freePort()];
    const ini = path.join(dir, 'app.ini');
    const conf = ['[uwsgi]', 'master = true', 'processes = 2', `http-socket = 127.0.0.1:${port}`, `node-app = ${path.join(FIXTURES, 'apps', 'handler.js')}`];
    fs.writeFileSync(ini, `${conf.join('\n')}\n`);
    const p = startLiege([ini]);
    started.push(p);
    await until(() => get(port));
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    const old = childrenOf(p.pid!);
    const busy = net.createServer().listen(port2, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    fs.writeFileSync(ini, `${[...conf, `http-socket = 127.0.0.1:${port2}`].join('\n')}\n`);
    const load = startLoad(port, 8);
    process.kill(p.pid!, 'SIGHUP');
    await sleep(3000);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    expect(childrenOf(p.pid!).sort()).toEqual(old.sort());
    await new Promise((r) => busy.close(r));
    process.kill(p.pid!, 'SIGHUP');
    await newGeneration(p.pid!, old);
    await until(() => get(port2));
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    const failed = res.stderr.split('graceful reload requested')[1]!;
    expect(failed).toMatch(/unable to bind 127\.0\.0\.1:\d+: EADDRINUSE/);
    expect(failed).toMatch(/master running the previous generation \(the reload failed\)/);
    expect(failed).not.toMatch(/reload done/);
  }, 60_000);

  /** Serves, reloads under load into a config with `hookLine` added (a
   * failing hook), then reloads into the fixed config and stops. */
  async function reloadIntoFailingHook(hookLine: string) {
    const dir = scratch();
    const port = await freePort();
    const ini = path.join(dir, 'app.ini');
    const conf = ['[uwsgi]', 'master = true', 'processes = 2', `http-socket = 127.0.0.1:${port}`, `node-app = ${path.join(FIXTURES, 'apps', 'handler.js')}`];
    fs.writeFileSync(ini, `${conf.join('\n')}\n`);
    const p = startLiege([ini]);
    started.push(p);
    await until(() => get(port));
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    const old = childrenOf(p.pid!);
    fs.writeFileSync(ini, `${[...conf, hookLine].join('\n')}\n`);
    const load = startLoad(port, 8);
    process.kill(p.pid!, 'SIGHUP');
    await sleep(3000);
    const r = await load.stop();
    const masterAlive = alive(p.pid!);
    const oldAlive = old.every((w) => alive(w));
    const workers = childrenOf(p.pid!);
    fs.writeFileSync(ini, `${conf.join('\n')}\n`);
    process.kill(p.pid!, 'SIGHUP');
    await newGeneration(p.pid!, old);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    return { old, r, masterAlive, oldAlive, workers, res };
  }

  it('a reload whose new workers fail a fatal hook keeps the running generation serving; fixed, the next reload goes through', async () => {
    const { r, masterAlive, oldAlive, res } = await reloadIntoFailingHook('hook-accepting = exec:false');
    expect(masterAlive).toBe(true);
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    expect(oldAlive).toBe(true);
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/FATAL hook failed in a worker of the new generation: the running generation keeps serving/);
    // the worker's own line does not claim the instance ends (it said "destroying instance")
    expect(res.stderr).toMatch(/hooks: ERROR FATAL hook failed, the worker exits, the master decides phase=accepting /);
    expect(res.stderr).not.toMatch(/destroying instance/);
  }, 60_000);

  it('a reload whose master-start hook fails keeps the running workers serving; fixed, the next reload goes through', async () => {
    const { old, r, masterAlive, workers, res } = await reloadIntoFailingHook('hook-master-start = exec:false');
    expect(masterAlive).toBe(true);
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    expect(workers.sort()).toEqual(old.sort());
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/the new generation could not start \(.*master-start.*\): the running workers keep serving/);
    expect(res.stderr).toMatch(/hooks: ERROR FATAL hook failed, the reload fails, the running generation keeps serving phase=master-start /);
    expect(res.stderr).not.toMatch(/destroying instance/);
  }, 60_000);

  it('a reload whose new image fails a startup hook (pre-app) keeps the running generation serving, and says so (not "destroying instance")', async () => {
    const { old, r, masterAlive, workers, res } = await reloadIntoFailingHook('hook-pre-app = exec:false');
    expect(masterAlive).toBe(true);
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    expect(workers.sort()).toEqual(old.sort());
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/hooks: ERROR FATAL hook failed, the reload fails, the running generation keeps serving phase=pre-app /);
    expect(res.stderr).toMatch(/master running the previous generation \(the reload failed\)/);
    expect(res.stderr).not.toMatch(/destroying instance/);
  }, 60_000);

  it('a SIGTERM that comes while a reload\'s atexit hook runs (the old image about to exec) stops the instance: carried to the new image, not lost', async () => {
    const { port, p } = await serve(path.join(FIXTURES, 'apps', 'handler.js'), ['--hook-as-user-atexit', 'exec:sleep 2']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/graceful reload requested/.test(err) ? true : undefined));
    await sleep(500); // inside the 2 s atexit hook
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(err).toMatch(/graceful shutdown/);
    expect(await get(port)).toBeUndefined();
  }, 60_000);

  it('stops on SIGTERM during a reload, leaving nothing behind', async () => {
    const { port, p } = await serve(path.join(FIXTURES, 'apps', 'handler.js'));
    const before = childrenOf(p.pid!);
    process.kill(p.pid!, 'SIGHUP');
    await sleep(200);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode === 0 || res.signal === 'SIGTERM').toBe(true);
    // (a TERM that lands inside the re-exec, before Node runs JS, kills the
    // master outright: the workers then see it gone and drain themselves)
    await until(() => before.every((c) => !alive(c)) || undefined, 10_000);
    expect(await get(port)).toBeUndefined();
  }, 60_000);
});
