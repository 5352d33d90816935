// The emperor's own reload (SIGHUP) under systemd's Type=notify-reload:
// RELOADING=1, then READY=1 once every vassal serves its new generation or
// said its reload failed (STATUS= names it), or after emperor-reload-timeout;
// a vassal added meanwhile is not waited for, one removed no longer holds
// it, a second SIGHUP is coalesced, a SIGTERM stops. Before, READY=1 came as
// soon as each vassal had been sent its reload byte, while the old
// generations still served. Vassals load slowly on a reload
// (fixtures/apps/slow-reload.js), so the order shows.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, killGroup, scratch, startLiege, until } from './helpers';
import { notifyListener } from './notify-listener';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const APP = `${FIXTURES}/apps/slow-reload.js`;
type Stats = { reloading: number; vassals: Array<Record<string, number | string>> };

function readStats(sock: string): Promise<Stats> {
  return new Promise((resolve, reject) => {
    let body = '';
    net.connect(sock).on('data', (d) => { body += d; }).on('end', () => resolve(JSON.parse(body))).on('error', reject);
  });
}

/** "PID RELOADS" from a vassal's app, or undefined. */
async function ask(port: number): Promise<{ pid: number; reloads: number } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(2000) });
    const [pid, reloads] = (await r.text()).trim().split(' ').map(Number);
    return { pid: pid!, reloads: reloads! };
  } catch {
    return undefined;
  }
}

/** A vassal config: a master with one worker, or a single process. */
function vassal(vassals: string, name: string, port: number, master: boolean, extra = ''): void {
  fs.writeFileSync(path.join(vassals, `${name}.ini`), `[uwsgi]\n${master ? 'master = true\nprocesses = 1\n' : ''}http-socket = 127.0.0.1:${port}\nnode-app = ${APP}\n${extra}`);
}

/** An emperor on `vassals` with a notify socket and emperor-stats. */
async function emperor(name: string, vassals: string, env: Record<string, string>, args: string[] = []) {
  const sock = path.join(dir, `${name}.notify`);
  const stats = path.join(dir, `${name}.stats`);
  const { listener, heard } = await notifyListener(sock, started);
  const p = startLiege(['--emperor', vassals, '--emperor-freq', '3600', '--emperor-stats', stats, ...args], { cwd: dir, env: { NOTIFY_SOCKET: sock, ...env } });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const readies = () => heard().split('\n').filter((l) => l.startsWith('READY=1')).length;
  return { p, listener, heard, readies, stderr: () => err, stats: () => readStats(stats) };
}

const governing = (n: number, note = '') => `READY=1|STATUS=The Emperor is governing ${n} vassals${note}`;
const RELOADING = (n: number) => expect.stringMatching(new RegExp(`^RELOADING=1\\|MONOTONIC_USEC=\\d+\\|STATUS=The Emperor is governing ${n} vassals; reloading, ${n} of ${n} to go$`));

describe('the emperor\'s reload under systemd', () => {
  it('READY=1 comes once every vassal (master and single process) serves its new generation; stats and log say so meanwhile', async () => {
    const vassals = path.join(dir, 'order');
    fs.mkdirSync(vassals);
    const [pm, ps] = [await freePort(), await freePort()];
    vassal(vassals, 'm', pm, true);
    vassal(vassals, 's', ps, false);
    const slow = path.join(dir, 'order.slow');
    const e = await emperor('order', vassals, { SLOW_MARK: slow });
    const m0 = await until(() => ask(pm));
    const s0 = await until(() => ask(ps));
    await until(() => e.heard().includes('STATUS=The Emperor is governing 2 vassals') || undefined);
    fs.writeFileSync(slow, '');
    process.kill(e.p.pid!, 'SIGHUP');
    await until(() => e.heard().includes('RELOADING=1') || undefined);
    // meanwhile: the old generations serve; the stats say reloading
    expect(await ask(pm)).toEqual(m0);
    const during = await e.stats();
    expect(during.reloading).toBe(1);
    expect(during.vassals.map((v) => [v.id, v.status, v.accepting])).toEqual([['m.ini', 'reloading', 0], ['s.ini', 'reloading', 0]]);
    // READY=1: each vassal answers from its new generation at once
    await until(() => e.readies() === 2 || undefined, 30_000);
    const [m1, s1] = await Promise.all([ask(pm), ask(ps)]);
    expect(m1!.reloads).toBe(1);
    expect(m1!.pid).not.toBe(m0.pid); // (the master's new worker)
    expect(s1).toEqual({ pid: s0.pid, reloads: 1 }); // (re-exec in place)
    const after = await e.stats();
    expect(after.reloading).toBe(0);
    expect(after.vassals.map((v) => [v.id, v.status, v.accepting, v.reload_failed])).toEqual([['m.ini', 'running', 1, 0], ['s.ini', 'running', 1, 0]]);
    process.kill(e.p.pid!, 'SIGTERM');
    expect((await e.p).exitCode).toBe(0);
    const lines = (await e.listener).stdout.split('\n').filter((l) => l && l !== 'listening');
    expect(lines.slice(lines.indexOf(lines.find((l) => l.startsWith('RELOADING=1'))!))).toEqual([
      RELOADING(2),
      'STATUS=The Emperor is governing 2 vassals; reloading, 1 of 2 to go',
      governing(2),
      'STOPPING=1',
    ]);
    const log = e.stderr();
    expect(log).toMatch(/SIGHUP: reloading every vassal vassals=2/);
    expect(log).toMatch(/vassal reloaded: its new generation serves vassal=m\.ini/);
    expect(log).toMatch(/vassal reloaded: its new generation serves vassal=s\.ini/);
    expect(log).toMatch(/the emperor's reload is done: every vassal serves again reloaded=2/);
  });

  it('a vassal whose reload fails (new workers die; config refused) keeps serving, and STATUS= says so until it reloads fine', async () => {
    const vassals = path.join(dir, 'fail');
    fs.mkdirSync(vassals);
    const [pm, ps, pq] = [await freePort(), await freePort(), await freePort()];
    const extra = path.join(vassals, 's-extra.conf'); // (not a vassal: no .ini)
    fs.writeFileSync(extra, '[uwsgi]\n');
    const [broken, slow] = [path.join(dir, 'fail.broken'), path.join(dir, 'fail.slow')];
    vassal(vassals, 'm', pm, true, `env = BREAK_MARK=${broken}\n`);
    vassal(vassals, 'q', pq, false);
    vassal(vassals, 's', ps, false, `ini = ${extra}\n`);
    const e = await emperor('fail', vassals, { SLOW_MARK: slow });
    const m0 = await until(() => ask(pm));
    const s0 = await until(() => ask(ps));
    await until(() => ask(pq));
    await until(() => e.heard().includes('STATUS=The Emperor is governing 3 vassals') || undefined);
    fs.writeFileSync(broken, '');
    fs.writeFileSync(slow, ''); // (q reloads fine, slowly: READY=1 waits for it)
    fs.writeFileSync(extra, '[uwsgi]\nprocesses = many\n');
    process.kill(e.p.pid!, 'SIGHUP');
    await until(() => e.readies() === 2 || undefined, 30_000);
    expect((await ask(pq))!.reloads).toBe(1);
    expect(await ask(pm)).toEqual(m0);
    expect(await ask(ps)).toEqual(s0);
    expect(e.heard()).toContain(governing(3, '; reload failed in m.ini, s.ini (the running generation serves)'));
    const after = await e.stats();
    expect(after.vassals.map((v) => [v.id, v.status, v.accepting, v.reload_failed])).toEqual([['m.ini', 'running', 1, 1], ['q.ini', 'running', 1, 0], ['s.ini', 'running', 1, 1]]);
    expect(e.stderr()).toMatch(/the emperor's reload is done, not every vassal reloaded reloaded=1 failed="m\.ini s\.ini"/);
    // fixed: the next reload clears it
    fs.rmSync(broken);
    fs.rmSync(slow);
    fs.writeFileSync(extra, '[uwsgi]\n');
    process.kill(e.p.pid!, 'SIGHUP');
    await until(() => e.readies() === 3 || undefined, 30_000);
    expect((await ask(pm))!.reloads).toBe(2); // (its first reload's image stayed, failing)
    expect((await ask(ps))!.reloads).toBe(1); // (its first reload was refused: no exec)
    expect(e.heard().trim().split('\n').at(-1)).toBe(governing(3));
    process.kill(e.p.pid!, 'SIGTERM');
    expect((await e.p).exitCode).toBe(0);
  });

  it('a hung vassal holds READY=1 for emperor-reload-timeout only; STATUS= names it until it serves', async () => {
    const vassals = path.join(dir, 'hung');
    fs.mkdirSync(vassals);
    const [ph, pf] = [await freePort(), await freePort()];
    vassal(vassals, 'f', pf, false);
    vassal(vassals, 'h', ph, true, 'env = SLOW_MARK=' + path.join(dir, 'hung.slow') + '\nenv = SLOW_LOAD_MS=6000\n');
    fs.writeFileSync(path.join(dir, 'hung.slow'), '');
    const e = await emperor('hung', vassals, {}, ['--emperor-reload-timeout', '2']);
    await until(() => ask(ph));
    await until(() => ask(pf));
    await until(() => e.heard().includes('STATUS=The Emperor is governing 2 vassals') || undefined);
    process.kill(e.p.pid!, 'SIGHUP');
    await until(() => e.readies() === 2 || undefined, 30_000);
    // the bound, not the vassal, ended it: h still loads its new generation
    expect((await ask(ph))!.reloads).toBe(0);
    expect(e.heard()).toContain(governing(2, '; still reloading: h.ini'));
    expect(e.stderr()).toMatch(/the emperor's reload is not done after 2 s \(emperor-reload-timeout\): READY=1 to systemd now, those still reloading are named reloaded=1 reloading=h\.ini/);
    expect((await e.stats()).vassals.find((v) => v.id === 'h.ini')!.status).toBe('reloading');
    // it serves: STATUS= no longer names it
    await until(async () => ((await ask(ph))?.reloads === 1) || undefined, 30_000);
    await until(() => e.heard().trim().split('\n').at(-1) === 'STATUS=The Emperor is governing 2 vassals' || undefined);
    process.kill(e.p.pid!, 'SIGTERM');
    expect((await e.p).exitCode).toBe(0);
  });

  it('during the reload: a second SIGHUP is coalesced, a vassal added is not waited for, one removed no longer holds it', async () => {
    const vassals = path.join(dir, 'during');
    fs.mkdirSync(vassals);
    const [pa, pr, pn] = [await freePort(), await freePort(), await freePort()];
    vassal(vassals, 'a', pa, true);
    vassal(vassals, 'r', pr, true, 'env = SLOW_LOAD_MS=20000\n');
    const slow = path.join(dir, 'during.slow');
    fs.writeFileSync(slow, '');
    const e = await emperor('during', vassals, { SLOW_MARK: slow });
    await until(() => ask(pa));
    await until(() => ask(pr));
    await until(() => e.heard().includes('STATUS=The Emperor is governing 2 vassals') || undefined);
    process.kill(e.p.pid!, 'SIGHUP');
    await until(() => e.heard().includes('RELOADING=1') || undefined);
    await new Promise((r) => setTimeout(r, 500));
    process.kill(e.p.pid!, 'SIGHUP'); // (a: once more after its running reload)
    await until(() => /SIGHUP while the emperor reloads: coalesced/.test(e.stderr()) || undefined);
    vassal(vassals, 'n', pn, false); // (added: a start, not waited for)
    fs.rmSync(path.join(vassals, 'r.ini')); // (r would hold the reload for 20 s)
    await until(() => e.readies() === 2 || undefined, 30_000);
    // READY=1 after a's second reload: one RELOADING=1, one READY=1
    expect((await ask(pa))!.reloads).toBe(2);
    expect(e.heard().split('RELOADING=1').length).toBe(2);
    // (r, stopping, may still be counted: its process is there)
    expect(e.heard().trim().split('\n').filter((l) => l.startsWith('READY=1')).at(-1)).toMatch(/^READY=1\|STATUS=The Emperor is governing \d vassals$/);
    expect(e.stderr()).toMatch(/vassal reloads once more \(asked again while it reloaded\) vassal=a\.ini/);
    expect(e.stderr()).toMatch(/the emperor's reload is done: every vassal serves again reloaded=1 stopped=r\.ini/);
    expect((await e.stats()).vassals.filter((v) => v.status !== 'stopping').map((v) => [v.id, v.status])).toEqual([['a.ini', 'running'], ['n.ini', 'running']]);
    process.kill(e.p.pid!, 'SIGTERM');
    expect((await e.p).exitCode).toBe(0);
  });

  it('a SIGHUP while a vassal still starts: READY=1 once it reloaded, not at its first accepting', async () => {
    const vassals = path.join(dir, 'early');
    fs.mkdirSync(vassals);
    const [pm, ps] = [await freePort(), await freePort()];
    vassal(vassals, 'm', pm, true, 'env = SLOW_LOAD_MS=200\n'); // (s's reload is the slower)
    vassal(vassals, 's', ps, false);
    const slow = path.join(dir, 'early.slow');
    fs.writeFileSync(slow, '');
    const e = await emperor('early', vassals, { SLOW_MARK: slow, SLOW_FIRST: '1' });
    await until(() => (e.stderr().match(/vassal spawned/g) ?? []).length === 2 || undefined);
    await new Promise((r) => setTimeout(r, 1000)); // (their apps load for 3 s)
    expect(await ask(ps)).toBeUndefined();
    process.kill(e.p.pid!, 'SIGHUP');
    await until(() => e.readies() === 2 || undefined, 30_000);
    const [m, s] = await Promise.all([ask(pm), ask(ps)]);
    expect([m?.reloads, s?.reloads]).toEqual([1, 1]);
    // (s's answer is its reloaded image's, the second serving line)
    const log = e.stderr();
    const serving = [...log.matchAll(/instance: serving in a single process/g)].map((x) => x.index);
    expect(serving).toHaveLength(2);
    expect(log.indexOf('vassal reloaded: its new generation serves vassal=s.ini')).toBeGreaterThan(serving[1]!);
    process.kill(e.p.pid!, 'SIGTERM');
    expect((await e.p).exitCode).toBe(0);
  });

  it('a vassal reloaded before it ever accepted still holds its spawn slot (emperor-spawn-concurrency)', async () => {
    const vassals = path.join(dir, 'slot');
    fs.mkdirSync(vassals);
    const [pa, pb] = [await freePort(), await freePort()];
    vassal(vassals, 'a', pa, false, 'env = SLOW_FIRST=1\n');
    vassal(vassals, 'b', pb, false);
    const slow = path.join(dir, 'slot.slow');
    fs.writeFileSync(slow, '');
    const e = await emperor('slot', vassals, { SLOW_MARK: slow }, ['--emperor-spawn-concurrency', '1']);
    await until(() => /vassal spawned vassal=a\.ini/.test(e.stderr()) || undefined);
    process.kill(e.p.pid!, 'SIGHUP');
    await until(() => e.heard().includes('RELOADING=1') || undefined);
    await new Promise((r) => setTimeout(r, 1000));
    expect(e.stderr()).not.toMatch(/vassal spawned vassal=b\.ini/); // (before: spawned at the SIGHUP)
    await until(() => e.readies() === 2 || undefined, 30_000);
    expect((await until(() => ask(pb)))!.reloads).toBe(0);
    process.kill(e.p.pid!, 'SIGTERM');
    expect((await e.p).exitCode).toBe(0);
  });

  it('a SIGTERM during the reload stops: STOPPING=1, no READY=1', async () => {
    const vassals = path.join(dir, 'term');
    fs.mkdirSync(vassals);
    const pa = await freePort();
    vassal(vassals, 'a', pa, true);
    const slow = path.join(dir, 'term.slow');
    fs.writeFileSync(slow, '');
    const e = await emperor('term', vassals, { SLOW_MARK: slow, SLOW_LOAD_MS: '8000' });
    await until(() => ask(pa));
    await until(() => e.heard().includes('STATUS=The Emperor is governing 1 vassals') || undefined);
    process.kill(e.p.pid!, 'SIGHUP');
    await until(() => e.heard().includes('RELOADING=1') || undefined);
    process.kill(e.p.pid!, 'SIGTERM');
    expect((await e.p).exitCode).toBe(0);
    const lines = (await e.listener).stdout.split('\n').filter(Boolean);
    expect(lines.slice(lines.findIndex((l) => l.startsWith('RELOADING=1')))).toEqual([RELOADING(1), 'STOPPING=1']);
    expect(e.stderr()).toMatch(/the emperor's reload under way is given up: stopping reloading=a\.ini/);
  });
});
