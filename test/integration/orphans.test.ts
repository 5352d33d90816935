// No orphans, ever: SIGKILL the master while both workers are stuck in a
// busy loop (SIGTERM ignored), the app has spawned children (plain, setsid,
// double-forked: adopted by the master) and a daemon has a double-forked
// setsid grandchild. Afterwards nothing of the instance is left — by pid, by
// process group, by a marker in the command line — and the port is free;
// nor is what an app orphaned too late for the guard's last look at the tree.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, killMarked, processes, runLiege, scratch, startLiege, until } from './helpers';

const dir = scratch();
const MARK = `liege-orphan-${process.pid}`;
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  killMarked(MARK);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// the living processes (zombies are reaped, not left behind)
const procs = () => processes().filter((x) => x.state !== 'Z').map((x) => ({ ...x, cmd: x.argv.join(' ') }));

const marked = () => procs().filter((x) => x.cmd.includes(MARK));
const descendants = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...descendants(c)]);
const loop = (name: string) => `sh -c 'while :; do sleep 1; done' ${MARK}-${name}`;

describe('no orphans', () => {
  it('SIGKILL of the master with stuck workers and setsid grandchildren leaves nothing, and the port is free', async () => {
    const app = path.join(dir, 'app.js');
    fs.writeFileSync(app, [
      "const { spawn } = require('child_process');",
      "process.on('SIGTERM', () => {}); // a worker that ignores SIGTERM",
      `spawn('sh', ['-c', 'while :; do sleep 1; done', '${MARK}-child'], { stdio: 'ignore' });`,
      `spawn('setsid', ['sh', '-c', 'while :; do sleep 1; done', '${MARK}-setsid'], { stdio: 'ignore' });`,
      `spawn('sh', ['-c', "(${loop('double')} &)"], { stdio: 'ignore' }); // lands on the master`,
      "module.exports = (req, res) => {",
      "  if (req.url === '/spin') for (;;) { /* stuck */ }",
      "  res.end('ok\\n');",
      '};',
      '',
    ].join('\n'));
    // `; true`: only the loop's own command line ends with the marker
    const daemon = `(setsid ${loop('daemon-grandchild')} &); ${loop('daemon')}; true`;
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--attach-daemon', daemon], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    // 2 workers × (child, setsid, double) + the daemon and its grandchild
    const kinds = ['child', 'setsid', 'double', 'daemon', 'daemon-grandchild'];
    await until(() => {
      const m = marked();
      return kinds.every((k) => m.filter((x) => x.cmd.endsWith(`${MARK}-${k}`)).length === (k.startsWith('daemon') ? 1 : 2)) || undefined;
    });

    // both workers stuck in a request
    const spins: Promise<unknown>[] = [];
    await until(async () => {
      spins.push(fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined));
      await new Promise((r) => setTimeout(r, 300));
      return (await get(port)) === undefined || undefined;
    });

    const tree = descendants(p.pid!);
    const before = marked().map((x) => x.pid);
    expect(before.length).toBeGreaterThanOrEqual(8);
    process.kill(p.pid!, 'SIGKILL');
    await until(() => (marked().length === 0 && tree.every((x) => !alive(x)) && !procs().some((x) => x.pgid === p.pid) ? true : undefined), 20_000);
    await Promise.all(spins);

    // the port is free: a new instance binds it and serves
    const q = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js')], { cwd: dir });
    started.push(q);
    expect(await until(() => get(port))).toMatchObject({ status: 200 });
    process.kill(q.pid!, 'SIGTERM');
    expect((await q).exitCode).toBe(0);
  }, 60_000);

  // (before: the guard started with the workers; a startup hook's shell
  // died by its PDEATHSIG, what it ran landed on init and ran on for good)
  for (const phase of ['asap', 'pre-app']) {
    it(`SIGKILL of the master during a ${phase} hook: what the hook's shell ran goes too`, async () => {
      const port = await freePort();
      const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), `--hook-${phase}`, `exec:${loop(`hook-${phase}`)}; true`], { cwd: dir });
      started.push(p);
      await until(() => marked().some((x) => x.cmd.endsWith(`${MARK}-hook-${phase}`)) || undefined);
      process.kill(p.pid!, 'SIGKILL');
      await until(() => (marked().length === 0 ? true : undefined), 20_000);
    }, 40_000);
  }

  it("SIGKILL of the master during an atexit hook (after a stop): what the hook's shell ran goes too", async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--hook-as-user-atexit', `exec:${loop('hook-atexit')}; true`], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    process.kill(p.pid!, 'SIGTERM');
    await until(() => marked().some((x) => x.cmd.endsWith(`${MARK}-hook-atexit`)) || undefined);
    process.kill(p.pid!, 'SIGKILL');
    // (before: the stop had ended the guard before the atexit hooks)
    await until(() => (marked().length === 0 ? true : undefined), 20_000);
  }, 40_000);

  it('a stop ends what the startup and atexit hooks backgrounded (setsid, double fork): before, it ran on under init', async () => {
    const port = await freePort();
    const bg = (name: string) => `exec:(setsid ${loop(name)} &)`;
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--hook-asap', bg('bg-asap'), '--hook-as-user', bg('bg-as-user'), '--hook-as-user-atexit', bg('bg-atexit')], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    // (the master's own command line carries the mark too)
    const hooks = marked().filter((x) => x.pid !== p.pid);
    expect(hooks.map((x) => x.cmd.slice(x.cmd.lastIndexOf('-bg-') + 1)).sort()).toEqual(['bg-as-user', 'bg-asap']);
    // orphaned by the hook's shell: on the master (the subreaper), not on init
    for (const x of hooks) expect(x.ppid).toBe(p.pid);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    // at once, not by the guard (a stop ends it): what is left now stays
    expect(marked()).toEqual([]);
    expect(r.stderr).toMatch(/killed what the workers, daemons and hooks left behind processes=\d/);
    expect(r.stderr).toMatch(/killed what the atexit hooks left running processes=\d/);
  }, 40_000);

  // the app runs in the instance's own process (no master, one worker)
  const singleApp = () => {
    const app = path.join(dir, 'single.js');
    fs.writeFileSync(app, [
      "const { spawn } = require('child_process');",
      `spawn('sh', ['-c', "${loop('single-child')} & setsid ${loop('single-setsid')} & wait"], { stdio: 'ignore' });`,
      "module.exports = (req, res) => res.end('ok\\n');",
      '',
    ].join('\n'));
    return app;
  };
  const jobs = (p: ResultPromise) => marked().filter((x) => x.pid !== p.pid && !x.cmd.startsWith('sh -c (') && x.cmd.includes('-single-'));

  it("a single-process instance: a reload ends the app's children (setsid ones too) before the next image starts its own, a stop ends them (before: on init for good)", async () => {
    const port = await freePort();
    const p = startLiege(['--http-socket', `127.0.0.1:${port}`, '--node-app', singleApp()], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const first = await until(() => (jobs(p).length === 3 ? jobs(p) : undefined));
    process.kill(p.pid!, 'SIGHUP');
    // the next image's three, none of the first image's
    await until(() => {
      const now = jobs(p);
      return now.length === 3 && now.every((x) => !first.some((f) => f.pid === x.pid)) ? true : undefined;
    });
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(jobs(p)).toEqual([]);
  }, 40_000);

  it("a single-process instance SIGKILLed: its guard ends the app's children 3 s later", async () => {
    const port = await freePort();
    const p = startLiege(['--http-socket', `127.0.0.1:${port}`, '--node-app', singleApp()], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    await until(() => (jobs(p).length === 3 ? true : undefined));
    process.kill(p.pid!, 'SIGKILL');
    await until(() => (jobs(p).length === 0 ? true : undefined), 20_000);
  }, 40_000);

  it('a start that fails (its port taken) ends what its hooks left running, 3 s later (before: on init for good)', async () => {
    const port = await freePort();
    const held = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => held.once('listening', r));
    try {
      const r = await runLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--hook-asap', `exec:(${loop('failed-start')}) &`], { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/EADDRINUSE/);
      await until(() => (marked().length === 0 ? true : undefined), 20_000);
    } finally {
      held.close();
    }
  }, 40_000);

  it('what an app orphans after the guard last recorded the tree is found by its environment', async () => {
    // a double-forked job every 50 ms, until the worker dies (3 s after the
    // master: its drain grace): the newest ones are in no record of the tree
    const app = path.join(dir, 'late.js');
    fs.writeFileSync(app, [
      "const { spawn } = require('child_process');",
      `setInterval(() => spawn('sh', ['-c', "(${loop('late')} &)"], { stdio: 'ignore' }), 50);`,
      "module.exports = (req, res) => res.end('ok\\n');",
      '',
    ].join('\n'));
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    await until(() => marked().length >= 10 || undefined);
    process.kill(p.pid!, 'SIGKILL');
    await until(() => (marked().length === 0 ? true : undefined), 20_000);
  }, 60_000);
});
