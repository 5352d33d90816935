// A vassal whose emperor dies (SIGKILL) while the vassal is still in its
// startup phases, blocked in a hook: its loop, which would hear the emperor
// pipe close, never runs. A thread of the vassal watches the pipe until
// the loop takes it over, and SIGKILLs the vassal and everything under it
// (the hook's shell and what that runs). A vassal already serving still
// ends its own way: emperor-lost hooks, then the stop.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, processes, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
let strays: number[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  // (what a failing test left: its emperor is gone, so not in its group's reach by the helper)
  for (const pid of strays.splice(0)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function emperor(vassals: string): ResultPromise {
  const p = startLiege(['--emperor', vassals, '--emperor-freq', '3600'], { cwd: dir });
  started.push(p);
  return p;
}

/** Every pid in the tree under `pid` (from /proc). */
function tree(pid: number): number[] {
  const kids = childrenOf(pid);
  return [...kids, ...kids.flatMap(tree)];
}

/** The pids whose command line has `mark`. */
const running = (mark: string) => processes().filter((p) => p.argv.join(' ').includes(mark)).map((p) => p.pid);

describe('a dead emperor ends a vassal blocked in a startup hook', () => {
  const cases = [
    { name: 'a master vassal in an as-root exec hook', mark: 'sleep 1001', lines: ['master = true', 'processes = 1', 'hook-as-root = exec:sleep 1001'] },
    { name: 'a single-process vassal in an as-user exec hook (after the drop to nobody)', mark: 'sleep 1002', lines: ['uid = nobody', 'gid = nogroup', 'exec-as-user = sleep 1002'] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const vassals = fs.mkdtempSync(path.join(dir, 'vassals-'));
      const port = await freePort();
      fs.writeFileSync(path.join(vassals, 'app.ini'), ['[uwsgi]', `http-socket = 127.0.0.1:${port}`, `node-app = ${FIXTURES}/apps/handler.js`, ...c.lines, ''].join('\n'));
      const p = emperor(vassals);
      // the vassal, its hook's shell and the sleep that shell runs
      await until(() => running(c.mark).length >= 2 || undefined, 20_000);
      const all = tree(p.pid!);
      strays = all;
      const vassal = childrenOf(p.pid!);
      expect(vassal.length).toBe(1);
      expect(all.length).toBeGreaterThanOrEqual(3);
      expect(await get(port)).toBeUndefined(); // still in its startup phases
      process.kill(p.pid!, 'SIGKILL');
      await until(() => all.every((x) => !alive(x)) || undefined, 5000).catch(() => undefined);
      expect(all.filter(alive)).toEqual([]);
      expect(running(c.mark)).toEqual([]);
    }, 40_000);
  }

  for (const [kind, lines] of [['master', ['master = true', 'processes = 1']], ['single-process', []]] as const) {
    it(`a ${kind} vassal already serving still runs its emperor-lost hooks, then stops (the watch is off once its loop runs)`, async () => {
      const vassals = fs.mkdtempSync(path.join(dir, 'vassals-'));
      const port = await freePort();
      const trace = path.join(vassals, 'lost.trace');
      fs.writeFileSync(path.join(vassals, 'app.ini'), ['[uwsgi]', ...lines, `http-socket = 127.0.0.1:${port}`, `node-app = ${FIXTURES}/apps/handler.js`,
        // a hook that takes a while: the vassal must not be killed under it
        `hook-emperor-lost = exec:sleep 0.5; echo lost >> ${trace}`, `hook-as-user-atexit = exec:echo atexit >> ${trace}`, ''].join('\n'));
      const p = emperor(vassals);
      await until(() => get(port), 20_000);
      const all = tree(p.pid!);
      strays = all;
      process.kill(p.pid!, 'SIGKILL');
      await until(() => all.every((x) => !alive(x)) || undefined, 10_000).catch(() => undefined);
      expect(all.filter(alive)).toEqual([]);
      expect(fs.readFileSync(trace, 'utf8').trim().split('\n')).toEqual(['lost', 'atexit']);
    }, 40_000);
  }
});
