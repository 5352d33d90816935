// A live emperor driven by file events (emperor-freq is an hour: nothing
// here waits for a periodic scan): add, touch, break, fix and remove vassal
// files; single-process vassals (one Node process each) serve, reload in
// place and stop; an invalid config is reported with file:line and never
// respawned until fixed; SIGKILL of a vassal and of the emperor leave
// nothing behind; vassals-start-hook and vassals-stop-hook run around a vassal.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, childrenOf, cmdlineOf, FIXTURES, getUnix, killGroup, lines, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function emperor(vassals: string, args: string[] = []) {
  const p = startLiege(['--emperor', vassals, '--emperor-freq', '3600', '--emperor-throttle', '100', ...args], { cwd: dir });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  return { p, stderr: () => err };
}

/** Every pid in the tree under `pid` (from /proc). */
function tree(pid: number): number[] {
  const kids = childrenOf(pid);
  return [...kids, ...kids.flatMap(tree)];
}

describe('emperor with live vassal files', () => {
  it('adds, touches, breaks, fixes and removes vassals by file events alone', async () => {
    const vassals = path.join(dir, 'live');
    fs.mkdirSync(vassals);
    const trace = path.join(dir, 'live.trace');
    const sock = (n: string) => path.join(dir, `${n}.sock`);
    const good = (n: string) => [
      '[uwsgi]',
      `http-socket = ${sock(n)}`,
      `node-app = ${FIXTURES}/apps/handler.js`,
      `hook-accepting = exec:echo %n accepting $PPID $UWSGI_RELOADS >> ${trace}`,
      `hook-emperor-stop = exec:echo %n emperor-stop >> ${trace}`,
      '',
    ].join('\n');
    let bump = 0;
    const write = (n: string, text: string) => {
      fs.writeFileSync(path.join(vassals, `${n}.ini`), text);
      const t = new Date(Date.now() + ++bump * 1000); // a new mtime even within one clock tick
      fs.utimesSync(path.join(vassals, `${n}.ini`), t, t);
    };
    write('a', good('a'));
    const { p, stderr } = emperor(vassals);

    // a single-process vassal: the emperor's child serves, with no child of its own
    const a = await until(() => getUnix(sock('a')));
    expect(childrenOf(p.pid!)).toContain(a);
    expect(childrenOf(a)).toEqual([]);

    // a new file is spawned at once (inotify)
    write('b', good('b'));
    const b = await until(() => getUnix(sock('b')));
    expect(b).not.toBe(a);

    // touch: graceful reload in place (same pid, UWSGI_RELOADS=1)
    const future = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(vassals, 'a.ini'), future, future);
    await until(() => lines(trace).includes(`a accepting ${a} 1`));
    expect(await getUnix(sock('a'))).toBe(a);

    // broken on disk: the reload is refused with file:line, the vassal keeps serving
    write('a', `${good('a')}bogus-option = 1\n`);
    await until(() => /reload refused.*a\.ini:6: unknown option `bogus-option`/.test(stderr()));
    expect(await getUnix(sock('a'))).toBe(a);

    // a new invalid config: reported with file:line, not started, not respawned
    write('c', '[uwsgi]\nhttp-socket = nowhere:99999\n');
    await until(() => /c\.ini:2: bad value for `http-socket`/.test(stderr()) && /vassal config is invalid.*c\.ini/.test(stderr()));
    await new Promise((r) => setTimeout(r, 800));
    expect(stderr().match(/vassal spawned vassal=c\.ini/g)).toHaveLength(1);
    expect(await getUnix(sock('b'))).toBe(b); // the others are not disturbed

    // fixed: spawned now
    write('c', good('c'));
    await until(() => getUnix(sock('c')));

    // removed: emperor-stop hooks run in the vassal, then it is gone
    fs.rmSync(path.join(vassals, 'b.ini'));
    await until(() => lines(trace).includes('b emperor-stop'));
    await until(() => !alive(b));

    // fixed on disk again: the reload goes through
    write('a', good('a'));
    await until(() => lines(trace).includes(`a accepting ${a} 2`));

    // SIGKILL of a vassal: respawned (new pid) and serving
    process.kill(a, 'SIGKILL');
    const a2 = await until(async () => { const x = await getUnix(sock('a')); return x !== a ? x : undefined; });
    expect(a2).toBeGreaterThan(0);

    // SIGTERM: every vassal stops gracefully (its emperor-stop hooks), exit 0
    const all = tree(p.pid!);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(lines(trace)).toEqual(expect.arrayContaining(['a emperor-stop', 'c emperor-stop']));
    expect(all.filter(alive)).toEqual([]);
  });

  it('a SIGKILLed emperor leaves no vassal and no descendant running', async () => {
    const vassals = path.join(dir, 'orphans');
    fs.mkdirSync(vassals);
    fs.writeFileSync(path.join(vassals, 'single.ini'), `[uwsgi]\nhttp-socket = ${path.join(dir, 'o1.sock')}\nnode-app = ${FIXTURES}/apps/handler.js\n`);
    fs.writeFileSync(path.join(vassals, 'master.ini'), `[uwsgi]\nmaster = true\nprocesses = 2\nhttp-socket = ${path.join(dir, 'o2.sock')}\nnode-app = ${FIXTURES}/apps/handler.js\nattach-daemon = sleep 300\n`);
    const { p } = emperor(vassals);
    await until(() => getUnix(path.join(dir, 'o1.sock')));
    await until(() => getUnix(path.join(dir, 'o2.sock')));
    await until(() => tree(p.pid!).length >= 5 || undefined); // 2 vassals, 2 workers, the daemon (sh, its guard)
    // a vassal's worker killed: its master respawns it, the emperor is not involved
    const master = childrenOf(p.pid!).find((x) => childrenOf(x).length >= 2)!;
    const worker = childrenOf(master).find((x) => cmdlineOf(x).includes('worker'))!;
    // vassals run with liege's Node flags (src/os/node-flags.ts), the app's workers without
    expect(cmdlineOf(master)).toMatch(/--no-sparkplug --v8-pool-size=1 \S+bin\/liege /);
    expect(cmdlineOf(worker)).not.toContain('--no-sparkplug');
    process.kill(worker, 'SIGKILL');
    await until(() => childrenOf(master).filter((x) => x !== worker && cmdlineOf(x).includes('worker')).length === 2 || undefined);
    const all = tree(p.pid!);
    process.kill(p.pid!, 'SIGKILL');
    await until(() => all.every((x) => !alive(x)) || undefined);
    expect(all.filter(alive)).toEqual([]);
  });
  it("the emperor's pipe stays with the vassal: its workers and daemons see neither the fd nor UWSGI_EMPEROR_FD, and a reload keeps the link", async () => {
    const vassals = path.join(dir, 'pipe');
    fs.mkdirSync(vassals);
    const trace = path.join(dir, 'pipe.trace');
    const ini = path.join(vassals, 'm.ini');
    const sock = path.join(dir, 'pipe.sock');
    fs.writeFileSync(ini, [
      '[uwsgi]', 'master = true', 'processes = 1', `http-socket = ${sock}`, `node-app = ${FIXTURES}/apps/handler.js`,
      // what a child of the vassal sees: the variable, and whether its fd 3 is a socket
      `hook-accepting = exec:echo worker \${UWSGI_EMPEROR_FD:-none} $(readlink /proc/self/fd/3 | cut -c1-7) >> ${trace}`,
      `attach-daemon = sh -c 'echo daemon \${UWSGI_EMPEROR_FD:-none} $(readlink /proc/self/fd/3 | cut -c1-7) >> ${trace}; exec sleep 300'`,
      '',
    ].join('\n'));
    const { p } = emperor(vassals);
    await until(() => lines(trace).length >= 2 || undefined);
    for (const line of lines(trace)) expect(line).toMatch(/^(worker|daemon) none(?! socket:)/);
    // touched: the vassal reloads in place and is still its emperor's (the
    // reload's workers are accepting again, and a stop through the pipe works)
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(ini, t, t);
    await until(() => lines(trace).filter((l) => l.startsWith('worker')).length >= 2 || undefined);
    for (const line of lines(trace)) expect(line).toMatch(/^(worker|daemon) none(?! socket:)/);
    const vassal = childrenOf(p.pid!)[0]!;
    fs.rmSync(ini);
    await until(() => !alive(vassal) || undefined);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  });
  it('a vassal whose master fails after the link falls back to its fallback-config in place and is still its emperor\'s', async () => {
    const vassals = path.join(dir, 'fb');
    fs.mkdirSync(vassals);
    const trace = path.join(dir, 'fb.trace');
    const fb = path.join(dir, 'fb-fallback.ini');
    fs.writeFileSync(fb, `[uwsgi]\nhttp-socket = ${path.join(dir, 'fb2.sock')}\nnode-app = ${FIXTURES}/apps/handler.js\nhook-emperor-stop = exec:echo fallback stopped by the emperor >> ${trace}\n`);
    const ini = path.join(vassals, 'v.ini');
    fs.writeFileSync(ini, `[uwsgi]\nmaster = true\nprocesses = 1\nhttp-socket = ${path.join(dir, 'fb1.sock')}\nnode-app = ${FIXTURES}/apps/handler.js\nhook-master-start = exec:false\nfallback-config = ${fb}\n`);
    const { p } = emperor(vassals);
    const served = await until(() => getUnix(path.join(dir, 'fb2.sock')));
    const vassal = childrenOf(p.pid!)[0]!;
    expect(served).toBe(vassal); // the same pid, serving in a single process
    fs.rmSync(ini);
    await until(() => !alive(vassal) || undefined);
    expect(lines(trace)).toEqual(['fallback stopped by the emperor']);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  });
  it('vassals-start-hook runs in the vassal before it starts, vassals-stop-hook in the emperor after it is gone', async () => {
    const vassals = path.join(dir, 'hooked');
    fs.mkdirSync(vassals);
    const trace = path.join(dir, 'hooked.trace');
    const hook = (name: string) => {
      const f = path.join(dir, `${name}.sh`);
      fs.writeFileSync(f, `#!/bin/sh\necho ${name} $(basename "$1") $UWSGI_VASSALS_DIR >> ${trace}\n`, { mode: 0o755 });
      return f;
    };
    fs.writeFileSync(path.join(vassals, 'a.ini'), `[uwsgi]\nattach-daemon = sleep 600\nhook-master-start = exec:echo started >> ${trace}\n`);
    const { p } = emperor(vassals, ['--vassals-start-hook', hook('start'), '--vassals-stop-hook', hook('stop')]);
    await until(() => lines(trace).includes('started'));
    expect(lines(trace)).toEqual([`start a.ini ${vassals}`, 'started']);
    fs.rmSync(path.join(vassals, 'a.ini'));
    await until(() => lines(trace).length === 3);
    expect(lines(trace)[2]).toBe(`stop a.ini ${vassals}`);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  });
});
