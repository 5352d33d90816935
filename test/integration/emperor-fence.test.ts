// The vassal side of self-fencing (ipc/vassal.ts), without etcd: the test
// plays the emperor on the vassal's fd 3 with LIEGE_EMPEROR_FENCE_MS set.
// While heartbeats (byte 26) come, the vassal serves; once they stop it
// stops itself gracefully (emperor-stop hooks, exit 0) — single-process and
// master alike; a vassal whose graceful stop hangs is killed a fence later,
// its workers with it. The etcd emperor test covers the emperor side.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, LIEGE, lines, scratch, until } from './helpers';

const dir = scratch();
const started: ChildProcess[] = [];
afterEach(() => { for (const p of started.splice(0)) { try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ } } });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const FENCE_MS = 1500;

/** A process's environment as it was exec'd. */
const environ = (pid: number): string[] => { try { return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'); } catch { return []; } };

/** Live processes in process group `pgid` (from /proc). */
function inGroup(pgid: number): number[] {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return f[0] !== 'Z' && Number(f[2]) === pgid ? [Number(p)] : [];
    } catch {
      return [];
    }
  });
}

function vassal(args: string[]) {
  const p = spawn(LIEGE, args, {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, TEST_LIEGE: '1', UWSGI_EMPEROR_FD: '3', LIEGE_EMPEROR_FENCE_MS: String(FENCE_MS) },
  });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const pipe = p.stdio[3] as Duplex;
  pipe.on('error', () => { /* vassal gone */ });
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((r) => p.on('exit', (code, sig) => r([code, sig])));
  let beat: NodeJS.Timeout | undefined = setInterval(() => pipe.write(Buffer.from([26])), 200);
  const silence = () => { clearInterval(beat); beat = undefined; };
  exit.finally(silence);
  return { p, exit, silence, stderr: () => err };
}

describe('self-fencing vassals', () => {
  for (const mode of ['single-process', 'master'] as const) {
    it(`${mode}: serves while the emperor beats and across a reload, stops gracefully once it goes silent`, async () => {
      const port = await freePort();
      const trace = path.join(dir, `${mode}.trace`);
      const v = vassal([
        '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/handler.js`,
        ...(mode === 'master' ? ['--master', '--processes', '2'] : []),
        '--hook-emperor-stop', `exec:echo emperor-stop >> ${trace}`,
      ]);
      await until(() => get(port));
      // three fence windows of heartbeats: still serving, nothing stopped
      await new Promise((r) => setTimeout(r, 3 * FENCE_MS));
      expect((await get(port))?.status).toBe(200);
      expect(v.stderr()).not.toMatch(/fenced/);
      // a reload (re-exec in place) keeps the fence; workers never see it
      process.kill(v.p.pid!, 'SIGHUP');
      await until(() => environ(v.p.pid!).includes('UWSGI_RELOADS=1') || undefined);
      expect(environ(v.p.pid!)).toContain(`LIEGE_EMPEROR_FENCE_MS=${FENCE_MS}`);
      await until(() => get(port));
      for (const w of childrenOf(v.p.pid!)) expect(environ(w)).not.toContain('LIEGE_EMPEROR_FENCE_MS=');
      v.silence();
      const [code, sig] = await v.exit;
      expect([code, sig]).toEqual([0, null]);
      expect(v.stderr()).toMatch(/no word from the emperor for 1500 ms.*stopping \(fenced\)/);
      expect(lines(trace)).toEqual(['emperor-stop']);
      if (mode === 'single-process') expect(v.stderr()).toMatch(/serving in a single process/);
    }, 30_000);
  }

  it('a fenced vassal whose stop hangs is killed a fence later, its workers with it', async () => {
    const port = await freePort();
    const v = vassal([
      '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/handler.js`, '--master', '--processes', '2',
      '--hook-emperor-stop', 'exec:sleep 60',
    ]);
    await until(() => get(port));
    const workers = await until(() => { const c = childrenOf(v.p.pid!); return c.length >= 2 ? c : undefined; });
    expect(workers.length).toBeGreaterThanOrEqual(2);
    v.silence();
    const [, sig] = await v.exit;
    expect(sig).toBe('SIGKILL');
    expect(v.stderr()).toMatch(/stopping \(fenced\)/);
    await until(() => workers.every((w) => !alive(w)));
    // nothing of it is left: not even the hanging hook
    await until(() => inGroup(v.p.pid!).length === 0 || undefined, 5000).catch(() => undefined);
    expect(inGroup(v.p.pid!)).toEqual([]);
  }, 30_000);
});
