// Warm spare workers (spare-workers): a spare loads the app but does not
// accept; when a worker dies it takes the slot at once and a new spare
// starts; a reload replaces the spares; an app that listens itself has its
// listen() held until the spare is activated.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, FIXTURES, freePort, get, killGroup, scratch, startLiege, statsAt, until } from './helpers';
import { startLoad } from './load';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats {
  workers: Array<{ id: number; pid: number; respawn_count: number }>;
  spares: Array<{ pid: number; status: 'loading' | 'ready' }>;
}

const stats = (sock: string) => statsAt<Stats>(sock);

/** A master with 2 workers and 1 spare; resolves once the spare is ready. */
async function serve(app: string, extra: string[] = []) {
  const dir = scratch();
  const sock = path.join(dir, 'stats.sock');
  const port = await freePort();
  const p = startLiege(['--master', '-p', '2', '--spare-workers', '1', '--stats', sock, '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', app), ...extra]);
  started.push(p);
  await until(() => get(port));
  const s = await until(async () => {
    const st = await stats(sock);
    return st && st.workers.every((w) => w.pid > 0) && st.spares.length === 1 && st.spares[0]!.status === 'ready' ? st : undefined;
  }, 20_000);
  return { port, p, sock, spare: s.spares[0]!.pid, workers: s.workers.map((w) => w.pid) };
}

describe('spare workers', () => {
  it('a SIGKILLed worker hands its slot to the spare under keep-alive load; a new spare starts', async () => {
    const { port, p, sock, spare, workers } = await serve('handler.js');
    const load = startLoad(port, 8);
    await sleep(500);
    // the spare does not accept before it is promoted
    expect(load.result.pids.has(String(spare))).toBe(false);
    const failedBefore = load.result.failed;
    const victim = workers[0]!;
    process.kill(victim, 'SIGKILL');
    // the spare serves in the victim's slot, and a new spare is ready
    const after = await until(async () => {
      const st = await stats(sock);
      return st && st.workers.some((w) => w.pid === spare) && st.spares.length === 1 && st.spares[0]!.status === 'ready' && st.spares[0]!.pid !== spare ? st : undefined;
    }, 20_000);
    // (the load's connections may all stay with the other worker: ask on fresh ones)
    await until(async () => ((await get(port))?.pid === String(spare) ? true : undefined));
    const okAtKill = load.result.ok;
    await until(() => (load.result.ok > okAtKill + 500 ? true : undefined));
    const r = await load.stop();
    expect(failedBefore).toBe(0);
    // only requests the killed worker had in flight (or on its idle
    // keep-alive connections) can fail: at most one per client connection,
    // and only as a reset, never a refused connection or a 5xx
    expect(r.failed).toBeLessThanOrEqual(8);
    for (const why of Object.keys(r.errors)) expect(why).toMatch(/ECONNRESET|socket hang up|EPIPE/);
    expect(alive(victim)).toBe(false);
    expect(after.workers.map((w) => w.pid)).toContain(workers[1]);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/spare worker promoted/);
    // the new spare went with the instance
    expect(alive(after.spares[0]!.pid)).toBe(false);
  }, 60_000);

  it('an app that listens late has its listen() held until the spare is promoted', async () => {
    const { port, p, sock, spare, workers } = await serve('late-listen.js');
    // 40 fresh connections: none reaches the spare
    for (let i = 0; i < 40; i++) expect((await get(port))?.pid).not.toBe(String(spare));
    process.kill(workers[1]!, 'SIGKILL');
    await until(async () => ((await get(port))?.pid === String(spare) ? true : undefined));
    // the app's listen() completed with the address it asked for
    const r = await until(async () => {
      const x = await get(port);
      return x?.pid === String(spare) ? x : undefined;
    });
    expect(r.body).toBe(`late-app ${port}\n`);
    await until(async () => ((await stats(sock))?.spares[0]?.status === 'ready' ? true : undefined), 20_000);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('a reload replaces the spare; a spare that dies is replaced', async () => {
    const { port, p, sock, spare } = await serve('handler.js');
    process.kill(p.pid!, 'SIGHUP');
    const s1 = await until(async () => {
      const st = await stats(sock);
      return st?.spares.length === 1 && st.spares[0]!.status === 'ready' && st.spares[0]!.pid !== spare ? st : undefined;
    }, 30_000);
    expect(alive(spare)).toBe(false);
    expect(await get(port)).toMatchObject({ status: 200 });
    // a dead spare (not a serving worker) is replaced; the workers stay
    const second = s1.spares[0]!.pid;
    process.kill(second, 'SIGKILL');
    const s2 = await until(async () => {
      const st = await stats(sock);
      return st?.spares.length === 1 && st.spares[0]!.status === 'ready' && st.spares[0]!.pid !== second ? st : undefined;
    }, 20_000);
    expect(s2.workers.map((w) => w.pid)).toEqual(s1.workers.map((w) => w.pid));
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/spare worker died/);
  }, 60_000);

  it('max-requests recycling takes the spare as the replacement, losing no request', async () => {
    const { port, p, spare } = await serve('handler.js', ['--max-requests', '300', '--min-worker-lifetime', '1']);
    const load = startLoad(port, 8);
    // a worker reaches max-requests (after min-worker-lifetime): the spare takes its place
    await until(async () => ((await get(port))?.pid === String(spare) ? true : undefined), 30_000);
    const ok = load.result.ok;
    await until(() => (load.result.ok >= ok + 300 ? true : undefined), 30_000);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/recycling: max-requests/);
    expect(res.stderr).toMatch(new RegExp(`pid=${spare}.*spare worker promoted|spare worker promoted.*${spare}`));
  }, 60_000);

  it('a chain reload (then a reload) starts the new spare once every worker was replaced, never beside a replacement that boots', async () => {
    const { port, p, sock } = await serve('handler.js', ['--processes', '3', '--disable-logging']);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const load = startLoad(port, 8);
    for (const [sig, n] of [['SIGUSR2', 1], ['SIGHUP', 2]] as const) {
      process.kill(p.pid!, sig);
      await until(() => ((err.match(/reload done/g) ?? []).length >= n ? true : undefined), 30_000);
      await until(async () => ((await stats(sock))?.spares[0]?.status === 'ready' ? true : undefined), 20_000);
    }
    const r = await load.stop();
    expect(r.failed).toBe(0);
    // the chain: after its request, no spare spawned before it is done
    const chain = err.split('chain reload requested')[1]!.split('reload done')[0]!;
    expect(chain).toMatch(/worker spawned/);
    expect(chain).not.toMatch(/spare worker spawned/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  it('a brutal workers reload (fifo W) during a chain reload: the spares stay held until the chain is done', async () => {
    const dir = scratch();
    const fifo = path.join(dir, 'master.fifo');
    const mark = path.join(dir, 'slow');
    const port = await freePort();
    const p = startLiege(['--master', '-p', '3', '--spare-workers', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'slow-reboot.js'), '--master-fifo', fifo, '--disable-logging'], { env: { SLOW_MARK: mark } });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => (/spare worker ready/.test(err) ? true : undefined), 30_000);
    const after = () => err.split('chain reload requested')[1] ?? '';
    fs.writeFileSync(mark, ''); // the new workers boot for 3 s
    fs.writeFileSync(fifo, 'c');
    await until(() => (/worker spawned worker=1/.test(after()) ? true : undefined), 30_000);
    fs.writeFileSync(fifo, 'W');
    await until(() => (/chain reload done/.test(after()) ? true : undefined), 60_000);
    await until(() => (/spare worker spawned/.test(after()) ? true : undefined), 30_000);
    const during = after().split('chain reload done')[0]!;
    expect(during).toMatch(/reloading the workers \(brutal\) while a chain reload runs/);
    // before: the spare started as W's workers accepted, the chain not done
    expect(during).not.toMatch(/spare worker spawned/);
    expect((await get(port))?.status).toBe(200);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
  }, 90_000);

  it('rejects a spare-workers value that is not a number', async () => {
    const dir = scratch();
    const ini = path.join(dir, 'bad.ini');
    fs.writeFileSync(ini, '[uwsgi]\nmaster = true\nspare-workers = many\n');
    const p = startLiege([ini]);
    started.push(p);
    const res = await p;
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/bad\.ini:3/);
    expect(res.stderr).toMatch(/spare-workers/);
  });
});
