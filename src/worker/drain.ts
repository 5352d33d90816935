// The worker owns the drain, not the app (DESIGN: lossless by construction).
// Reload, chain reload and every recycling reason end a worker the same way:
//  1. stop accepting (the listening socket stays open in the master and the
//     other workers, so the kernel hands new connections to them);
//  2. every response from now on says `Connection: close` (in-flight ones too
//     when their headers are not sent yet), so a keep-alive client moves to
//     another worker after its current request;
//  3. an idle keep-alive connection is never closed under a client that may
//     be sending on it: it is closed after its next response, by the client,
//     or by Node's keep-alive timeout (the normal idle close every HTTP client
//     handles); the mercy is the last resort. Not so on a stop (SIGINT from
//     the master, or the master gone): no generation takes the clients over,
//     and nginx's idle upstream connections would hold the stop for the
//     app's keep-alive timeout (fastify's: 72 s; `docker stop` SIGKILLs at
//     10 s), so idle ones are closed at once and as they turn idle, as
//     Node's own server.close() does;
//  4. then the app's own SIGTERM/SIGINT listeners run (cleanup; already
//     once only WebSockets and event streams are left, which are the app's
//     to end), and the worker exits once its request log lines are written.
// A naive app that calls `server.close()` (which in Node >= 19 also closes
// idle keep-alive connections at once, racing clients) or installs its own
// SIGTERM handler cannot break this: its listeners are held back until the
// drain is done and `close()` on a served server joins the drain.
import * as http from 'node:http';
import * as net from 'node:net';
import { servesHttp } from './http-server';
import { ACCEPTED } from './protocols/index';
import { afterRequestLog } from './request-log';

type Listener = (...args: unknown[]) => void;

interface Tracked {
  sockets: Set<net.Socket>; // open connections (a response in flight: socket._httpMessage)
  shared?: boolean; // the app's server on a shared port, not on a liege socket
}

const DRAIN_SIGNALS = new Set(['SIGTERM', 'SIGINT']);
const IDLE_CLOSE_MS = 100;
const FRESH_GRACE_MS = 2000;

export class Drain {
  private draining = false;
  private readonly tracked = new Map<net.Server, Tracked>();
  private readonly appListeners: Array<{ signal: string; fn: Listener }> = [];
  private done?: () => void;

  /** Held-back app signal listeners, and close() of served servers routed
   * here. Installed before the app is loaded. */
  interceptApp(): void {
    const drain = this;
    const on = process.on.bind(process);
    type On = (event: string | symbol, fn: Listener) => NodeJS.Process;
    const hold = (orig: On) =>
      function (this: NodeJS.Process, event: string | symbol, fn: Listener): NodeJS.Process {
        if (typeof event === 'string' && DRAIN_SIGNALS.has(event) && !drain.ownListener) {
          drain.appListeners.push({ signal: event, fn });
          return process;
        }
        return orig.call(process, event, fn);
      };
    process.on = hold(on as On) as typeof process.on;
    process.addListener = process.on;
    process.once = hold(process.once.bind(process) as On) as typeof process.once;
    process.prependListener = hold(process.prependListener.bind(process) as On) as typeof process.prependListener;
    // an app that resets its signal handlers (removeAllListeners('SIGTERM'),
    // off()) removes its own held ones, never the drain's: without it a
    // SIGTERM would end the worker at once, its requests with it
    const off = process.removeListener.bind(process) as On;
    process.removeListener = function (event: string | symbol, fn: Listener): NodeJS.Process {
      if (typeof event === 'string' && DRAIN_SIGNALS.has(event)) drain.forget(event, fn);
      return off(event, fn);
    } as typeof process.removeListener;
    process.off = process.removeListener;
    const removeAll = process.removeAllListeners.bind(process);
    // an app's removeAllListeners() (every event) removes the app's own:
    // the listeners from before the app stay, and the drain's. Among them
    // Node's newListener/removeListener hooks that start and stop the
    // signal watchers: without them no signal listener added later (the
    // drain's) was ever called, and a SIGTERM ended the worker at once, its
    // requests with it (a SIGUSR1 too: inspector-signal.ts)
    const listenersOf = (e: string | symbol) => (process as NodeJS.EventEmitter).listeners(e) as Listener[];
    const before = new Map(process.eventNames().map((e) => [e, listenersOf(e)]));
    process.removeAllListeners = function (event?: string | symbol): NodeJS.Process {
      if (typeof event === 'string' && DRAIN_SIGNALS.has(event)) {
        drain.forget(event);
        return process;
      }
      if (event !== undefined) return removeAll(event);
      drain.forget();
      for (const name of process.eventNames()) {
        const keep = before.get(name) ?? [];
        for (const fn of listenersOf(name)) {
          if (!keep.includes(fn) && !drain.own.some((o) => o.fn === fn)) off(name, fn);
        }
      }
      return process;
    } as typeof process.removeAllListeners;
    const close = http.Server.prototype.close;
    http.Server.prototype.close = function (this: http.Server, cb?: (err?: Error) => void) {
      // (closing a metrics port's server is no wish to end the worker)
      if (!drain.tracked.has(this) || drain.tracked.get(this)!.shared) return close.call(this, cb);
      drain.start('the app closed its server');
      if (cb) drain.whenDone(() => cb());
      return this;
    };
  }

  private ownListener = false;
  private readonly own: Array<{ signal: NodeJS.Signals; fn: () => void }> = [];

  /** Our own SIGTERM/SIGINT listener (not held back). */
  onSignal(signal: NodeJS.Signals, fn: () => void): void {
    this.ownListener = true;
    process.on(signal, fn);
    this.ownListener = false;
    this.own.push({ signal, fn });
  }

  // the app removed held listeners: `fn` of `signal`, all of `signal`, or all
  private forget(signal?: string, fn?: Listener): void {
    for (let i = this.appListeners.length - 1; i >= 0; i--) {
      const l = this.appListeners[i]!;
      if (signal !== undefined && l.signal !== signal) continue;
      if (fn !== undefined && l.fn !== fn) continue;
      this.appListeners.splice(i, 1);
    }
  }

  /** Follow the connections of the served servers. Per request there is
   * nothing here: the request observer says `Connection: close` once
   * draining (observe.ts), so a request costs no listener of ours. */
  track(servers: net.Server[], shared = false): void {
    for (const s of servers) {
      const t: Tracked = { sockets: new Set(), shared };
      this.tracked.set(s, t);
      const follow = (sock: net.Socket) => {
        if (t.sockets.has(sock)) return;
        t.sockets.add(sock);
        sock.once('close', () => {
          t.sockets.delete(sock);
          this.check();
        });
      };
      s.on('connection', follow);
      // from the accept on, before the socket's protocol adapter delivers it
      s.on(ACCEPTED, follow);
      // an app's https.Server: its requests are on the TLS socket made
      // after the handshake (the raw one above carries no response)
      s.on('secureConnection', follow);
    }
  }

  // the app's non-HTTP servers on shared ports: they stop accepting with
  // the others, their connections (a protocol liege cannot end cleanly) end
  // with the worker, as before
  private readonly unserved = new Set<net.Server>();

  /** An app's server on a shared port (a metrics port: shared-ports.ts in
   * the master): it stops accepting when the drain starts, as liege's
   * sockets do, and an HTTP one's connections are drained as theirs: no
   * request observer wraps it (its requests are not liege's to log or
   * count), so its responses are told `Connection: close` here. */
  trackShared(s: net.Server): void {
    // a listen() made after the drain started (an app that listens late)
    s.on('listening', () => {
      if (this.draining) net.Server.prototype.close.call(s);
    });
    if (!servesHttp(s)) {
      this.unserved.add(s);
      return;
    }
    this.track([s], true);
    s.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      if (this.draining) res.shouldKeepAlive = false;
    });
  }

  tracks(s: net.Server): boolean {
    return this.tracked.has(s);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Stop accepting; exit through `exit` once every connection is gone.
   * `closeIdle` (a stop): idle keep-alive connections are closed too. */
  start(reason: string, mercyMs = 60_000, exit: (reason: string) => void = () => afterRequestLog(() => process.exit(0)), closeIdle = false): void {
    if (closeIdle) this.closeIdleConnections();
    if (this.draining) return;
    this.draining = true;
    this.done = () => this.finish(exit, reason);
    for (const s of this.unserved) if (s.listening) net.Server.prototype.close.call(s);
    for (const [s, t] of this.tracked) {
      if (s.listening) net.Server.prototype.close.call(s);
      for (const sock of t.sockets) {
        const res = (sock as net.Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
        if (res && !res.headersSent) res.shouldKeepAlive = false;
      }
    }
    setTimeout(() => {
      for (const t of this.tracked.values()) for (const sock of t.sockets) sock.destroy();
      this.finish(exit, `${reason} (mercy of ${mercyMs} ms expired)`);
    }, mercyMs).unref();
    this.check();
  }

  private idleCloser?: NodeJS.Timeout;

  // now, then as responses end: a connection whose response was under way
  // (its `Connection: keep-alive` sent) turns idle after it. Node counts a
  // connection that sent nothing yet as busy (its request may be on the
  // way): one that sent nothing within FRESH_GRACE_MS (a browser's
  // preconnect) is closed then, as single-drain.ts does; it held the stop
  // for the whole mercy
  private closeIdleConnections(): void {
    if (this.idleCloser) return;
    const freshUntil = Date.now() + FRESH_GRACE_MS;
    // (an https.Server, of an app that terminates TLS itself on a liege
    // socket, is no http.Server but has the method: its connections too)
    const close = () => {
      for (const [s, t] of this.tracked) {
        (s as Partial<http.Server>).closeIdleConnections?.();
        if (Date.now() >= freshUntil) for (const sock of t.sockets) if (sock.bytesRead === 0) sock.destroy();
      }
    };
    close();
    this.idleCloser = setInterval(close, IDLE_CLOSE_MS);
    this.idleCloser.unref();
  }

  private whenDoneCbs: Array<() => void> = [];

  private whenDone(cb: () => void): void {
    this.whenDoneCbs.push(cb);
  }

  private check(): void {
    if (!this.draining || !this.done) return;
    if (!this.appListenersRan) {
      for (const t of this.tracked.values()) for (const sock of t.sockets) if (!upgraded(sock) && !eventStream(sock)) return;
      // only upgraded connections (WebSockets) and event streams (SSE) are
      // left: no short request can be lost now, and the app's own shutdown
      // code is what closes them its way (ws: close(1001); SSE: a last
      // event, end()), so the clients move to the new workers at once
      // instead of being cut off at the mercy
      this.runAppListeners();
    }
    for (const t of this.tracked.values()) if (t.sockets.size > 0) return;
    const done = this.done;
    this.done = undefined;
    done();
  }

  private finished = false;

  private finish(exit: (reason: string) => void, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    for (const cb of this.whenDoneCbs.splice(0)) cb();
    this.runAppListeners();
    setTimeout(() => exit(reason), this.appListeners.length ? 1000 : 0).unref();
  }

  private appListenersRan = false;

  // the app's own shutdown code runs once no request can be lost
  private runAppListeners(): void {
    if (this.appListenersRan) return;
    this.appListenersRan = true;
    for (const { signal, fn } of this.appListeners) {
      try {
        fn(signal);
      } catch { /* the app's cleanup failing does not keep the worker alive */ }
    }
  }
}

// A response of server-sent events in flight (its headers sent): long-lived
// by nature, ended by the app (EventSource clients reconnect by themselves).
// Node keeps the head as sent in `_header` (getHeader() does not see the
// headers given to writeHead())
function eventStream(sock: net.Socket): boolean {
  const res = (sock as net.Socket & { _httpMessage?: { _header?: string | null } | null })._httpMessage;
  const head = res?._header;
  return typeof head === 'string' && /\r\ncontent-type:[ \t]*text\/event-stream/i.test(head);
}

// A connection the HTTP server handed to the app's 'upgrade' listener: Node
// frees its parser (null; a socket that never had one is not upgraded)
function upgraded(sock: net.Socket): boolean {
  return (sock as net.Socket & { parser?: unknown }).parser === null;
}
