// A frozen warm spare (SIGSTOP, or its event loop blocked): spares send a
// heartbeat like workers, a spare silent for seconds is replaced with a
// clear log line, and a promotion never hands a slot to a spare that has
// not answered recently (the instance would serve with a worker less until
// the start timeout, a minute by default).
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, FIXTURES, freePort, get, killGroup, scratch, startLiege, statsAt, until } from './helpers';

const started: ResultPromise[] = [];
const frozen: number[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  for (const pid of frozen.splice(0)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats {
  workers: Array<{ id: number; pid: number; status: string; accepting: number }>;
  spares: Array<{ pid: number; status: 'loading' | 'ready' }>;
}

const stats = (sock: string) => statsAt<Stats>(sock);

/** 2 workers and 1 spare; resolves once the spare is ready. */
async function serve() {
  const sock = path.join(scratch(), 'stats.sock');
  const port = await freePort();
  const p = startLiege(['--master', '-p', '2', '--spare-workers', '1', '--stats', sock, '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js')]);
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => get(port));
  const s = await until(async () => {
    const st = await stats(sock);
    return st && st.workers.every((w) => w.pid > 0) && st.spares[0]?.status === 'ready' ? st : undefined;
  }, 20_000);
  return { port, p, sock, spare: s.spares[0]!.pid, workers: s.workers.map((w) => w.pid), log: () => err };
}

describe('a frozen spare worker', () => {
  it('is replaced by a new spare, with a log line saying why', async () => {
    const { p, sock, spare, workers, log } = await serve();
    process.kill(spare, 'SIGSTOP');
    frozen.push(spare);
    const st = await until(async () => {
      const s = await stats(sock);
      return s?.spares[0]?.status === 'ready' && s.spares[0].pid !== spare ? s : undefined;
    }, 30_000);
    expect(log()).toMatch(/spare worker not responding/);
    await until(() => (alive(spare) ? undefined : true));
    // the serving workers were not touched
    expect(st.workers.map((w) => w.pid)).toEqual(workers);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('is never promoted: a killed worker\'s slot gets a live process', async () => {
    const { port, p, sock, spare, workers } = await serve();
    process.kill(spare, 'SIGSTOP');
    frozen.push(spare);
    // silent for 3 s: past "recently", maybe not yet replaced
    await sleep(3000);
    process.kill(workers[0]!, 'SIGKILL');
    // both slots accept again, and the frozen spare never held one
    const seen = new Set<number>();
    await until(async () => {
      const s = await stats(sock);
      for (const w of s?.workers ?? []) seen.add(w.pid);
      return s && s.workers.every((w) => w.pid > 0 && w.pid !== workers[0] && (w.status === 'idle' || w.status === 'busy')) ? s : undefined;
    }, 30_000);
    expect(seen.has(spare)).toBe(false);
    expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('frozen just before its promotion: the slot is given to a live process within seconds, not at the start timeout', async () => {
    const { port, p, sock, spare, workers, log } = await serve();
    process.kill(spare, 'SIGSTOP');
    frozen.push(spare);
    // at once: the spare still counts as heard from recently
    process.kill(workers[0]!, 'SIGKILL');
    await until(() => (/spare worker promoted/.test(log()) ? true : undefined));
    // the stats say it holds the slot without accepting (before: accepting 1)
    const holding = await until(async () => (await stats(sock))?.workers.find((w) => w.pid === spare));
    expect(holding.accepting).toBe(0);
    // (before: it held the slot, not accepting, for app-listen-timeout + 5 s = 65 s)
    await until(() => (/spare promoted to the slot is silent for \d+ s/.test(log()) ? true : undefined), 20_000);
    await until(() => (alive(spare) ? undefined : true));
    await until(async () => {
      const s = await stats(sock);
      return s && s.workers.every((w) => w.pid > 0 && w.pid !== spare && w.pid !== workers[0]) && s.spares[0]?.status === 'ready' ? s : undefined;
    }, 20_000);
    expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);
});
