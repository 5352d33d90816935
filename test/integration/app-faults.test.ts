// An app's faults as a new user meets them, with 2 workers: a fetch handler
// streaming a body far larger than the socket buffer, a typo in an ES
// module (which file, which line), an uncaught exception counted in the
// stats after its worker is gone.
import * as fs from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, statsAt, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function start(app: string, extra: string[]): ResultPromise {
  const p = startLiege(['--master', '--processes', '2', '--node-app', `${FIXTURES}/apps/${app}`, ...extra], { cwd: dir });
  started.push(p);
  return p;
}

/** The stderr seen so far, and a wait for a pattern in it. */
function watchStderr(p: ResultPromise): (re: RegExp) => Promise<string> {
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  return (re) => until(() => (re.test(err) ? err : undefined), 20_000);
}


describe('app faults (2 workers)', () => {
  it('a fetch handler streams a 48 MiB body whole, without leaking a listener per backpressure wait', async () => {
    const port = await freePort();
    const p = start('fetch-default.mjs', ['--http-socket', `127.0.0.1:${port}`]);
    await until(() => get(port));
    const r = await fetch(`http://127.0.0.1:${port}/big?mb=48`);
    let n = 0;
    for await (const chunk of r.body!) n += (chunk as Uint8Array).length;
    expect(n).toBe(48 << 20);
    process.kill(p.pid!, 'SIGTERM');
    const out = await p;
    // before: one 'close' listener per wait, Node's warning after ten
    expect(out.stderr).not.toMatch(/MaxListenersExceededWarning/);
  }, 60_000);

  const typos: Array<[string, string, RegExp]> = [
    ['an ES module', 'syntax/entry.mjs', /Unexpected token '\)' \(at \S+\/syntax\/entry\.mjs:4\)/],
    ['a module an ES module imports', 'syntax/nested.mjs', /Unexpected token ';' \(at \S+\/syntax\/lib\.mjs:3\)/],
    ['a CommonJS module', 'syntax/entry.js', /Unexpected token '\)' \(at \S+\/syntax\/entry\.js:3\)/],
  ];
  for (const [what, app, where] of typos) {
    it(`a syntax error in ${what} names its file and line, without a stack`, async () => {
      const port = await freePort();
      const p = start(app, ['--http-socket', `127.0.0.1:${port}`]);
      // before (ESM): "(at /modules/esm/utils:346)", a line of Node's loader
      const err = await watchStderr(p)(/code=LIEGE_ERR_APP_LOAD worker=\d pid/);
      killGroup(p);
      expect(err).toMatch(where);
      expect(err).not.toMatch(/node:internal|\n\s+at /);
    }, 30_000);
  }

  it('an uncaught exception in a handler is logged, counted in the stats after its worker is replaced, and the instance keeps serving', async () => {
    const [port, statsPort] = [await freePort(), await freePort()];
    const p = start('throws-later.js', ['--http-socket', `127.0.0.1:${port}`, '--stats', `127.0.0.1:${statsPort}`]);
    const stderr = watchStderr(p);
    await until(() => get(port));
    // both workers accepting (the second may come well after the first on a
    // loaded machine), then older than a crash loop's second: the one that
    // gets /throw drains and is replaced at once
    const before = (await until(async () => {
      const s = await statsAt<{ workers: Array<{ pid: number; status: string }> }>(statsPort);
      return s && s.workers.every((w) => w.pid > 0 && (w.status === 'idle' || w.status === 'busy')) ? s : undefined;
    })).workers.map((w) => w.pid);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await fetch(`http://127.0.0.1:${port}/throw`, { headers: { connection: 'close' } })).status).toBe(200);
    const err = await stderr(/old worker gone|worker gone|worker died/);
    const s = await until(async () => {
      const now = await statsAt<{ workers: Array<{ pid: number; exceptions: number; requests: number }> }>(statsPort);
      return now && now.workers.every((w) => w.pid > 0) && now.workers.some((w) => !before.includes(w.pid)) ? now : undefined;
    });
    // before: 0, the worker exited before its next heartbeat carried the count
    expect(s.workers.reduce((a, w) => a + w.exceptions, 0)).toBe(1);
    expect((await get(port))?.status).toBe(200);
    expect(await stderr(/uncaught exception in the app: Error: thrown on purpose after \/throw/)).toMatch(/code=LIEGE_ERR_APP/);
    // its replacement was started as it began to drain: no second respawn is announced
    expect(err).not.toMatch(/worker died, respawning/);
  }, 60_000);

  it('a worker that throws just after it began accepting still finishes its request in flight, and is respawned', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/throws-later.js`, '--http-socket', `127.0.0.1:${port}`], { cwd: dir });
    started.push(p);
    const stderr = watchStderr(p);
    const first = await until(() => get(port));
    // at once: (almost always) within its first second, a crash loop's window
    const r = await fetch(`http://127.0.0.1:${port}/throw`, { headers: { connection: 'close' } });
    // before: a just-started worker exited at once and this request was dropped
    expect(r.status).toBe(200);
    expect(r.headers.get('x-pid')).toBe(first.pid);
    await stderr(/worker died, respawning|worker gone; its replacement is starting/);
    const next = await until(async () => {
      const g = await get(port);
      return g && g.pid !== first.pid ? g : undefined;
    });
    expect(next.status).toBe(200);
  }, 60_000);
});
