// The configure phase of a plain instance: `hook-configure` lines of the new
// config run on every reload before it replaces the running generation; a
// failure refuses the reload and the old generation keeps serving.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('configure phase', () => {
  it('refuses a reload its configure hook fails, accepts one it passes', async () => {
    const port = await freePort();
    const trace = path.join(dir, 'trace');
    const lines = (greeting: string) => [
      'master = true', `http-socket = 127.0.0.1:${port}`, `node-app = ${FIXTURES}/apps/handler.js`, `env = APP_GREETING=${greeting}`,
      // the check reads the new config's value: a greeting "bad" is refused
      `hook-configure = exec:echo configure ${greeting} >> ${trace}; test ${greeting} != bad`,
      `hook-master-start = exec:echo start ${greeting} >> ${trace}`,
    ];
    const ini = writeIni(dir, lines('one'), 'app.ini');
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    const first = await until(() => get(port));
    expect(first.body).toBe('handler-app one\n');
    const readTrace = () => fs.readFileSync(trace, 'utf8').trim().split('\n');
    await until(() => readTrace().includes('start one'));
    expect(readTrace()).toEqual(['start one']); // not on the first start

    writeIni(dir, lines('bad'), 'app.ini');
    process.kill(p.pid!, 'SIGHUP');
    await until(() => readTrace().includes('configure bad'));
    await new Promise((r) => setTimeout(r, 500));
    const still = await get(port);
    expect(still?.body).toBe('handler-app one\n');
    expect(still?.pid).toBe(first.pid); // the same worker: nothing was replaced

    writeIni(dir, lines('two'), 'app.ini');
    process.kill(p.pid!, 'SIGHUP');
    expect((await until(async () => { const r = await get(port); return r?.body === 'handler-app two\n' ? r : undefined; })).status).toBe(200);
    expect(readTrace()).toEqual(['start one', 'configure bad', 'configure two', 'start two']);
    process.kill(p.pid!, 'SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/reload refused, the running generation keeps serving: .*FATAL hook failed in configure/);
  });
});
