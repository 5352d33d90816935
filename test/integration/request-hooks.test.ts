// Request hooks in real workers: added by the app (require('liege')), by a
// `request-hooks = FILE.js` module, by a registry entry of category Request;
// for a handler app and for an app that listens by itself.
import type { ResultPromise } from 'execa';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, killGroup, LIEGE, scratch, startLiege, until, written } from './helpers';
import { execa } from 'execa';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }

/** One request on its own connection: the reply, or the socket error ('ECONNRESET', 'socket hang up'). */
function request(port: number, p: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(opts.body);
  });
}

async function serve(name: string, files: Record<string, string>, extra: string[] = [], env: Record<string, string> = {}, master = true) {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
  const port = await freePort();
  const p = startLiege([...(master ? ['--master', '--processes', '1'] : []), '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(d, 'app.js'), ...extra], { cwd: d, env });
  started.push(p);
  await until(async () => { const r = await request(port, '/ready'); return 'status' in r ? r : undefined; });
  return { port, p, d };
}

const AUTH_APP = `
const { addHook, removeHook } = require('liege');
let calls = 0;
// an auth hook: answers 401 and cancels
addHook('pre-route', (req, res) => {
  if (req.url === '/ready' || req.headers.authorization === 'Bearer ok') return;
  res.writeHead(401, { 'content-type': 'text/plain' });
  res.end('who are you?\\n');
  throw new Error('unauthorized');
}, 'auth');
// two slow hooks: both promises are awaited before the app runs
addHook('pre-route', async (req) => { await new Promise((r) => setTimeout(r, 150)); (req.marks ??= []).push('slow'); }, 'slow');
const fast = (req) => new Promise((r) => setTimeout(() => { (req.marks ??= []).push('fast'); r(); }, 20));
addHook('pre-route', fast);
addHook('pre-route', (req) => { if (req.url === '/boom') throw new Error('boom'); }, 'boom');
addHook('pre-route', (req) => { if (req.url === '/reject') return Promise.reject(new Error('rejected')); }, 'reject');
module.exports = (req, res) => {
  calls++;
  if (req.url === '/remove-by-name') { removeHook('pre-route', 'slow'); removeHook('pre-route', 'auth'); }
  if (req.url === '/remove-by-fn') removeHook('pre-route', fast);
  res.end(JSON.stringify({ calls, marks: (req.marks ?? []).sort() }));
};
`;

describe('request hooks', () => {
  it('an auth hook answers 401 and cancels; two promises are both awaited; a throw or a rejection destroys the connection; removal by name and by function', async () => {
    const { port, p } = await serve('auth', { 'app.js': AUTH_APP });
    const denied = await request(port, '/secret');
    expect(denied).toMatchObject({ status: 401, body: 'who are you?\n' });
    const ok = await request(port, '/secret', { headers: { authorization: 'Bearer ok' } });
    expect(ok).toMatchObject({ status: 200 });
    // the app ran once for the authorized request only (and /ready), both slow marks present
    const j = JSON.parse((ok as Reply).body) as { calls: number; marks: string[] };
    expect(j.marks).toEqual(['fast', 'slow']);
    const calls = j.calls;
    // a throwing hook: no response at all, the connection is destroyed
    expect(await request(port, '/boom', { headers: { authorization: 'Bearer ok' } })).toEqual({ error: expect.stringMatching(/ECONNRESET|socket hang up/) });
    expect(await request(port, '/reject', { headers: { authorization: 'Bearer ok' } })).toEqual({ error: expect.stringMatching(/ECONNRESET|socket hang up/) });
    // the worker keeps serving, the app never saw those
    const after = await request(port, '/x', { headers: { authorization: 'Bearer ok' } });
    expect(JSON.parse((after as Reply).body).calls).toBe(calls + 1);
    // removal by name: auth and slow gone
    await request(port, '/remove-by-name', { headers: { authorization: 'Bearer ok' } });
    const open = await request(port, '/secret');
    expect(open).toMatchObject({ status: 200 });
    expect(JSON.parse((open as Reply).body).marks).toEqual(['fast']);
    await request(port, '/remove-by-fn');
    expect(JSON.parse(((await request(port, '/secret')) as Reply).body).marks).toEqual([]);
    killGroup(p);
    const out = await p;
    expect(out.stderr).toMatch(/request hook failed, request cancelled event=pre-route hook=boom error=boom/);
    expect(out.stderr).toMatch(/request hook failed, request cancelled event=pre-route hook=reject error=rejected/);
  });

  it('request-hooks = FILE.js hooks every step of a self-listening app, in order, without touching the app', async () => {
    const hooks = `
const fs = require('fs');
const seen = [];
const note = (e) => seen.push(e);
module.exports = (liege) => {
  // a trace per connection: a readiness probe the test gave up on under load
  // is accepted late and would put its 'connect' into the next one's trace
  liege.addHook('connect', (socket) => { seen.length = 0; note('connect'); });
  liege.addHook('parsed-headers', (req) => note('parsed-headers ' + req.method));
  liege.addHook('pre-route', async (req, res) => { note('pre-route'); res.setHeader('x-seen', seen.join(',')); });
  liege.addHook('post-route', () => note('post-route'));
  liege.addHook('body-chunk', async (req, chunk, last) => { await new Promise((r) => setTimeout(r, 5)); note('body-chunk ' + chunk.length + (last ? ' last' : '')); });
  liege.addHook('body-complete', () => note('body-complete'));
  liege.addHook('response-started', async (res, req, status, headers) => { note('response-started ' + status + ' ' + headers['x-app']); await new Promise((r) => setTimeout(r, 20)); });
  liege.addHook('response-finished', (req) => { note('response-finished'); if (req.url === '/dump') fs.writeFileSync(process.env.DUMP, seen.join('\\n')); seen.length = 0; });
};
`;
    const app = `
const http = require('http');
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => { res.setHeader('x-app', 'yes'); res.end('got ' + body.length + '\\n'); });
}).listen(8080);
`;
    const dump = path.join(dir, 'dump.txt');
    const { port } = await serve('self', { 'app.js': app, 'hooks.js': hooks }, ['--request-hooks', 'hooks.js'], { DUMP: dump });
    const r = await request(port, '/dump', { method: 'POST', body: 'x'.repeat(1000) });
    expect(r).toMatchObject({ status: 200, body: 'got 1000\n' });
    const seen = (await until(() => written(dump))).split('\n');
    expect(seen[0]).toBe('connect');
    expect(seen.slice(1, 4)).toEqual(['parsed-headers POST', 'pre-route', 'post-route']);
    expect(seen).toContain('body-chunk 1000');
    expect(seen.indexOf('body-chunk 0 last')).toBe(seen.indexOf('body-chunk 1000') + 1);
    expect(seen.indexOf('body-complete')).toBe(seen.indexOf('body-chunk 0 last') + 1);
    expect(seen.slice(-2)).toEqual(['response-started 200 yes', 'response-finished']);
  });

  it('registry entries of category Request are loaded in the workers; a bad request-hooks path stops at load', async () => {
    const db = path.join(dir, 'reg.yaml');
    const mod = path.join(dir, 'reg-hook.js');
    fs.writeFileSync(mod, "exports.tag = (req, res) => { res.setHeader('x-registry', 'yes'); };\n");
    const add = await execa(LIEGE, ['hooks', 'add', 'module', mod, '--manual', '--event', 'pre-route', '--action', 'tag'], { env: { LIEGE_HOOKS_DB: db }, reject: false });
    expect(add.exitCode).toBe(0);
    const { port } = await serve('reg', { 'app.js': 'module.exports = (req, res) => res.end("plain\\n");' }, [], { LIEGE_HOOKS_DB: db });
    const r = (await request(port, '/')) as Reply;
    expect(r.body).toBe('plain\n');
    expect(r.headers['x-registry']).toBe('yes');
    // a single-process instance (no master) loads them too
    const single = await serve('reg-single', { 'app.js': 'module.exports = (req, res) => res.end("single\\n");' }, [], { LIEGE_HOOKS_DB: db }, false);
    const s = (await request(single.port, '/')) as Reply;
    expect(s.body).toBe('single\n');
    expect(s.headers['x-registry']).toBe('yes');
    const bad = await execa(LIEGE, ['--http-socket', '127.0.0.1:0', '--request-hooks', 'nope.js'], { cwd: dir, reject: false });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('no such request hook module: `request-hooks = nope.js`');
  });
});
