// A frozen worker (SIGSTOP: a debugger, an operator's `kill -STOP`, a
// cgroup freezer): a stop or a reload must not wait for the mercy because
// of it, and harakiri must replace it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, processes, scratch, startLiege, statsAt, until } from './helpers';

const started: ResultPromise[] = [];
const frozen: number[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  for (const pid of frozen.splice(0)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

async function serve(extra: string[] = []) {
  const port = await freePort();
  const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), ...extra]);
  started.push(p);
  await until(() => get(port));
  const workers = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; });
  return { port, p, workers };
}

describe('a frozen (SIGSTOPped) worker', () => {
  it('does not hold a graceful stop until reload-mercy: it is continued and drains', async () => {
    const { p, workers } = await serve(['--reload-mercy', '60']);
    process.kill(workers[0]!, 'SIGSTOP');
    frozen.push(workers[0]!);
    process.kill(p.pid!, 'SIGTERM');
    // the 60 s mercy would outlast this wait
    const exited = await Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]);
    expect(exited).toBe(true);
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).not.toMatch(/reload-mercy\) expired/);
    expect(alive(workers[0]!)).toBe(false);
  }, 40_000);

  it('does not hold a reload until worker-reload-mercy: the new generation takes over and the frozen one drains', async () => {
    const { port, p, workers } = await serve(['--worker-reload-mercy', '60']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    process.kill(workers[0]!, 'SIGSTOP');
    frozen.push(workers[0]!);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(err) ? true : undefined), 20_000);
    expect(alive(workers[0]!)).toBe(false);
    expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 40_000);
});

describe('a worker whose event loop is blocked outside a request, without harakiri', () => {
  it('is named once after 30 s of silence with the hint to set harakiri (before: nothing said), not killed, and said again when heard from; the stats show its last heartbeat', async () => {
    const port = await freePort();
    const stats = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--stats', `127.0.0.1:${stats}`, '--node-app', path.join(FIXTURES, 'apps', 'freezes.js')], { env: { FREEZE_MS: '36000' } });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(port));
    const workers = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; });
    const r = await fetch(`http://127.0.0.1:${port}/freeze`, { headers: { connection: 'close' } });
    expect(r.status).toBe(200);
    const pid = Number(r.headers.get('x-pid'));
    const id = workers.indexOf(pid) + 1;
    expect(id).toBeGreaterThan(0);
    const warning = await until(() => /WARN worker silent for .*/.exec(err)?.[0], 45_000);
    expect(warning.replace(/\b3\d s\b/, '30 s').replace(/silent_s=3\d$/, 'silent_s=30')).toBe(`WARN worker silent for 30 s (no heartbeat): its event loop is blocked (no request in flight at its last heartbeat) or it is stopped, and it accepts nothing; without harakiri nothing replaces it (set harakiri = N to SIGKILL and replace a worker silent for N s) worker=${id} pid=${pid} silent_s=30`);
    const doc = await until(() => statsAt<{ workers: Array<{ pid: number; last_heartbeat: number }> }>(stats));
    const age = (w: number) => Math.floor(Date.now() / 1000) - doc.workers.find((x) => x.pid === w)!.last_heartbeat;
    expect(age(pid)).toBeGreaterThanOrEqual(29);
    expect(age(workers.find((w) => w !== pid)!)).toBeLessThanOrEqual(3);
    // the other worker serves meanwhile
    expect(await get(port)).toMatchObject({ status: 200 });
    await until(() => (new RegExp(`silent worker heard from again worker=${id} pid=${pid} silent_s=3\\d`).test(err) ? true : undefined), 20_000);
    expect(err.match(/WARN worker silent for/g), err).toHaveLength(1);
    expect(alive(pid)).toBe(true);
    expect(err).not.toMatch(/harakiri: .*SIGKILL|worker died/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 90_000);
});

describe('a frozen (SIGSTOPped) master', () => {
  it('resumed, does not take its own stall for its workers\' (harakiri kills no healthy worker)', async () => {
    const { port, p, workers } = await serve(['--harakiri', '3']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    process.kill(p.pid!, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 6000));
    process.kill(p.pid!, 'SIGCONT');
    await new Promise((r) => setTimeout(r, 3000));
    expect(err).not.toMatch(/harakiri/);
    expect(childrenOf(p.pid!).sort()).toEqual([...workers].sort());
    expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 40_000);
});

/** Whether the process has a handler for SIGTERM (/proc SigCgt, bit 15). */
function catchesTerm(pid: number): boolean {
  const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return !!m && (BigInt(`0x${m[1]}`) & (1n << 14n)) !== 0n;
}

describe('a frozen (SIGSTOPped) daemon', () => {
  it('is continued after the SIGTERM of a stop, so its own cleanup runs', async () => {
    const dir = scratch();
    const done = path.join(dir, 'cleaned');
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--attach-daemon', `sh -c 'trap "echo x > ${done}; exit 0" TERM; while :; do sleep 0.1; done'`]);
    started.push(p);
    await until(() => get(port));
    const sh = await until(() => processes().find((x) => x.argv[0] === 'sh' && x.argv.join(' ').includes('trap'))?.pid);
    // frozen once its trap is set (SigCgt has SIGTERM): stopped before, the
    // SIGTERM would end it by its default action, without the cleanup
    await until(() => (catchesTerm(sh) ? true : undefined));
    process.kill(sh, 'SIGSTOP');
    frozen.push(sh);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(fs.existsSync(done)).toBe(true);
    fs.rmSync(dir, { recursive: true });
  }, 40_000);
});
