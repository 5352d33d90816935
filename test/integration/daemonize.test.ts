// daemonize = FILE: the instance starts itself again detached, logging to
// FILE. The command waits until the daemon serves and ends with 0, or with
// the daemon's status and its last log lines when it could not start (under
// uWSGI, and before, it ended with 0 at once and the error was only in the
// log). The starting process runs no atexit hook (before: the daemon's
// as-user-atexit hooks ran there, at its start).
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, FIXTURES, freePort, get, killGroup, LIEGE, scratch, startLiege, until } from './helpers';

const dir = scratch();
const daemons: number[] = [];
const started: ResultPromise[] = [];
afterEach(() => {
  for (const pid of daemons.splice(0)) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = path.join(FIXTURES, 'apps', 'handler.js');

async function daemonize(args: string[]) {
  return execa(LIEGE, ['--master', '-p', '1', '--node-app', app, ...args], { cwd: dir, reject: false, stdin: 'ignore', env: { TEST_LIEGE: '1' }, timeout: 60_000 });
}

/** The daemon's pid, from its pidfile (then killed after the test whatever happens). */
async function daemonPid(pidfile: string): Promise<number> {
  const pid = await until(() => { try { return Number(fs.readFileSync(pidfile, 'utf8')) || undefined; } catch { return undefined; } });
  daemons.push(pid);
  return pid;
}

describe('daemonize', () => {
  it('the command ends with 0 once the daemon serves; the atexit hooks run once, in the daemon, at its stop', async () => {
    const port = await freePort();
    const [log, pidfile, trace] = ['d.log', 'd.pid', 'atexit.trace'].map((f) => path.join(dir, f));
    const r = await daemonize(['--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--daemonize', log, '--pidfile', pidfile, '--hook-as-user-atexit', `exec:echo atexit >> ${trace}`]);
    const pid = await daemonPid(pidfile);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(pid).not.toBe(r.pid);
    // it serves already: no retry needed
    expect((await get(port))?.status).toBe(200);
    expect(fs.existsSync(trace)).toBe(false); // before: "atexit" at once, from the starting process
    process.kill(pid, 'SIGTERM');
    await until(() => !alive(pid) || undefined);
    expect(fs.readFileSync(trace, 'utf8')).toBe('atexit\n');
  }, 60_000);

  it('a daemon that cannot start: the command ends with its status and shows its error (before: 0, the error only in the log)', async () => {
    const port = await freePort();
    const [log, pidfile] = ['first.log', 'first.pid'].map((f) => path.join(dir, f));
    expect((await daemonize(['--http-socket', `127.0.0.1:${port}`, '--daemonize', log, '--pidfile', pidfile])).exitCode).toBe(0);
    await daemonPid(pidfile);
    // a second copy on the same port
    const r = await daemonize(['--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--daemonize', path.join(dir, 'second.log')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/the daemon could not start \(status 1\); its log \S+second\.log ends with:/);
    expect(r.stderr).toMatch(new RegExp(`unable to bind 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    expect((await get(port))?.status).toBe(200); // the first one serves on
  }, 60_000);

  it('the command waits for the app: one that boots for 2 s serves when it returns; one that throws at load under need-app ends it with 22 and its error (before: 0 at once)', async () => {
    const slow = path.join(dir, 'slow-boot.js');
    fs.writeFileSync(slow, "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);\nmodule.exports = (req, res) => res.end('ok\\n');\n");
    const port = await freePort();
    const pidfile = path.join(dir, 'slowboot.pid');
    const r = await daemonize(['--http-socket', `127.0.0.1:${port}`, '--node-app', slow, '--daemonize', path.join(dir, 'slowboot.log'), '--pidfile', pidfile]);
    await daemonPid(pidfile);
    expect(r.exitCode).toBe(0);
    expect((await get(port))?.status).toBe(200); // at once: it served when the command returned
    const broken = path.join(dir, 'broken.js');
    fs.writeFileSync(broken, "throw new Error('db url missing');\n");
    const port2 = await freePort();
    const b = await daemonize(['--http-socket', `127.0.0.1:${port2}`, '--node-app', broken, '--need-app', '--daemonize', path.join(dir, 'broken.log')]);
    expect(b.exitCode).toBe(22);
    expect(b.stderr).toMatch(/the daemon could not start \(status 22\)/);
    expect(b.stderr).toMatch(/db url missing/);
  }, 60_000);

  it('Ctrl-C while the command waits ends the wait (130), not the daemon', async () => {
    const port = await freePort();
    const [log, pidfile] = ['slow.log', 'slow.pid'].map((f) => path.join(dir, f));
    const c = execa(LIEGE, ['--master', '-p', '1', '--node-app', app, '--http-socket', `127.0.0.1:${port}`, '--daemonize', log, '--pidfile', pidfile, '--hook-pre-app', 'exec:sleep 3'], { cwd: dir, reject: false, stdin: 'ignore', env: { TEST_LIEGE: '1' }, timeout: 60_000 });
    await daemonPid(pidfile); // written before pre-app: the daemon is in its sleep
    c.kill('SIGINT');
    const r = await c;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toMatch(/no longer waiting \(SIGINT\): the daemon goes on starting/);
    expect((await until(() => get(port), 30_000)).status).toBe(200);
  }, 60_000);

  it('a vassal does not detach from its emperor: daemonize is its log, as logto (before: exit 0 at each start, respawned in a loop)', async () => {
    const port = await freePort();
    const vassals = path.join(dir, 'vassals');
    fs.mkdirSync(vassals, { recursive: true });
    const log = path.join(dir, 'vassal.log');
    fs.writeFileSync(path.join(vassals, 'v.ini'), ['[uwsgi]', 'master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${app}`, `daemonize = ${log}`, ''].join('\n'));
    const p = startLiege(['--emperor', vassals, '--emperor-freq', '1'], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    await new Promise((r) => setTimeout(r, 2000));
    expect(err.split('vassal spawned')).toHaveLength(2); // once
    expect(err).not.toMatch(/vassal died/);
    expect(fs.readFileSync(log, 'utf8')).toMatch(/master started/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);
});
