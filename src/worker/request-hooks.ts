// Request hooks (Wookie): named, promise-aware functions on every step of a
// request, added by the app (`require('liege').addHook`), by a
// `request-hooks = FILE.js` module or by registry entries of category
// Request. One seam, attachRequestHooks(server), wraps the emit of every
// http.Server the worker serves — whatever the app's shape — so 'connection'
// and 'request' pass through here first. With no hook registered that is
// one counter test per event (bench/request-hooks.js).
//
// Each step waits for every promise its hooks return. A throw or a rejection
// cancels: the request and its connection are destroyed without a response
// (after the one a hook already sent, if any), logged.
import type * as http from 'node:http';
import type * as net from 'node:net';
import { log } from '../log';
import { REQUEST_EVENTS, type RequestEvent } from '../phases';

export type { RequestEvent };
export const EVENTS = REQUEST_EVENTS;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HookFn = (...args: any[]) => unknown;
interface Registered {
  fn: HookFn;
  name?: string;
}
interface Store {
  hooks: Map<string, Registered[]>;
  count: number;
}

// one store per process, even when the app loads another copy of the liege package
const KEY = Symbol.for('liege.request-hooks');
const store: Store = ((globalThis as Record<symbol, Store | undefined>)[KEY] ??= { hooks: new Map(), count: 0 });

function checkEvent(event: string): asserts event is RequestEvent {
  if (!(REQUEST_EVENTS as readonly string[]).includes(event)) throw new TypeError(`liege: unknown request hook event "${event}" (expected one of: ${REQUEST_EVENTS.join(', ')})`);
}

/** Adds `fn` on `event`; a hook of the same name on that event is replaced. */
export function addHook(event: RequestEvent, fn: HookFn, name?: string): void {
  checkEvent(event);
  if (typeof fn !== 'function') throw new TypeError('liege: addHook(event, fn, name?) needs a function');
  const list = store.hooks.get(event) ?? [];
  const same = name === undefined ? -1 : list.findIndex((h) => h.name === name);
  if (same >= 0) list[same] = { fn, name };
  else list.push({ fn, name });
  store.hooks.set(event, list);
  store.count = [...store.hooks.values()].reduce((n, l) => n + l.length, 0);
}

/** Removes the hooks of `event` that are `fnOrName` (the function, or its name); true if any. */
export function removeHook(event: RequestEvent, fnOrName: HookFn | string): boolean {
  checkEvent(event);
  const list = store.hooks.get(event) ?? [];
  const keep = list.filter((h) => (typeof fnOrName === 'string' ? h.name !== fnOrName : h.fn !== fnOrName));
  store.hooks.set(event, keep);
  store.count = [...store.hooks.values()].reduce((n, l) => n + l.length, 0);
  return keep.length !== list.length;
}

/** The hooks of an event (names and functions), for tools and tests. */
export function hooksOf(event: RequestEvent): Array<{ name?: string; fn: HookFn }> {
  return (store.hooks.get(event) ?? []).map((h) => ({ ...h }));
}

class HookError extends Error {
  constructor(readonly event: string, readonly hook: string, readonly error: unknown) {
    super(`request hook ${hook} on ${event} failed: ${(error as Error)?.message ?? String(error)}`);
  }
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | null)?.then === 'function';

/** Calls every hook of `event`; a promise only when one of them returned one. */
function run(event: string, args: unknown[]): void | Promise<void> {
  const list = store.hooks.get(event);
  if (!list?.length) return;
  let pending: Array<Promise<void>> | undefined;
  for (const h of list) {
    let r: unknown;
    try {
      r = h.fn(...args);
    } catch (e) {
      throw new HookError(event, labelOf(h), e);
    }
    if (isThenable(r)) (pending ??= []).push(Promise.resolve(r).then(NOOP, (e: unknown) => { throw new HookError(event, labelOf(h), e); }));
  }
  if (!pending) return;
  // the common case, one async hook: no Promise.all (fewer promises per request)
  return pending.length === 1 ? pending[0] : Promise.all(pending).then(NOOP);
}

const NOOP = (): void => undefined;
const labelOf = (h: Registered) => h.name ?? (h.fn.name || 'anonymous');

/** run(), then `next` — synchronously when no hook returned a promise. */
function then(event: string, args: unknown[], next: () => void, fail: (e: unknown) => void): void {
  let r: void | Promise<void>;
  try {
    r = run(event, args);
  } catch (e) {
    fail(e);
    return;
  }
  if (r) r.then(next, fail);
  else next();
}

const has = (event: string) => (store.hooks.get(event)?.length ?? 0) > 0;

function cancel(e: unknown, socket: net.Socket | null | undefined, req?: http.IncomingMessage, res?: http.ServerResponse): void {
  const h = e instanceof HookError ? e : new HookError('?', '?', e);
  log('worker').error({ event: h.event, hook: h.hook, error: (h.error as Error)?.message ?? String(h.error), url: req?.url }, 'request hook failed, request cancelled');
  const destroy = () => {
    req?.destroy();
    res?.destroy();
    socket?.destroy();
  };
  // a response a hook sent before failing reaches the client first
  if (res?.writableEnded && !res.writableFinished) res.once('finish', destroy).once('close', destroy);
  else destroy();
}

/** body-chunk for each chunk, then (empty chunk, last = true) and body-complete at the end. */
function watchBody(req: http.IncomingMessage, res: http.ServerResponse): void {
  const emit = req.emit;
  let chain: Promise<void> | undefined;
  req.emit = function (this: http.IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'data' && event !== 'end') return emit.call(this, event, ...args);
    const hooks = (): void | Promise<void> => {
      if (event === 'data') return run('body-chunk', [req, args[0], false]);
      const r = run('body-chunk', [req, Buffer.alloc(0), true]);
      return r ? r.then(() => run('body-complete', [req])) : run('body-complete', [req]);
    };
    const deliver = () => void emit.call(this, event, ...args);
    const fail = (e: unknown) => cancel(e, req.socket, req, res);
    // deliver once `pending` resolved, after every event held before it;
    // the stream resumes when the last held event went through
    const hold = (pending: Promise<void>): boolean => {
      const mine: Promise<void> = pending.then(deliver).then(() => {
        if (chain === mine) {
          chain = undefined;
          req.resume();
        }
      });
      chain = mine;
      mine.catch(fail);
      return true;
    };
    if (chain) return hold(chain.then(hooks));
    let r: void | Promise<void>;
    try {
      r = hooks();
    } catch (e) {
      fail(e);
      return true;
    }
    if (!r) return emit.call(this, event, ...args);
    // a hook is pending: hold the stream, deliver in order once it resolved
    req.pause();
    return hold(r);
  } as typeof req.emit;
}

/** response-started around writeHead (explicit or implicit), response-finished on 'finish'. */
function watchResponse(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (has('response-started')) {
    const writeHead = res.writeHead;
    res.writeHead = function (this: http.ServerResponse, status: number, ...rest: unknown[]) {
      res.writeHead = writeHead;
      const extra = rest.find((r) => r && typeof r === 'object' && !Array.isArray(r)) as http.OutgoingHttpHeaders | undefined;
      let r: void | Promise<void>;
      try {
        r = run('response-started', [res, req, status, { ...res.getHeaders(), ...extra }]);
      } catch (e) {
        cancel(e, req.socket, req, res);
        return res;
      }
      if (r) {
        // hold the bytes of the response in the socket until the hooks resolved
        const socket = req.socket;
        socket.cork();
        r.then(() => socket.uncork(), (e: unknown) => cancel(e, socket, req, res));
      }
      return (writeHead as (...a: unknown[]) => http.ServerResponse).call(this, status, ...rest);
    } as typeof res.writeHead;
  }
  if (has('response-finished')) res.once('finish', () => then('response-finished', [req, res], () => undefined, (e) => cancel(e, req.socket, req, res)));
}

function onRequest(emit: (...a: unknown[]) => boolean, server: http.Server, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const fail = (e: unknown) => cancel(e, req.socket, req, res);
  if (has('body-chunk') || has('body-complete')) watchBody(req, res);
  watchResponse(req, res);
  then('parsed-headers', [req], () => then('pre-route', [req, res], () => {
    if (req.destroyed) return;
    // a pre-route hook answered (401 ...): the app is not called
    if (res.headersSent || res.writableEnded) return;
    emit.call(server, 'request', req, res);
    if (has('post-route')) then('post-route', [req, res], () => undefined, fail);
  }, fail), fail);
  return true;
}

const attached = new WeakSet<net.Server>();

/** The seam: every http.Server that serves a liege socket goes through here once. */
export function attachRequestHooks(server: http.Server): void {
  if (attached.has(server)) return;
  attached.add(server);
  const emit = server.emit as (...a: unknown[]) => boolean;
  // no rest parameters: the path without hooks stays a test and an apply
  server.emit = function (this: http.Server, event: string | symbol, a?: unknown, b?: unknown): boolean {
    // eslint-disable-next-line prefer-rest-params
    if (store.count === 0) return emit.apply(this, arguments as unknown as unknown[]);
    if (event === 'request') return onRequest(emit, this, a as http.IncomingMessage, b as http.ServerResponse);
    if (event === 'connection' && has('connect')) {
      const socket = a as net.Socket;
      // until the server's own listeners are on it, a client's reset must
      // not be an uncaught 'error' (it ended the worker and its requests)
      const reset = () => socket.destroy();
      socket.on('error', reset);
      then('connect', [socket], () => {
        emit.call(this, event, socket);
        socket.off('error', reset);
      }, (e) => cancel(e, socket));
      return true;
    }
    // eslint-disable-next-line prefer-rest-params
    return emit.apply(this, arguments as unknown as unknown[]);
  } as typeof server.emit;
}
