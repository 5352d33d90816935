// The public `liege` module: what `require('liege')` / `import … from
// 'liege'` gives an app. Request hooks (docs/hooks.md#request-hooks):
//   addHook('pre-route', async (req, res) => { … }, 'auth');
//   removeHook('pre-route', 'auth');
// and logvars of the request log: logvar(req, 'user_id', id).
// Outside a liege worker the calls work and nothing runs them.
import * as hooks from '../worker/request-hooks';

/** The request events, in the order they happen in one request. */
export type RequestEvent = hooks.RequestEvent;
/** A hook function; returning a promise makes liege wait for it. */
export type HookFn = hooks.HookFn;

/** Adds `fn` on `event` (a hook of the same name on that event is replaced).
 * Arguments by event: connect(socket), parsed-headers(req),
 * pre-route(req, res), post-route(req, res), body-chunk(req, chunk, last),
 * body-complete(req), response-started(res, req, status, headers),
 * response-finished(req, res). A throw or a rejection cancels the request:
 * it and its connection are destroyed without a response (send one first
 * if the client should see it). */
export function addHook(event: RequestEvent, fn: HookFn, name?: string): void {
  hooks.addHook(event, fn, name);
}

/** Removes the hooks of `event` that are `fnOrName` (the function or its name); true if any was. */
export function removeHook(event: RequestEvent, fnOrName: HookFn | string): boolean {
  return hooks.removeHook(event, fnOrName);
}

/** The hooks registered on `event` in run order (names and functions). */
export function listHooks(event: RequestEvent): Array<{ name?: string; fn: HookFn }> {
  return hooks.hooksOf(event);
}

/** Every request event. */
export const REQUEST_EVENTS: readonly RequestEvent[] = hooks.EVENTS;

// the request's logvars, read by the worker's request log (worker/log-format.ts)
const LOGVARS = Symbol.for('liege.logvars');

/** Sets a logvar of the request: `%(name)` in the `logformat` of its log
 * line (uWSGI's `uwsgi.set_logvar`). */
export function logvar(req: object, name: string, value: string): void {
  const r = req as { [LOGVARS]?: Map<string, string> };
  r[LOGVARS] ??= new Map();
  r[LOGVARS].set(name, String(value));
}
