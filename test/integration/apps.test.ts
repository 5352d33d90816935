// Every app shape a user brings, unchanged, with 2 workers: express, koa,
// fastify-style late listen(), a fetch default export, Hono's
// `export default app`, plain ESM with top-level await, an app with a
// second port of its own; and the failures: an app that throws at load, one
// that never listens, a node-app path that does not exist.
import * as fs from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, killGroup, runLiege, scratch, startLiege, until } from './helpers';


const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function req(port: number, path = '/', init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, signal: AbortSignal.timeout(3000) });
    return { status: r.status, body: await r.text(), headers: r.headers };
  } catch {
    return undefined;
  }
}

function start(app: string, port: number, extra: string[] = [], env: Record<string, string> = {}): ResultPromise {
  const p = startLiege(['--master', '--processes', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/${app}`, ...extra], { cwd: dir, env });
  started.push(p);
  return p;
}

/** Waits until the running liege's stderr matches `re`. */
async function stderrMatches(p: ResultPromise, re: RegExp, ms = 20_000): Promise<void> {
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  await until(() => (re.test(err) ? true : undefined), ms);
}

async function stop(p: ResultPromise) {
  process.kill(p.pid!, 'SIGTERM');
  return p;
}

describe('app shapes (2 workers)', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['express (handler function, app.listen(port, cb))', 'express-shape.js', /^express-shape 127\.0\.0\.1$/],
    ['koa (app.listen → createServer(app.callback()))', 'koa-shape.js', /^koa-shape$/],
    ['fastify-style: await listen({port, host}) after async setup', 'late-listen.js', /^late-app \d+\n$/],
    ['a fetch default export', 'fetch-default.mjs', /^fetch-app \/\n$/],
    ['Hono: export default app (has .fetch)', 'hono-shape.mjs', /^hono-shape$/],
    ['ESM with top-level await', 'esm-tla.mjs', /^esm-tla\n$/],
    // before: nothing listened, requests waited for app-listen-timeout (LIEGE_ERR_APP_LISTEN)
    ['module.exports = http.createServer(…), never started (liege calls its listen())', 'server-export.js', /^server-export$/],
    ['fastify-style: export default app, never started (liege calls its listen())', 'fastify-export.mjs', /^fastify-export$/],
  ];
  for (const [name, app, body] of cases) {
    it(name, async () => {
      const port = await freePort();
      const p = start(app, port);
      const r = await until(() => req(port));
      expect(r.status).toBe(200);
      expect(r.body).toMatch(body);
      if (app === 'server-export.js') expect(r.headers.get('x-keep-alive-ms')).toBe('1234');
      // both workers stay up (a crash loop would log "worker died")
      await new Promise((ok) => setTimeout(ok, 700));
      expect((await req(port))?.status).toBe(200);
      const out = await stop(p);
      expect(out.exitCode).toBe(0);
      expect(out.stderr).not.toMatch(/worker died|EEXIST|EADDRINUSE/);
    });
  }

  // single-process mode serves in the CLI bundle itself (bin/liege, a
  // vm.Script from a code cache): import() must still reach Node's loader
  it('ESM with top-level await in a single process (no master)', async () => {
    const port = await freePort();
    const p = startLiege(['--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/esm-tla.mjs`], { cwd: dir });
    started.push(p);
    const r = await until(() => req(port));
    expect(r.status).toBe(200);
    expect(r.body).toBe('esm-tla\n');
    const out = await stop(p);
    expect(out.stderr).not.toMatch(/LIEGE_ERR_APP_LOAD/);
  });

  it('an app that listens once while loading, with two liege sockets: the second is served by its server within the claim grace, not after app-listen-timeout', async () => {
    const [port, second] = [await freePort(), await freePort()];
    const p = start('express-shape.js', port, ['--http-socket', `127.0.0.1:${second}`]);
    expect((await until(() => req(port))).body).toMatch(/^express-shape /);
    // before: served only after app-listen-timeout (60 s)
    expect((await until(() => req(second), 10_000)).body).toMatch(/^express-shape /);
    await stop(p);
  });

  it('the late listener sees liege\'s port as its address', async () => {
    const port = await freePort();
    const p = start('late-listen.js', port);
    expect((await until(() => req(port))).body).toBe(`late-app ${port}\n`);
    await stop(p);
  });

  it('sockets go to the app in the config\'s order, whatever their kind (http-socket before socket: the listen() takes the HTTP one)', async () => {
    const [port, second] = [await freePort(), await freePort()];
    const p = start('late-listen.js', port, ['--socket', `127.0.0.1:${second}`]);
    // before: uwsgi sockets came first, so the app's server was on `second`
    expect((await until(() => req(port))).body).toBe(`late-app ${port}\n`);
    await stop(p);
  });

  it('fetch handler: streams bodies both ways, keeps set-cookie, an exception is a logged 500', async () => {
    const port = await freePort();
    const p = start('fetch-default.mjs', port);
    await until(() => req(port));
    const big = 'x'.repeat(1 << 20);
    const echo = await req(port, '/echo', { method: 'POST', body: big });
    expect(echo?.body.length).toBe(big.length);
    expect(echo?.headers.get('x-method')).toBe('POST');
    expect((await req(port, '/stream'))?.body).toBe('chunk0\nchunk1\nchunk2\n');
    expect((await req(port, '/'))?.headers.get('set-cookie')).toBe('a=1');
    const bad = await req(port, '/throw');
    expect(bad?.status).toBe(500);
    expect((await req(port))?.status).toBe(200);
    const out = await stop(p);
    expect(out.stderr).toMatch(/app exception: Error: fetch handler failed on purpose/);
  });

  it('a second port of the app is shared by every worker (node:cluster semantics)', async () => {
    const port = await freePort();
    const metrics = await freePort();
    const p = start('two-ports.js', port, [], { METRICS_PORT: String(metrics) });
    expect((await until(() => req(port)))?.body).toBe('api\n');
    expect((await until(() => req(metrics)))?.body).toBe('metrics\n');
    await new Promise((ok) => setTimeout(ok, 700));
    const pids = new Set<string>();
    for (let i = 0; i < 30 && pids.size < 2; i++) {
      const r = await req(metrics, '/', { headers: { connection: 'close' } });
      if (r) pids.add(r.headers.get('x-pid')!);
    }
    expect(pids.size).toBeGreaterThanOrEqual(1);
    const out = await stop(p);
    expect(out.stderr).not.toMatch(/worker died|EADDRINUSE/);
  });

  it('`module.exports = { app }`: said at load that `app` looks like the handler and how to export it (before: silent until app-listen-timeout)', async () => {
    const port = await freePort();
    const p = start('wrapped-export.js', port);
    await stderrMatches(p, /WARN the app exports no request handler, but its `app` looks like one: unless the app calls listen\(\) itself, export it as the module \(module\.exports = app, export default app\)/, 15_000);
  });

  it('an app that throws at load is reported as the app\'s error, with its message and file', async () => {
    const port = await freePort();
    const p = start('throws.js', port);
    await stderrMatches(p, /LIEGE_ERR_APP_LOAD/);
    killGroup(p);
    const out = await p;
    expect(out.stderr).toMatch(/the app \S+throws\.js failed to load: Cannot read properties of undefined \(reading 'port'\) \(at \S+throws\.js:3\) code=LIEGE_ERR_APP_LOAD/);
    expect(out.stderr).not.toMatch(/hook failed/);
  });

  it('an app only root may read, with uid: the error says the workers run as that user, and no place in liege\'s own code', async () => {
    const port = await freePort();
    const secret = `${dir}/secret-app.js`;
    fs.copyFileSync(`${FIXTURES}/apps/handler.js`, secret);
    fs.chmodSync(secret, 0o600);
    const p = startLiege(['--master', '--processes', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', secret, '--uid', 'nobody', '--gid', 'nogroup'], { cwd: dir });
    started.push(p);
    await stderrMatches(p, /LIEGE_ERR_APP_LOAD/);
    killGroup(p);
    const out = await p;
    expect(out.stderr).toMatch(/the app \S+secret-app\.js failed to load: EACCES: permission denied, open '\S+secret-app\.js': the workers run as nobody \(uid 65534\): make the app \(and its directories\) readable by that user code=LIEGE_ERR_APP_LOAD/);
    // before: "(at …/dist/worker/main.bundle.js:15)", liege's own line as the app's
    expect(out.stderr).not.toMatch(/\(at \S+dist\//);
  });

  it('an app that never listens fails clearly after app-listen-timeout, no fallback server answers', async () => {
    const port = await freePort();
    const p = start('never-listens.js', port, ['--app-listen-timeout', '1']);
    const early = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(800) }).catch(() => undefined);
    expect(early).toBeUndefined();
    await stderrMatches(p, /LIEGE_ERR_APP_LISTEN/);
    killGroup(p);
    const out = await p;
    expect(out.stderr).toMatch(/neither exports a request handler nor called listen\(\) within 1 s code=LIEGE_ERR_APP_LISTEN/);
  });

  it('a missing node-app is an error at load, before any hook runs', async () => {
    const t = `${dir}/trace`;
    const r = await runLiege(['--http-socket', '127.0.0.1:0', '--node-app', 'nope.js', '--hook-asap', `write:${t} ran`], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/command line: node-app not found: \S+nope\.js/);
    expect(fs.existsSync(t)).toBe(false);
  });
});
