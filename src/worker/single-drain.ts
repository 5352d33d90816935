// How a single-process instance (single.ts) ends its requests before a stop
// or a reload's re-exec. A reload stops accepting first (the listening
// sockets stay open: each fd is moved to a copy the next image inherits,
// so connections that come meanwhile wait in the backlog for it); then
// idle keep-alive connections are closed, but never one that has not sent
// its first request yet: it was accepted a moment ago and its request is on
// the way (closing it was an empty reply; a HUP storm lost ~2% of requests).
// Such a connection gets FRESH_GRACE_MS to send it, then is closed. Once
// the requests are done, the app's own SIGTERM/SIGINT listeners (held back
// while serving: held-signals.ts) run, as a drained worker's do.
import * as http from 'node:http';
import * as net from 'node:net';
import { log } from '../log';
import { native } from '../os/native';
import { APP_SHUTDOWN_MS, FRESH_GRACE_MS, type DrainSignal } from './drain';
import type { HeldSignals } from './held-signals';
import { followTlsSockets, servesHttp } from './http-server';
import type { RequestObserver } from './observe';

/** What bounds a drain, and the option that sets it (for the log). */
export interface Mercy { ms: number; name: string }

/** The drain state the observer reads (responses say `Connection: close`
 * once draining) and tells of each request that ends. */
export interface Inflight { isDraining: boolean; ended?: () => void }

/** The connections of the served servers, and which have sent a request. */
export class Connections {
  private readonly open = new Set<net.Socket>();
  private readonly used = new WeakSet<net.Socket>();
  // the raw sockets under an app's TLS sockets (an app that terminates TLS
  // itself): its requests and responses are on the TLS socket, which is
  // judged instead (the raw one, never "used" nor busy, was closed with a
  // request in flight once the grace was over)
  private readonly underTls = new WeakSet<net.Socket>();

  watch(server: net.Server): void {
    const follow = (c: net.Socket) => {
      this.open.add(c);
      c.once('close', () => this.open.delete(c));
    };
    server.on('connection', follow);
    followTlsSockets(server, this.underTls, follow);
    if (servesHttp(server)) server.on('request', (req: http.IncomingMessage) => this.used.add(req.socket));
  }

  /** Closes the idle connections that served a request; true while a fresh
   * one (no request yet) is open. `late`: close the fresh ones too. */
  closeIdle(late: boolean): boolean {
    let fresh = false;
    for (const c of this.open) {
      if (this.underTls.has(c)) continue;
      const busy = (c as net.Socket & { _httpMessage?: unknown })._httpMessage;
      if (busy) continue;
      if (this.used.has(c) || late) c.destroy();
      else fresh = true;
    }
    return fresh;
  }
}

/** Resolves when no request is in flight and no fresh connection is open
 * (idle ones closed), or when the mercy expires (a warning naming the
 * option and `reason`: the requests left are cut). */
export function idle(conns: Connections, s: Inflight, observer: RequestObserver, mercy: Mercy, reason: string): Promise<void> {
  s.isDraining = true;
  const start = Date.now();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(expiry); clearInterval(poll); resolve(); };
    const expiry = setTimeout(() => {
      const n = observer.inFlight;
      log('instance').warn({ reason, mercy_ms: mercy.ms, in_flight: n }, `drain mercy (${mercy.name} = ${mercy.ms / 1000} s) expired (${reason}): closing ${n} request${n === 1 ? '' : 's'} in flight`);
      done();
    }, mercy.ms);
    const check = () => {
      const fresh = conns.closeIdle(Date.now() - start >= FRESH_GRACE_MS);
      if (observer.inFlight === 0 && !fresh) done();
    };
    // a fresh connection's request starts one (ended then hears of it); one
    // that sends nothing is closed once the grace is over
    const poll = setInterval(check, 100);
    s.ended = check;
    check();
  });
}

/** Stops accepting on the servers' listening sockets, each kept open under
 * a new fd (close-on-exec until the re-exec hands it over): `moved(from, to)`. */
export function stopAccepting(servers: net.Server[], moved: (from: number, to: number) => void): void {
  for (const srv of servers) {
    const fd = (srv as net.Server & { _handle?: { fd?: number } | null })._handle?.fd;
    if (typeof fd === 'number' && fd >= 0) moved(fd, native.dupFd(fd));
    closeListener(srv);
  }
}

/** Stop listening only: http.Server's close() (Node >= 19) also closes
 * the idle connections at once, the fresh ones with them. */
function closeListener(srv: net.Server): void {
  net.Server.prototype.close.call(srv);
}

/** A stop: the listeners closed, then the in-flight requests awaited. */
export async function drain(servers: net.Server[], conns: Connections, s: Inflight, observer: RequestObserver, mercy: Mercy, reason: string): Promise<void> {
  for (const srv of servers) closeListener(srv);
  await idle(conns, s, observer, mercy, reason);
}

/** The app's shutdown listeners of `signal` (or the other's: HeldSignals.run),
 * now that its requests are done; they get APP_SHUTDOWN_MS for async
 * cleanup. A process.exit() they call ends that wait, not the process: the
 * instance still ends its way (the app's children, the atexit hooks,
 * vacuum; a reload's exec), which a naive app's exit on SIGTERM skipped. */
export function appShutdown(held: HeldSignals, signal: DrainSignal): Promise<void> {
  if (held.count === 0) return Promise.resolve();
  const exit = process.exit;
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(wait);
      process.exit = exit;
      resolve();
    };
    const wait = setTimeout(done, APP_SHUTDOWN_MS);
    process.exit = ((code?: number | string | null) => {
      log('instance').info({ code }, 'the app called process.exit() in its shutdown listener: the instance ends its own way');
      done();
    }) as typeof process.exit;
    held.run(signal);
  });
}
