// Bundles served by an emperor pointed at <state>/bundles: install → serve →
// install a newer version → serve it with no failed request → a version
// whose hook fails and one that never accepts are rolled back, the old one
// keeps serving → settings reach the instance as %(config.*) placeholders
// and LIEGE_CONFIG_* → remove stops the vassal.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { freePort, get, killGroup, scratch, startLiege, until } from './helpers';
import { bundleCmd, bundleDir, packBundle } from './bundle-helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A request that may wait (a reload keeps the socket open: a connection waits in the backlog) but must not fail. */
async function slowGet(port: number): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(20_000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/** Requests in a loop until stopped; counts the answers and the failures. */
function load(port: number) {
  const seen = new Map<string, number>();
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await slowGet(port);
      if (!r || r.status !== 200) failed++;
      else seen.set(r.body.trim(), (seen.get(r.body.trim()) ?? 0) + 1);
    }
  })();
  return { seen, failed: () => failed, stop: async () => { running = false; await loop; } };
}

describe('bundles under an emperor', () => {
  it('installs, refreshes losslessly, rolls back broken versions, applies settings, removes', async () => {
    const state = path.join(dir, 'state');
    const bundles = path.join(state, 'bundles');
    fs.mkdirSync(bundles, { recursive: true });
    const port = await freePort();
    const ini = ['master = true', 'processes = 2', `http-socket = 127.0.0.1:${port}`, 'node-app = %(bundle)/app.js', 'env = GREETING=%(config.greeting)', 'uid = nobody', 'gid = nogroup'];
    const app = (v: string) => `module.exports = (req, res) => res.end('web ${v} ' + process.env.GREETING + ' ' + (process.env.LIEGE_CONFIG_GREETING || '-') + '\\n');\n`;
    const version = (v: string, extra: Partial<Parameters<typeof bundleDir>[2]> = {}) => packBundle(dir, bundleDir(dir, 'web', { version: v, ini, app: app(v), ...extra }));
    const emperor = startLiege(['--emperor', bundles, '--emperor-freq', '1', '--emperor-throttle', '100']);
    started.push(emperor);

    let r = await bundleCmd(state, ['install', await version('1.0.0'), '--bundle-start-timeout', '30']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await get(port))?.body).toBe('web 1.0.0 %(config.greeting) -\n');

    const l = load(port);
    r = await bundleCmd(state, ['install', await version('2.0.0'), '--bundle-start-timeout', '30']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('installed web 2.0.0 (was 1.0.0)');
    await until(() => l.seen.has('web 2.0.0 %(config.greeting) -') || undefined);
    await l.stop();
    expect(l.seen.get('web 1.0.0 %(config.greeting) -')).toBeGreaterThan(0);
    expect(l.failed()).toBe(0);

    // a fatal hook: never switched
    r = await bundleCmd(state, ['install', await version('3.0.0', { hooks: { 'post-refresh': 'echo schema too new >&2; exit 1' } })]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('schema too new');
    // an app that never accepts: switched, not accepting in time, switched back
    r = await bundleCmd(state, ['install', await version('4.0.0', { app: 'throw new Error("broken build")\n' }), '--bundle-start-timeout', '6']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('web 4.0.0 did not reach accepting within 6 s; rolled back to 2.0.0');
    expect(fs.readlinkSync(path.join(bundles, 'web', 'current'))).toBe('2.0.0');
    expect(fs.existsSync(path.join(bundles, 'web', '4.0.0'))).toBe(false);
    expect((await until(async () => { const g = await get(port); return g?.body.startsWith('web 2.0.0') ? g : undefined; })).status).toBe(200);

    // settings: placeholder in meta/liege.ini and LIEGE_CONFIG_* env, vassal reloaded
    r = await bundleCmd(state, ['set', 'web', 'greeting=hello']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await until(async () => { const g = await get(port); return g?.body === 'web 2.0.0 hello hello\n' ? g : undefined; })).status).toBe(200);

    const pid = Number(fs.readFileSync(path.join(bundles, 'web', 'run', 'master.pid'), 'utf8'));
    r = await bundleCmd(state, ['remove', 'web']);
    expect(r.exitCode, r.stderr).toBe(0);
    await until(() => { try { process.kill(pid, 0); return undefined; } catch { return true; } });
    expect(await get(port)).toBeUndefined();
    expect(fs.readdirSync(bundles)).toEqual([]);

    process.kill(emperor.pid!, 'SIGTERM');
    expect((await emperor).exitCode).toBe(0);
  }, 120_000);
});
