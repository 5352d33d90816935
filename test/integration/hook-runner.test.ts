// The promise-aware runner: at startup an exec hook is waited for in the
// main thread (the fast path), in a running master it is awaited — the main
// thread stays in the event loop while a native thread waits for the child.
// Seen from outside through /proc/PID/syscall (wait4 is syscall 61 on x86-64).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const WAIT4 = '61';
/** The syscall a thread is blocked in ("running" when it is not). */
const syscallOf = (pid: number, tid = pid) => fs.readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0]!;
const threadsIn = (pid: number, nr: string) => fs.readdirSync(`/proc/${pid}/task`).filter((t) => { try { return syscallOf(pid, Number(t)) === nr; } catch { return false; } });

describe.skipIf(process.arch !== 'x64')('hook runner', () => {
  it('startup phases wait for exec in the main thread (fast path)', async () => {
    const mark = path.join(dir, 'startup.started');
    const p = startLiege(['--no-server', '--hook-as-user', `exec:touch ${mark}; sleep 2`], { cwd: dir });
    started.push(p);
    await until(() => fs.existsSync(mark) || undefined);
    await until(() => syscallOf(p.pid!) === WAIT4 || undefined, 3000);
    expect((await p).exitCode).toBe(0);
  });

  it('master-start hooks are awaited: the master loop runs while the command does', async () => {
    const mark = path.join(dir, 'master-start.started');
    const port = await freePort();
    const p = startLiege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/handler.js`, '--hook-master-start', `exec:touch ${mark}; sleep 3; touch ${mark}.done`], { cwd: dir });
    started.push(p);
    await until(() => fs.existsSync(mark) || undefined);
    // a native thread waits for the command; the main thread is in the event loop
    await until(() => threadsIn(p.pid!, WAIT4).length === 1 || undefined, 3000);
    expect(threadsIn(p.pid!, WAIT4)).not.toContain(String(p.pid));
    expect(syscallOf(p.pid!)).not.toBe(WAIT4);
    expect(fs.existsSync(`${mark}.done`)).toBe(false);
    expect((await until(() => get(port)))?.status).toBe(200);
    // the hook ends, the master goes on serving and stops on SIGTERM
    await until(() => fs.existsSync(`${mark}.done`) || undefined, 10_000);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/hook ran phase=master-start action=exec .*outcome=ok/);
  });

  it('a failing master-start exec still ends the instance with 1 after atexit (fatal policy unchanged)', async () => {
    const port = await freePort();
    const t = path.join(dir, 'fatal.trace');
    const p = startLiege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/handler.js`, '--hook-master-start', 'exec:sleep 0.2; exit 7', '--hook-master-start', `exec:echo never >> ${t}`, '--hook-as-user-atexit', `exec:echo atexit >> ${t}`], { cwd: dir });
    started.push(p);
    const r = await p;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/FATAL hook failed.*phase=master-start.*error="returned 7"/);
    expect(fs.readFileSync(t, 'utf8')).toBe('atexit\n');
  });
});
