// A workers or chain reload whose new code does not load (the app throws at
// load): the walk stops at the first replacement that fails, says so in one
// line, and the old workers keep serving (no failed request); the slot is
// not retried with the crash-loop backoff for good. The reload that brings
// the fix goes through.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';
import { startLoad } from './load';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const [what, letter] of [['chain reload', 'c'], ['workers reload', 'w']] as const) {
  describe(`${what} into an app that throws at load`, () => {
    it('stops, says so once, the old workers keep serving; the fixed app reloads', async () => {
      const app = path.join(dir, `${letter}-app.js`);
      const fifo = path.join(dir, `${letter}.fifo`);
      fs.copyFileSync(path.join(FIXTURES, 'apps', 'handler.js'), app);
      const port = await freePort();
      const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--master-fifo', fifo, '--disable-logging']);
      started.push(p);
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await until(() => get(port));
      const old = await until(() => { const c = childrenOf(p.pid!); return c.length === 2 ? c : undefined; });
      // both serve (loaded the good app) before it is broken
      const seen = new Set<string>();
      await until(async () => {
        const r = await get(port);
        if (r?.pid) seen.add(r.pid);
        return seen.size === 2 || undefined;
      });
      const load = startLoad(port, 8);
      fs.copyFileSync(path.join(FIXTURES, 'apps', 'broken.js'), app);
      fs.writeFileSync(fifo, letter);
      const stopped = new RegExp(`${what} stopped: the app does not load in the new worker \\d; the old workers keep serving`);
      await until(() => (stopped.test(err) ? true : undefined), 30_000).catch(() => { throw new Error(err); });
      // no retry of the broken code after it (before: respawned with the backoff, for good)
      const spawnsAfter = () => (err.split(stopped)[1]!.match(/worker spawned/g) ?? []).length;
      await sleep(2500);
      expect(spawnsAfter()).toBe(0);
      const r = await load.stop();
      expect(r.failed).toBe(0);
      expect([...r.pids].every((x) => old.includes(Number(x)))).toBe(true);
      expect(childrenOf(p.pid!).sort()).toEqual([...old].sort());
      expect(err.match(stopped)).toHaveLength(1);
      expect(err).toMatch(/LIEGE_ERR_APP_LOAD/);
      expect(err).toMatch(/broken on purpose at load/);
      // fixed: the next one goes through
      fs.copyFileSync(path.join(FIXTURES, 'apps', 'handler.js'), app);
      fs.writeFileSync(fifo, letter);
      await until(() => (new RegExp(`${what} done`).test(err) ? true : undefined), 30_000);
      const now = childrenOf(p.pid!);
      expect(now.filter((c) => old.includes(c))).toEqual([]);
      expect((await get(port))?.status).toBe(200);
      fs.writeFileSync(fifo, 'q');
      expect((await p).exitCode).toBe(0);
    }, 90_000);
  });
}
