// Emperor features beyond spawn/reload/stop: tyrant mode with two owners
// (numeric uids, no users created), on-demand vassals, heartbeats, the
// stats server and `liege top` on it, SIGHUP reloading every vassal, the pidfile.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, childrenOf, FIXTURES, getUnix, killGroup, lines, runLiege, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function readStats(sock: string): Promise<{ vassals: Array<Record<string, number | string>>; emperor: string[]; pid: number }> {
  return new Promise((resolve, reject) => {
    let body = '';
    net.connect(sock).on('data', (d) => { body += d; }).on('end', () => resolve(JSON.parse(body))).on('error', reject);
  });
}

function emperor(args: string[]) {
  const p = startLiege(['--emperor-freq', '3600', '--emperor-throttle', '100', ...args], { cwd: dir });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  return { p, stderr: () => err };
}

describe('emperor features', () => {
  it('tyrant: each vassal runs as its config owner; an owner change restarts it as the new owner; root-owned is refused', async () => {
    const vassals = path.join(dir, 'tyrant');
    const shared = path.join(dir, 'tyrant-shared');
    fs.mkdirSync(vassals);
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777);
    const trace = path.join(shared, 'trace');
    fs.writeFileSync(trace, '');
    fs.chmodSync(trace, 0o666); // both owners append
    const vassal = (name: string, uid: number) => {
      const f = path.join(vassals, `${name}.ini`);
      // a fresh TCP port each start: a unix socket file left by one owner is not the next owner's to replace
      fs.writeFileSync(f, `[uwsgi]\nhttp-socket = 127.0.0.1:0\nnode-app = ${FIXTURES}/apps/handler.js\nhook-pre-app = exec:echo %n $(id -u) $(id -g) $PPID >> ${trace}\n`);
      fs.chownSync(f, uid, uid);
    };
    vassal('alice', 65534);
    vassal('bob', 4242);
    vassal('root', 0);
    const { p, stderr } = emperor(['--emperor', vassals, '--emperor-tyrant']);
    const pidOf = (prefix: string) => Number(lines(trace).find((l) => l.startsWith(prefix))?.split(' ')[3]) || undefined;
    await until(() => pidOf('alice 65534 65534 '));
    const bob = await until(() => pidOf('bob 4242 4242 '));
    await until(() => /refusing a config owned by root.*root\.ini/.test(stderr()));
    expect(fs.readFileSync(`/proc/${bob}/status`, 'utf8')).toMatch(/^Uid:\s+4242\s/m);

    fs.chownSync(path.join(vassals, 'bob.ini'), 4343, 4343);
    const bob2 = await until(() => pidOf('bob 4343 4343 '));
    expect(fs.readFileSync(`/proc/${bob2}/status`, 'utf8')).toMatch(/^Uid:\s+4343\s/m);
    await until(() => !alive(bob));
    expect(lines(trace).filter((l) => l.startsWith('root '))).toEqual([]);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  });

  it('on demand: the emperor binds the socket; the vassal starts on the first connection and serves it', async () => {
    const vassals = path.join(dir, 'ondemand');
    fs.mkdirSync(vassals);
    const sock = path.join(dir, 'od.sock');
    fs.writeFileSync(path.join(vassals, 'app.ini'), `[uwsgi]\nhttp-socket = ${sock}\nnode-app = ${FIXTURES}/apps/handler.js\n`);
    fs.writeFileSync(path.join(vassals, 'app.ini.socket'), `${sock}\n`);
    const { p, stderr } = emperor(['--emperor', vassals, '--emperor-on-demand-extension', '.socket']);
    await until(() => /on-demand vassal waits/.test(stderr()));
    expect(fs.statSync(sock).isSocket()).toBe(true);
    expect(childrenOf(p.pid!)).toEqual([]);
    const pid = await getUnix(sock, 5000); // this very request starts the vassal
    expect(childrenOf(p.pid!)).toEqual([pid]);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(alive(pid!)).toBe(false);
  });

  it('on demand by command: emperor-on-demand-exec names the socket; no output or a failing command is an ordinary vassal; broodlord is refused with a reason', async () => {
    const vassals = path.join(dir, 'odexec');
    fs.mkdirSync(vassals);
    const sock = path.join(dir, 'odx-app.sock');
    const plain = path.join(dir, 'odx-plain.sock');
    fs.writeFileSync(path.join(vassals, 'app.ini'), `[uwsgi]\nhttp-socket = ${sock}\nnode-app = ${FIXTURES}/apps/handler.js\n`);
    fs.writeFileSync(path.join(vassals, 'plain.ini'), `[uwsgi]\nhttp-socket = ${plain}\nnode-app = ${FIXTURES}/apps/handler.js\n`);
    const failed = path.join(dir, 'odx-failed.sock');
    fs.writeFileSync(path.join(vassals, 'failed.ini'), `[uwsgi]\nhttp-socket = ${failed}\nnode-app = ${FIXTURES}/apps/handler.js\n`);
    // the command gets the config path; it names a socket for app only, and fails for failed
    const cmd = path.join(dir, 'od-socket.sh');
    fs.writeFileSync(cmd, `#!/bin/sh\ncase "$1" in *app.ini) echo ${dir}/odx-$(basename "$1" .ini).sock;; *failed.ini) echo nope >&2; exit 3;; esac\n`, { mode: 0o755 });
    const { p, stderr } = emperor(['--emperor', vassals, '--emperor-on-demand-exec', cmd, '--emperor-broodlord', '4']);
    expect(await until(() => /not implemented by liege, ignored: broodlord spawns zerg.*option=emperor-broodlord/.test(stderr()))).toBe(true);
    await until(() => /on-demand vassal waits.*app\.ini/.test(stderr()));
    const plainPid = await until(() => getUnix(plain, 5000)); // started at once
    const failedPid = await until(() => getUnix(failed, 5000));
    expect(stderr()).toMatch(/emperor-on-demand-exec failed, spawning the vassal now.*vassal=failed\.ini/);
    expect(childrenOf(p.pid!).sort()).toEqual([plainPid, failedPid].sort());
    expect(fs.statSync(sock).isSocket()).toBe(true);
    const pid = await getUnix(sock, 5000); // this very request starts the vassal
    expect(childrenOf(p.pid!).sort()).toEqual([plainPid, failedPid, pid].sort());
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(alive(pid!)).toBe(false);
  });

  it('heartbeat, stats, SIGHUP and the pidfile', async () => {
    const vassals = path.join(dir, 'beat');
    fs.mkdirSync(vassals);
    const trace = path.join(dir, 'beat.trace');
    const sock = (n: string) => path.join(dir, `beat-${n}.sock`);
    for (const n of ['a', 'b']) {
      fs.writeFileSync(path.join(vassals, `${n}.ini`), `[uwsgi]\nhttp-socket = ${sock(n)}\nnode-app = ${FIXTURES}/apps/handler.js\nheartbeat = 1\nhook-accepting = exec:echo %n $PPID $UWSGI_RELOADS >> ${trace}\n`);
    }
    const stats = path.join(dir, 'emperor-stats.sock');
    const pidfile = path.join(dir, 'emperor.pid');
    const { p, stderr } = emperor(['--emperor', vassals, '--emperor-required-heartbeat', '2', '--emperor-stats', stats, '--emperor-pidfile', pidfile]);
    const a = await until(() => getUnix(sock('a'), 5000));
    const b = await until(() => getUnix(sock('b'), 5000));
    expect(fs.readFileSync(pidfile, 'utf8').trim()).toBe(String(p.pid));

    const s = await until(async () => { const x = await readStats(stats); return x.vassals.every((v) => v.accepting && v.last_heartbeat) ? x : undefined; });
    expect(s.pid).toBe(p.pid);
    expect(s.emperor).toEqual([`dir://${vassals}`]);
    expect(s.vassals.map((v) => [v.id, v.pid, v.ready, v.accepting, v.respawns])).toEqual([['a.ini', a, 1, 1, 0], ['b.ini', b, 1, 1, 0]]);
    // liege top on the emperor's stats: a line per vassal
    const top = await runLiege(['top', stats, '--once']);
    expect(top.exitCode).toBe(0);
    expect(top.stdout).toContain(`emperor pid ${p.pid} - dir://${vassals}`);
    expect(top.stdout).toMatch(/^VASSAL +PID +STATUS +BORN +LAST_MOD +RESPAWNS +LOYAL +READY +ACCEPTING$/m);
    expect(top.stdout).toMatch(new RegExp(`^a\\.ini +${a} +running +\\d+s +\\d+s +0 +no +yes +yes$`, 'm'));
    expect(top.stdout).toMatch(new RegExp(`^b\\.ini +${b} +running +\\d+s +\\d+s +0 +no +yes +yes$`, 'm'));

    // SIGHUP: every vassal reloads in place
    process.kill(p.pid!, 'SIGHUP');
    await until(() => lines(trace).includes(`a ${a} 1`) && lines(trace).includes(`b ${b} 1`));
    expect(stderr()).toMatch(/emperor: SIGHUP: reloading every vassal vassals=2/); // before: nothing said why they reloaded

    // a vassal that stops beating (SIGSTOP) is killed and respawned (once it beat again after the reload)
    await until(async () => (await readStats(stats)).vassals.find((v) => v.id === 'a.ini')!.last_heartbeat || undefined);
    process.kill(a, 'SIGSTOP');
    await until(() => /stopped sending heartbeats.*a\.ini/.test(stderr()));
    const a2 = await until(async () => { const x = await getUnix(sock('a'), 5000); return x !== a ? x : undefined; });
    expect(alive(a)).toBe(false);
    const after = await readStats(stats);
    expect(after.vassals.find((v) => v.id === 'a.ini')).toMatchObject({ pid: a2, respawns: 1 });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  });
});
