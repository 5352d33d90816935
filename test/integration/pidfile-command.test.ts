// `liege --stop/--reload/--chain-reload PIDFILE` signal the pid in the file
// only when it can be the liege master that wrote it: a stale pidfile whose
// pid now belongs to another process (reused after a crash or a reboot) or
// a pidfile naming a program that is no liege is refused, and that process
// lives.
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, FIXTURES, freePort, get, killGroup, LIEGE, scratch, startLiege, until } from './helpers';

const dir = scratch();
const others: ChildProcess[] = [];
const started: ResultPromise[] = [];
afterEach(() => {
  for (const c of others.splice(0)) c.kill('SIGKILL');
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function other(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  others.push(c);
  return c;
}

describe('pidfile commands never signal a process that is not the master', () => {
  it('a stale pidfile whose pid is reused by a later process (even a node one): refused, exit 1, the process lives', async () => {
    const pidfile = path.join(dir, 'stale.pid');
    const reuser = other(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    fs.writeFileSync(pidfile, `${reuser.pid}\n`);
    // written an hour ago, by a master that died since
    const past = new Date(Date.now() - 3600_000);
    fs.utimesSync(pidfile, past, past);
    for (const flag of ['--stop', '--reload', '--chain-reload']) {
      const r = await execa(LIEGE, [flag, pidfile], { reject: false });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`pid ${reuser.pid} from \\S+stale\\.pid is not the liege master that wrote it: it started after the file was written`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(reuser.pid!)).toBe(true);
  });

  it('a pidfile naming a program that is no liege (sleep): refused, exit 1, the process lives', async () => {
    const sleeper = other('sleep', ['60']);
    await new Promise((r) => setTimeout(r, 100));
    const pidfile = path.join(dir, 'other.pid');
    fs.writeFileSync(pidfile, `${sleeper.pid}\n`);
    const r = await execa(LIEGE, ['--stop', pidfile], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`pid ${sleeper.pid} from \\S+other\\.pid is not a liege master: it runs \\S*sleep`));
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(sleeper.pid!)).toBe(true);
  });
});

describe('liege --stop PIDFILE', () => {
  it('stops a master that is stopped (SIGSTOP, a debugger that let go): SIGCONT follows the SIGTERM, as systemd does', async () => {
    const pidfile = path.join(dir, 'frozen.pid');
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--pidfile', pidfile]);
    started.push(p);
    await until(() => get(port));
    process.kill(p.pid!, 'SIGSTOP');
    const r = await execa(LIEGE, ['--stop', pidfile], { reject: false });
    expect(r.exitCode).toBe(0);
    // (before: the SIGTERM stayed pending while the master was stopped)
    const exited = await Promise.race([p.then(() => true), new Promise((res) => setTimeout(() => res(false), 15_000))]);
    expect(exited).toBe(true);
    expect((await p).exitCode).toBe(0);
  }, 30_000);
});
