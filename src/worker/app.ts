// Loading the Node app a worker serves, in any of its shapes, unchanged:
//  * a request handler: `module.exports = (req, res) => …`, `{ handler }`,
//    an express app (a function), a koa app (`callback()`);
//  * a fetch handler: a default export (or module.exports) with
//    `fetch(Request) → Response | Promise<Response>` (Bun, Deno, Cloudflare,
//    Hono's `export default app`), or a named `fetch` export;
//  * an app that creates its own servers and calls listen() at any time
//    (listen-router.ts sends those calls to liege's sockets), or exports a
//    server it did not start (http.Server, a fastify instance): liege calls
//    its listen().
// CommonJS and ESM alike (import(), so top-level await works). A throw at
// load is the app's error: LIEGE_ERR_APP_LOAD with its message and file.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LiegeError } from '../errors';
import { log } from '../log';
import { CLUSTER_FORK_HELP, forkedByApp } from './cluster-guard';
import { fetchListener, type FetchHandler } from './fetch-handler';
import { appListened } from './listen-router';
import { importEsm } from '../os/import-esm';
import { nodeModule } from '../os/node-module';
import { nodeOs } from '../os/node-os';
import { locateSyntaxError } from './syntax-check';

type Mod = Record<string, unknown>;

/** Imports the app; resolves with its request listener, if it exports one. */
export async function importApp(file: string, onError: (e: unknown, req: http.IncomingMessage) => void): Promise<http.RequestListener | undefined> {
  let ns: Mod;
  try {
    // require() for CommonJS: import() would first set up the ESM loader,
    // a cost every worker start would pay (bench/README.md)
    ns = isEsm(file) ? ((await importEsm(pathToFileURL(file).href)) as Mod) : { default: nodeModule().createRequire(file)(file) as unknown };
  } catch (e) {
    throw appError(file, e);
  }
  if (forkedByApp()) throw new LiegeError('LIEGE_ERR_APP_LOAD', `the app ${file} failed to load: ${CLUSTER_FORK_HELP}`);
  const listener = listenerOf(ns, onError);
  if (!listener && !listenExported(ns) && !appListened()) sayMisplaced(ns, file);
  return listener;
}

// `module.exports = { app }`, `export const app = new Hono()`: a handler
// under a name liege does not look at; the worker would wait for a listen()
// until app-listen-timeout (60 s) with every request queued. Said at load
// (the app may still listen() itself later: then it is only a note).
function sayMisplaced(ns: Mod, file: string): void {
  for (const holder of [ns.default, ns]) {
    if (holder === null || typeof holder !== 'object') continue;
    for (const [name, v] of Object.entries(holder as Mod)) {
      if (name === 'default' || !looksLikeApp(v)) continue;
      log('worker').warn({ app: file, export: name }, `the app exports no request handler, but its \`${name}\` looks like one: unless the app calls listen() itself, export it as the module (module.exports = ${name}, export default ${name}) or as \`handler\``);
      return;
    }
  }
}

// (req, res[, next]): an express/connect app or a handler; or a fetch app (Hono); or koa
function looksLikeApp(v: unknown): boolean {
  if (typeof v === 'function') return v.length === 2 || v.length === 3;
  if (v === null || typeof v !== 'object') return false;
  const o = v as Mod;
  return typeof o.fetch === 'function' || (typeof o.callback === 'function' && typeof o.use === 'function');
}

// `module.exports = http.createServer(…)`, `export default fastify`: a
// server the app made but left to its runner to start (as its tests do).
// liege starts it: its listen() goes to liege's sockets like any other, so
// the server's own settings and `upgrade` listeners apply. (Not awaited: a
// warm spare's listen() completes at its promotion; a rejection is the
// app's unhandled rejection.)
function listenExported(ns: Mod): boolean {
  const o = ns.default as Mod | null;
  if (o === null || typeof o !== 'object' || typeof o.listen !== 'function') return false;
  // `module.exports = app.listen(3000)`: started already (a spare's listen is held, not done)
  if (!appListened(o) && !appListened(o.server)) (o.listen as () => unknown).call(o);
  return true;
}

/** Whether Node loads `file` as an ES module (.mjs, or .js under "type": "module"). */
export function isEsm(file: string): boolean {
  if (file.endsWith('.mjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type?: string }).type === 'module';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    if (path.dirname(dir) === dir) return false;
  }
}

/** The request listener a module namespace exports, if any. */
export function listenerOf(ns: Mod, onError: (e: unknown, req: http.IncomingMessage) => void): http.RequestListener | undefined {
  // CommonJS: default = module.exports; ESM: the default export
  for (const candidate of [ns.default, ns]) {
    if (typeof candidate === 'function') return candidate as http.RequestListener;
    if (candidate === null || typeof candidate !== 'object') continue;
    const o = candidate as Mod;
    if (typeof o.handler === 'function') return o.handler as http.RequestListener;
    if (typeof o.fetch === 'function') return fetchListener((o.fetch as FetchHandler).bind(o), onError);
    // koa: the app object hands out its listener
    if (typeof o.callback === 'function' && typeof o.use === 'function') return (o.callback as () => http.RequestListener).call(o);
  }
  return undefined;
}

/** An exception from the app's code as LIEGE_ERR_APP_LOAD (message, file, where). */
export function appError(file: string, e: unknown): LiegeError {
  const err = e as Error;
  const message = err?.message ?? String(e);
  // import() says nowhere which module has the SyntaxError: found by compiling them
  const found = appFrame(err?.stack ?? '') ?? (err instanceof SyntaxError && isEsm(file) ? locateSyntaxError(file) : undefined);
  const where = found ? ` (at ${found})` : '';
  return new LiegeError('LIEGE_ERR_APP_LOAD', `the app ${file} failed to load: ${message}${where}${unreadable(err)}`, { cause: e });
}

// liege's own code (dist/): a place there is not the app's (an app the
// worker may not read failed "at dist/worker/main.bundle.js:15")
const LIEGE_DIST = `${path.resolve(__dirname, '..')}/`;

/** The first absolute file:line of the stack that is not liege's (a
 * SyntaxError's first line names it under require()); never one of Node's
 * own `node:internal/…`. */
function appFrame(stack: string): string | undefined {
  for (const m of stack.matchAll(/(?:^|[\s(])(?:file:\/\/)?(\/[^\s():]+:\d+)/g)) {
    if (!m[1]!.startsWith(LIEGE_DIST)) return m[1];
  }
  return undefined;
}

// checked at load as root, the app is read by the worker after the drop:
// a file only root may read fails in every worker, for ever
function unreadable(err: NodeJS.ErrnoException | undefined): string {
  if (err?.code !== 'EACCES' && err?.code !== 'EPERM') return '';
  return `: the workers run as ${nodeOs().userInfo().username} (uid ${process.getuid?.()}): make the app (and its directories) readable by that user`;
}
