// systemd Type=notify: READY=1 once every worker accepts, RELOADING=1 and
// READY=1 again around a reload, STOPPING=1 on shutdown — read from a real
// unix datagram socket (python3 listens: Node has no unix datagrams).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { execFileSync } from 'node:child_process';
import { childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';
import { notifyListener as listen } from './notify-listener';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const notifyListener = (sock: string, stamped = false) => listen(sock, started, stamped);

/** RELOADING=1 with its CLOCK_MONOTONIC time (Type=notify-reload needs it). */
const RELOADING = expect.stringMatching(/^RELOADING=1\|MONOTONIC_USEC=\d+$/);

/** The [start, end] windows a hook wrote to `file` (one `date +%s.%N` line at each end). */
function windows(file: string): [number, number][] {
  const t = fs.readFileSync(file, 'utf8').trim().split('\n').map(Number);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < t.length; i += 2) out.push([t[i]!, t[i + 1]!]);
  return out;
}

/** WATCHDOG=1 pings heard within [from, to]. */
const pingsIn = (heard: string, [from, to]: [number, number]) => heard.split('\n').filter((l) => {
  const [at, msg] = l.split(' ');
  return msg === 'WATCHDOG=1' && Number(at) > from && Number(at) < to;
}).length;

describe('sd_notify', () => {
  it('tells systemd when the instance is ready, reloading and stopping', async () => {
    const sock = path.join(dir, 'notify.sock');
    const { listener, heard } = await notifyListener(sock);
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--hook-post-fork', 'exec:test -z "$NOTIFY_SOCKET"'], { cwd: dir, env: { NOTIFY_SOCKET: sock } });
    started.push(p);
    await until(() => get(port));
    await new Promise((r) => setTimeout(r, 300));
    const old = childrenOf(p.pid!);
    const before = process.hrtime.bigint() / 1000n;
    process.kill(p.pid!, 'SIGHUP');
    // before: RELOADING=1 alone, and a Type=notify-reload unit (systemd sends
    // the SIGHUP, then waits for RELOADING=1 with a MONOTONIC_USEC= not older
    // than its signal, then READY=1) stayed reloading until its timeout
    const at = BigInt((await until(() => /RELOADING=1\|MONOTONIC_USEC=(\d+)/.exec(heard())?.[1]))!);
    expect(at >= before && at <= process.hrtime.bigint() / 1000n).toBe(true);
    // the reload is done when the new generation serves and the old one is gone
    await until(() => { const now = childrenOf(p.pid!); return now.length === 2 && !now.some((c) => old.includes(c)) || undefined; }, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    const lines = (await listener).stdout.split('\n');
    expect(lines).toEqual([
      'listening',
      `READY=1|STATUS=serving with 2 workers on 127.0.0.1:${port}`,
      RELOADING,
      `READY=1|STATUS=serving with 2 workers on 127.0.0.1:${port}`,
      'STOPPING=1',
    ]);
  });

  it('reaches a root-only socket after the drop to nobody (connected as root), across a reload; only the master holds it', async () => {
    const sock = path.join(dir, 'root-only.sock');
    const { listener, heard } = await notifyListener(sock);
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--uid', 'nobody', '--gid', 'nogroup'], { cwd: dir, env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' } });
    started.push(p);
    // before: READY=1 was sent after the drop and refused (EACCES)
    await until(() => heard().includes('READY=1') || undefined);
    expect(holdersOf(sock)).toEqual([p.pid]); // not the workers (close-on-exec)
    const old = childrenOf(p.pid!);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (heard().split('READY=1').length === 3 && !childrenOf(p.pid!).some((c) => old.includes(c))) || undefined, 30_000);
    expect(holdersOf(sock)).toEqual([p.pid]); // the re-exec'd image took it over (the master is nobody now)
    await until(() => heard().split('WATCHDOG=1').length > 3 || undefined);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(String(r.stderr)).not.toMatch(/unable to notify systemd/);
    const lines = (await listener).stdout.split('\n').filter((l) => l !== 'WATCHDOG=1');
    expect(lines).toEqual(['listening', expect.stringMatching(/^READY=1\|STATUS=serving/), RELOADING, expect.stringMatching(/^READY=1\|STATUS=serving/), 'STOPPING=1']);
  });

  it('a notify socket that refuses (gone, or not writable by the dropped user) is said once, not at every watchdog ping; the instance serves', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`], { cwd: dir, env: { NOTIFY_SOCKET: path.join(dir, 'nobody-listens.sock'), WATCHDOG_USEC: '200000' } });
    started.push(p);
    await until(() => get(port));
    // 2 s: some 20 watchdog pings, each of them failing
    await new Promise((r) => setTimeout(r, 2000));
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    // before: one warning per ping (READY, every WATCHDOG=1, STOPPING)
    expect(String(r.stderr).split('\n').filter((l) => /unable to notify systemd/.test(l))).toHaveLength(1);
  });

  // systemd holds a unit that sent RELOADING=1 in "reloading" until READY=1:
  // before, a reload into an app that no longer loads sent nothing more, so
  // `systemctl reload` waited for its timeout and failed while the old
  // generation served on
  it('a reload into a broken app: READY=1 again once its new workers die, the running generation serving; the fix\'s reload is ready as usual', async () => {
    const sock = path.join(dir, 'broken.sock');
    const { listener, heard } = await notifyListener(sock);
    const app = path.join(dir, 'broken-later.js');
    const good = 'module.exports = (req, res) => res.end(`pid ${process.pid}`);\n';
    fs.writeFileSync(app, good);
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app], { cwd: dir, env: { NOTIFY_SOCKET: sock } });
    started.push(p);
    await until(() => heard().includes('READY=1') || undefined);
    const old = childrenOf(p.pid!);
    fs.writeFileSync(app, 'throw new Error("broken on purpose");\n');
    process.kill(p.pid!, 'SIGHUP');
    await until(() => heard().split('READY=1').length === 3 || undefined);
    expect(heard()).toMatch(/RELOADING=1\|MONOTONIC_USEC=\d+\nREADY=1\|STATUS=reload failing \(the new generation's workers die before accepting\), the running generation is serving with 2 workers/);
    // the old generation serves
    expect(old).toContain(Number((await get(port))!.body.replace('pid ', '')));
    fs.writeFileSync(app, good);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => heard().split('READY=1').length === 4 || undefined, 30_000);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    const lines = (await listener).stdout.split('\n');
    expect(lines).toEqual([
      'listening',
      `READY=1|STATUS=serving with 2 workers on 127.0.0.1:${port}`,
      RELOADING,
      `READY=1|STATUS=reload failing (the new generation's workers die before accepting), the running generation is serving with 2 workers on 127.0.0.1:${port}`,
      RELOADING,
      `READY=1|STATUS=serving with 2 workers on 127.0.0.1:${port}`,
      'STOPPING=1',
    ]);
  });

  // Type=notify-reload: systemd sends the SIGHUP and waits for RELOADING=1,
  // then READY=1; a reload refused (its config no longer loads) sent
  // nothing, so the unit stayed "reloading" until its timeout
  it('a reload refused (bad config) still answers RELOADING=1 then READY=1, saying so; master and single process', async () => {
    for (const master of [true, false]) {
      const sock = path.join(dir, `refused-${master}.sock`);
      const { listener, heard } = await notifyListener(sock);
      const port = await freePort();
      const ini = path.join(dir, `refused-${master}.ini`);
      const good = `[uwsgi]\n${master ? 'master = true\nprocesses = 1\n' : ''}http-socket = 127.0.0.1:${port}\nnode-app = ${FIXTURES}/apps/handler.js\n`;
      fs.writeFileSync(ini, good);
      const p = startLiege(['--ini', ini], { cwd: dir, env: { NOTIFY_SOCKET: sock } });
      started.push(p);
      await until(() => heard().includes('READY=1') || undefined);
      fs.writeFileSync(ini, `${good}processes = many\n`);
      process.kill(p.pid!, 'SIGHUP');
      await until(() => heard().split('READY=1').length === 3 || undefined);
      expect(await get(port)).toBeDefined();
      process.kill(p.pid!, 'SIGTERM');
      const r = await p;
      expect(r.exitCode).toBe(0);
      expect(String(r.stderr)).toMatch(/reload refused/);
      const lines = (await listener).stdout.split('\n');
      expect(lines.slice(2)).toEqual([
        RELOADING,
        master ? `READY=1|STATUS=reload refused (LIEGE_ERR_BAD_VALUE), the running generation is serving with 1 workers on 127.0.0.1:${port}` : 'READY=1|STATUS=reload refused, serving in a single process',
        'STOPPING=1',
      ]);
    }
  });

  // WatchdogSec=: before, only a master pinged; an emperor or a
  // single-process instance under a unit with WatchdogSec= was killed by
  // systemd (SIGABRT) at every interval, restarted and killed again
  it('an emperor and a single-process instance ping WATCHDOG=1 too, from their loops; an emperor answers SIGHUP with RELOADING=1, READY=1', async () => {
    const port = await freePort();
    const vassals = path.join(dir, 'dog-vassals');
    fs.mkdirSync(vassals, { recursive: true });
    fs.writeFileSync(path.join(vassals, 'one.ini'), `[uwsgi]\nhttp-socket = 127.0.0.1:${port}\nnode-app = ${FIXTURES}/apps/handler.js\n`);
    const single = await freePort();
    const shapes: [string, string[]][] = [
      ['emperor', ['--emperor', vassals]],
      ['single', ['--http-socket', `127.0.0.1:${single}`, '--node-app', `${FIXTURES}/apps/handler.js`]],
    ];
    for (const [name, args] of shapes) {
      const sock = path.join(dir, `dog-${name}.sock`);
      const { heard } = await notifyListener(sock);
      const p = startLiege(args, { cwd: dir, env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000', WATCHDOG_PID: '' } });
      started.push(p);
      await until(() => heard().includes('READY=1') || undefined);
      // (a ping every 200 ms: three of them come well within the wait)
      await until(() => heard().split('WATCHDOG=1').length > 3 || undefined);
      if (name === 'emperor') {
        // (Type=notify-reload: a SIGHUP is answered with RELOADING=1 … READY=1)
        process.kill(p.pid!, 'SIGHUP');
        await until(() => /RELOADING=1\|MONOTONIC_USEC=\d+\|STATUS=.*\n((WATCHDOG=1|STATUS=.*)\n)*READY=1\|STATUS=The Emperor is governing 1 vassals\n/.test(heard()) || undefined);
      }
      process.kill(p.pid!, 'SIGTERM');
      const r = await p;
      expect(r.exitCode, `${name}: ${r.stderr}`).toBe(0);
      expect(String(r.stderr)).not.toMatch(/WATCHDOG_PID/);
    }
  });

  it('WATCHDOG_PID of another process (liege under a wrapper): no pings, and the log says why systemd will kill the service', async () => {
    const sock = path.join(dir, 'dog-other.sock');
    const { heard } = await notifyListener(sock);
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/handler.js`], { cwd: dir, env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) } });
    started.push(p);
    await until(() => heard().includes('READY=1') || undefined);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(heard()).not.toContain('WATCHDOG=1');
    expect(String(r.stderr).split('\n').filter((l) => l.includes(`WATCHDOG_PID is ${process.pid}, not this process`))).toHaveLength(1);
  });

  // systemd's watchdog through hooks that block the master: once armed (the
  // first WATCHDOG=1), WatchdogSec= runs on through a reload, whose new image
  // walks its startup phases before its loop pings again. An exec hook's
  // child (atexit hooks too) and a wait_for_* poll ping from the waiting
  // thread; a reload's async master-start hooks and what the reload awaits
  // before its exec (a daemon slow to stop) from the loop: before, nothing
  // pinged there and
  // systemd killed the master (`exec-as-root = sleep 20`, WatchdogSec=10).
  // The windows are measured on the clock the listener and the hooks share.
  it('a reload\'s daemon slow to stop, its atexit hook, its new image\'s exec hook, wait_for_file and async master-start hook, each longer than WatchdogSec=, are pinged through', async () => {
    const sock = path.join(dir, 'dog.sock');
    const { heard } = await notifyListener(sock, true);
    const port = await freePort();
    const stamp = (f: string) => `date +%%s.%%N >> ${f}`; // (%% is a % in an INI)
    const ini = path.join(dir, 'dog.ini');
    // (each window is 1.5 s; a ping every 200 ms)
    fs.writeFileSync(ini, `[uwsgi]
master = true
processes = 1
http-socket = 127.0.0.1:${port}
node-app = ${FIXTURES}/apps/handler.js
hook-asap = exec:${stamp('exec.times')}; sleep 1.5; ${stamp('exec.times')}
hook-asap = exec:rm -f flag; (sleep 1.5; touch flag) >/dev/null 2>&1 & ${stamp('wait.times')}
hook-asap = wait_for_file:flag
hook-asap = exec:${stamp('wait.times')}
hook-master-start = exec:${stamp('start.times')}; sleep 1.5; ${stamp('start.times')}
hook-as-user-atexit = exec:${stamp('atexit.times')}; sleep 1.5; ${stamp('atexit.times')}
attach-daemon = trap "${stamp('daemon.times')}; sleep 1.5; ${stamp('daemon.times')}; exit 0" TERM; while :; do sleep 0.1; done
`);
    const p = startLiege([ini], { cwd: dir, env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' } });
    started.push(p);
    await until(() => get(port), 30_000);
    await until(() => heard().includes('READY=1') || undefined, 30_000);
    const first = childrenOf(p.pid!);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => heard().split('READY=1').length === 3 || undefined, 30_000);
    await until(() => { const now = childrenOf(p.pid!); return (now.length === 2 && !now.some((c) => first.includes(c))) || undefined; }, 30_000);
    await until(() => fs.readFileSync(path.join(dir, 'start.times'), 'utf8').trim().split('\n').length === 4 || undefined, 30_000);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    // the reload's windows: the old image's daemon stop and atexit hook
    // (the first; the second is the stop's), the new image's hooks (the
    // second of each): several pings in each
    for (const [f, i] of [['daemon.times', 0], ['atexit.times', 0], ['exec.times', 1], ['wait.times', 1], ['start.times', 1]] as const) {
      const w = windows(path.join(dir, f));
      expect(w, f).toHaveLength(2);
      expect(pingsIn(heard(), w[i]!), `${f}: windows ${JSON.stringify(w)}, heard:\n${heard()}`).toBeGreaterThanOrEqual(3);
    }
  });
});

/** The pids holding a socket connected to the listener bound at `sock` (ss -xp). */
function holdersOf(sock: string): number[] {
  const rows = execFileSync('ss', ['-xpn'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/));
  // u_dgr ESTAB 0 0 LOCAL LOCAL_INODE PEER PEER_INODE users:(...)
  const bound = rows.find((r) => r[4] === sock)?.[5];
  if (!bound) return [];
  const users = rows.filter((r) => r[7] === bound).map((r) => r.slice(8).join(' '));
  return users.flatMap((u) => [...u.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
}
