// liege as PID 1 of a PID namespace — a container without a Docker engine:
// `unshare --pid --fork --mount-proc bin/liege …`. A daemon keeps starting
// short-lived background jobs (double-forked and setsid), whose orphans land
// on PID 1: none may stay a zombie. SIGTERM to PID 1 stops everything, and a
// control daemon killed by signal N ends the container with 128+N (tini).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, LIEGE, scratch, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) {
    try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ }
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A daemon that starts background jobs until `pause` exists, counting them. */
function jobsScript(name: string): { script: string; pause: string; count: string } {
  const pause = path.join(dir, `${name}.pause`);
  const count = path.join(dir, `${name}.count`);
  const script = path.join(dir, `${name}.sh`);
  fs.writeFileSync(script, [
    '#!/bin/sh',
    `while [ ! -e ${pause} ]; do`,
    '  ( sleep 0.05 & )            # double fork: the subshell exits at once',
    "  setsid sh -c 'sleep 0.05 &' # a new session whose leader exits at once",
    `  echo >> ${count}`,
    '  sleep 0.02',
    'done',
    'exec sleep 600',
    '',
  ].join('\n'), { mode: 0o755 });
  return { script, pause, count };
}

/** Runs liege as PID 1 of a new PID namespace; resolves its host pid. */
async function asPid1(args: string[]): Promise<{ p: ResultPromise; pid1: number; ns: string; stderr: () => string }> {
  const p = execa('unshare', ['--pid', '--fork', '--mount-proc', LIEGE, ...args], { reject: false, detached: true, stdin: 'ignore', cwd: dir, env: { TEST_LIEGE: '1' } });
  started.push(p);
  let err = '';
  p.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
  const pid1 = await until(() => childrenOf(p.pid!)[0]);
  const ns = fs.readlinkSync(`/proc/${pid1}/ns/pid`);
  return { p, pid1, ns, stderr: () => err };
}

interface Proc { pid: number; state: string; cmd: string }

/** Every process of the namespace `ns` (read from the host's /proc). */
function inNamespace(ns: string): Proc[] {
  const out: Proc[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readlinkSync(`/proc/${p}/ns/pid`) !== ns) continue;
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
      out.push({ pid: Number(p), state, cmd: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch { /* exited */ }
  }
  return out;
}

const zombies = (ns: string) => inNamespace(ns).filter((x) => x.state === 'Z').map((x) => x.pid);

/** For `seconds`, no zombie lives on from one sample to the next (1 s
 * later); then jobs pause and the namespace has no zombie at all. */
async function expectNoZombies(ns: string, jobs: { pause: string; count: string }, seconds: number): Promise<void> {
  let before = zombies(ns);
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const now = zombies(ns);
    const stale = now.filter((z) => before.includes(z));
    expect(stale, `zombies not reaped within 1 s (sample ${i}, ${now.length} zombies)`).toEqual([]);
    before = now;
  }
  // the daemon really made orphans: 2 jobs per line
  expect(fs.readFileSync(jobs.count, 'utf8').length).toBeGreaterThan(40);
  fs.writeFileSync(jobs.pause, '');
  await until(() => (zombies(ns).length === 0 ? true : undefined), 5000);
}

describe('liege as PID 1 (unshare --pid --fork --mount-proc)', () => {
  it('the master reaps every orphan, reloads on SIGHUP and stops everything on SIGTERM', async () => {
    const port = await freePort();
    const jobs = jobsScript('master');
    const { p, pid1, ns, stderr } = await asPid1(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--attach-daemon', jobs.script]);
    await until(() => get(port));
    expect(stderr()).toMatch(/liege\[1\] master: master started pid=1 /);
    await expectNoZombies(ns, jobs, 4);

    // SIGHUP reloads in place: still PID 1, still serving
    process.kill(pid1, 'SIGHUP');
    await until(() => (/reload done/.test(stderr()) ? true : undefined));
    expect(await get(port)).toMatchObject({ status: 200 });

    process.kill(pid1, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(stderr()).toMatch(/graceful shutdown/);
    expect(inNamespace(ns)).toEqual([]);
    expect(await get(port)).toBeUndefined();
  }, 40_000);

  it('the emperor reaps every orphan and stops every vassal on SIGTERM', async () => {
    const port = await freePort();
    const jobs = jobsScript('emperor');
    const vassals = path.join(dir, 'vassals');
    fs.mkdirSync(vassals);
    fs.writeFileSync(path.join(vassals, 'app.ini'), `[uwsgi]\nmaster = true\nprocesses = 1\nhttp-socket = 127.0.0.1:${port}\nnode-app = ${FIXTURES}/apps/handler.js\n`);
    // the emperor's own hook leaves the jobs loop behind: its orphans are PID 1's
    const { p, pid1, ns, stderr } = await asPid1(['--emperor', vassals, '--hook-as-emperor', `exec:sh -c '${jobs.script} >/dev/null 2>&1 &'`]);
    await until(() => get(port));
    expect(pid1).toBeGreaterThan(1);
    await expectNoZombies(ns, jobs, 4);

    process.kill(pid1, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(stderr()).toMatch(/the emperor is buried/);
    expect(inNamespace(ns)).toEqual([]);
  }, 40_000);

  it('`--reload PIDFILE` and `--stop PIDFILE` run in the container (docker exec) signal the master that is its PID 1', async () => {
    const port = await freePort();
    const pidfile = path.join(dir, 'pid1.pid');
    const { p, pid1, stderr } = await asPid1(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--pidfile', pidfile]);
    await until(() => get(port));
    expect(fs.readFileSync(pidfile, 'utf8').trim()).toBe('1');
    // as `docker exec` runs a command: in the container's PID (and /proc) namespace
    const inside = (flag: string) => execa('nsenter', ['--target', String(pid1), '--pid', '--mount', '--', LIEGE, flag, pidfile], { reject: false, env: { TEST_LIEGE: '1' } });
    // before: "bad pidfile …: `1` (expected a process id)", exit 1
    const reload = await inside('--reload');
    expect(reload.stderr).toBe('');
    expect(reload.exitCode).toBe(0);
    await until(() => (/reload done/.test(stderr()) ? true : undefined), 20_000);
    const stop = await inside('--stop');
    // it ends with 0, unless the master (PID 1) stopped first: the kernel
    // then SIGKILLs what is left in the namespace, as docker exec's
    // command in a container that ends (1 run in ~10 under load)
    if (stop.signal !== 'SIGKILL') expect(stop.exitCode).toBe(0);
    expect(stop.stderr).toBe('');
    expect((await p).exitCode).toBe(0);
    expect(stderr()).toMatch(/graceful shutdown/);
  }, 40_000);

  it('a pidfile that names PID 1 outside such a container (init, not liege) is refused, exit 1', async () => {
    const pidfile = path.join(dir, 'init.pid');
    fs.writeFileSync(pidfile, '1\n');
    const r = await execa(LIEGE, ['--stop', pidfile], { reject: false, env: { TEST_LIEGE: '1' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/pid 1 from \S+init\.pid is not a liege master/);
  });

  it('a control daemon killed by signal N ends the instance with 128+N', async () => {
    const { p } = await asPid1(['--master', '--attach-control-daemon', 'sleep 1; kill -KILL $$']);
    const r = await p;
    expect(r.stderr).toMatch(/control daemon died, shutting down status=137/);
    expect(r.exitCode).toBe(137);
  }, 20_000);
});
