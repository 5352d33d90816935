// A new generation whose app load never ends (a top-level await on a
// database that never answers): the running generation keeps serving, and
// the reload that brings the fix is not merged into the hung one forever:
// a worker that does not accept within app-listen-timeout is killed and
// retried like one whose app failed to load.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const good = (word: string) => `export default { fetch: () => new Response('${word}') };\n`;

describe('a new generation whose app load hangs', () => {
  it('is given up after app-listen-timeout, so the reload with the fix goes through', async () => {
    const dir = scratch();
    const app = path.join(dir, 'app.mjs');
    fs.writeFileSync(app, good('old'));
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--app-listen-timeout', '2']);
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(port));
    const mark = path.join(dir, 'loading');
    fs.writeFileSync(app, `(await import('node:fs')).writeFileSync(${JSON.stringify(mark)}, '');\nawait new Promise(() => setInterval(() => {}, 1000));\n${good('hung')}`);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => fs.existsSync(mark) || undefined); // the new worker hangs in its load
    expect(await get(port)).toMatchObject({ body: 'old' });
    fs.writeFileSync(app, good('fixed'));
    process.kill(p.pid!, 'SIGHUP');
    await until(async () => ((await get(port))?.body === 'fixed' ? true : undefined), 30_000);
    expect(err).toMatch(/did not accept 7 s after it started \(app-listen-timeout \+ 5 s\): its start hangs/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    fs.rmSync(dir, { recursive: true });
  }, 60_000);
});
