// need-app (uWSGI): an app that fails to load while nothing serves ends
// the instance with status 22 (UWSGI_FAILED_APP_CODE), with a master and
// as a single process, leaving no process behind; a reload into a broken
// app keeps the running workers serving (liege's departure: uWSGI dies).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const broken = path.join(FIXTURES, 'apps', 'broken.js');

function liege(args: string[]): ResultPromise {
  const p = startLiege(args, { cwd: dir });
  started.push(p);
  return p;
}

describe('need-app', () => {
  for (const [mode, extra] of [['a master with 2 workers', ['--master', '-p', '2']], ['a single process', []]] as const) {
    it(`an app that does not load: exit 22, said, nothing left (${mode})`, async () => {
      const port = await freePort();
      const p = liege([...extra, '--http-socket', `127.0.0.1:${port}`, '--node-app', broken, '--need-app']);
      let workers: number[] = [];
      const watch = setInterval(() => { workers = [...new Set([...workers, ...childrenOf(p.pid!)])]; }, 20);
      const r = await p;
      clearInterval(watch);
      expect(r.exitCode).toBe(22);
      expect(String(r.stderr)).toMatch(/failed to load/);
      if (extra.length) expect(String(r.stderr)).toMatch(/need-app, destroying the instance \(exit 22\)/);
      if (extra.length) expect(workers.length).toBeGreaterThan(0);
      for (const w of workers) expect(alive(w)).toBe(false);
    }, 30_000);
  }

  it('without need-app the master keeps respawning (the default)', async () => {
    const port = await freePort();
    const p = liege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', broken]);
    let text = '';
    p.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
    await until(() => ((text.match(/failed to load/g) ?? []).length >= 2 ? true : undefined));
    expect(alive(p.pid!)).toBe(true);
    expect(text).not.toMatch(/need-app/);
  }, 30_000);

  it('a reload into a broken app: the running workers keep serving', async () => {
    const port = await freePort();
    const app = path.join(dir, 'app.js');
    fs.copyFileSync(path.join(FIXTURES, 'apps', 'handler.js'), app);
    const p = liege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--need-app']);
    let text = '';
    p.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
    await until(() => get(port));
    fs.copyFileSync(broken, app);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/failed to load/.test(text) ? true : undefined));
    for (let i = 0; i < 5; i++) expect((await get(port))?.status).toBe(200);
    expect(alive(p.pid!)).toBe(true);
    expect(text).not.toMatch(/destroying the instance/);
  }, 30_000);
});
