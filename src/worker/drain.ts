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
//     Node's own server.close() does. A connection that has sent nothing
//     (a browser's preconnect, a TLS client after its handshake) is closed
//     once it has sent nothing for FRESH_GRACE_MS of the drain, on a reload
//     as on a stop (README "Reload drains": why);
//  4. then the app's own listeners of the signal that started the drain run
//     (cleanup: SIGTERM for a reload or a recycling, SIGINT for a stop; the
//     other signal's only when the app has none for it, so an app written
//     for PM2, which listens for both, cleans up once), already once only
//     WebSockets and event streams are left, which are the app's to end;
//     the worker exits once its request log lines are written.
// A draining worker that has waited DRAIN_REPORT_FIRST_MS says what it waits
// for, then every DRAIN_REPORT_EVERY_MS; its mercy expiring is a warning.
// A naive app that calls `server.close()` (which in Node >= 19 also closes
// idle keep-alive connections at once, racing clients) or installs its own
// SIGTERM handler cannot break this: its listeners are held back until the
// drain is done and `close()` on a served server joins the drain.
import * as http from 'node:http';
import * as net from 'node:net';
import { log } from '../log';
import { followTlsSockets, servesHttp } from './http-server';
import { ACCEPTED } from './protocols/index';
import { afterRequestLog } from './request-log';
import { HeldSignals } from './held-signals';

interface Tracked {
  sockets: Set<net.Socket>; // open connections (a response in flight: socket._httpMessage)
  shared?: boolean; // the app's server on a shared port, not on a liege socket
}

const IDLE_CLOSE_MS = 100;
const SIGNAL_NAME = /^SIG[A-Z0-9]+$/;
/** How long a connection that has sent nothing may stay in a drain. */
export const FRESH_GRACE_MS = 2000;
/** What the app's own shutdown listeners get once the requests are done. */
export const APP_SHUTDOWN_MS = 1000;
const DRAIN_REPORT_FIRST_MS = 5000;
const DRAIN_REPORT_EVERY_MS = 10_000;

/** The signal whose app listeners a drain runs: SIGTERM (reload, recycling,
 * the app closing its server), SIGINT (a stop). */
export type DrainSignal = 'SIGTERM' | 'SIGINT';

/** How a drain ends: its mercy (and the option that set it, for the log),
 * the exit, whether idle keep-alive connections are closed (a stop), and
 * the signal whose app listeners run. */
export interface DrainOptions {
  mercyMs?: number;
  mercyName?: string;
  exit?: (reason: string) => void;
  closeIdle?: boolean;
  signal?: DrainSignal;
}

export class Drain {
  private draining = false;
  private readonly tracked = new Map<net.Server, Tracked>();
  private readonly held = new HeldSignals();
  // the raw sockets under an app's TLS sockets: the TLS socket says what
  // the client sent (its bytesRead counts cleartext, the request; the raw
  // one has read the handshake) and is the connection counted
  private readonly underTls = new WeakSet<net.Socket>();
  // the app's non-HTTP servers on shared ports: they stop accepting with
  // the others, their connections (a protocol liege cannot end cleanly) end
  // with the worker, as before
  private readonly unserved = new Set<net.Server>();
  private signal: DrainSignal = 'SIGTERM';
  private reason = '';
  private closeIdle = false; // a stop: idle keep-alive connections are closed too
  private done?: () => void;
  private finished = false;
  private appListenersRan = false;
  private readonly whenDoneCbs: Array<() => void> = [];
  private reporter?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private mercy = ''; // what bounds the drain, for the log: "worker-reload-mercy = 60 s"
  private mercyEnds = Infinity;
  private mercyTimer?: NodeJS.Timeout;
  private exit: (reason: string) => void = () => undefined;

  /** Held-back app signal listeners, and close() of served servers routed
   * here. Installed before the app is loaded. */
  interceptApp(): void {
    const drain = this;
    this.held.install();
    const close = http.Server.prototype.close;
    http.Server.prototype.close = function (this: http.Server, cb?: (err?: Error) => void) {
      // (closing a metrics port's server is no wish to end the worker)
      if (!drain.tracked.has(this) || drain.tracked.get(this)!.shared) return close.call(this, cb);
      drain.start('the app closed its server', { signal: 'SIGTERM' });
      if (cb) drain.whenDone(() => cb());
      return this;
    };
  }

  /** Our own SIGTERM/SIGINT listener (not held back). */
  onSignal(signal: NodeJS.Signals, fn: () => void): void {
    this.held.listen(signal, fn);
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
      followTlsSockets(s, this.underTls, follow);
    }
  }

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
   * `closeIdle` (a stop): idle keep-alive connections are closed too. A
   * stop that comes during a drain closes them from then on, and its
   * mercy bounds the drain when it ends sooner. */
  start(reason: string, opts: DrainOptions = {}): void {
    const { mercyMs = 60_000, exit = () => afterRequestLog(() => process.exit(0)), closeIdle = false } = opts;
    if (closeIdle) this.closeIdle = true;
    if (this.draining) {
      if (Date.now() + mercyMs < this.mercyEnds) this.armMercy(mercyMs, opts.mercyName);
      return;
    }
    this.draining = true;
    this.reason = reason;
    this.signal = opts.signal ?? (closeIdle ? 'SIGINT' : 'SIGTERM');
    this.exit = exit;
    this.done = () => this.finish(exit, this.reason);
    for (const s of this.unserved) if (s.listening) net.Server.prototype.close.call(s);
    for (const [s, t] of this.tracked) {
      if (s.listening) net.Server.prototype.close.call(s);
      for (const sock of t.sockets) {
        const res = (sock as net.Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
        if (res && !res.headersSent) res.shouldKeepAlive = false;
      }
    }
    this.sweepConnections();
    this.armMercy(mercyMs, opts.mercyName);
    this.reportLater(Date.now());
    this.check();
  }

  // the drain's last resort: what is left is closed, and it ends
  private armMercy(mercyMs: number, mercyName: string | undefined): void {
    clearTimeout(this.mercyTimer);
    this.mercy = mercyName ? `${mercyName} = ${mercyMs / 1000} s` : `${mercyMs} ms`;
    this.mercyEnds = Date.now() + mercyMs;
    this.mercyTimer = setTimeout(() => {
      if (this.finished) return;
      const w = this.waitingFor();
      const reason = this.reason;
      log('worker').warn({ reason, mercy_ms: mercyMs, ...counted(w) }, `drain mercy (${this.mercy}) expired (${reason}): closing ${describe(w)}`);
      for (const t of this.tracked.values()) {
        for (const sock of t.sockets) sock.destroy();
      }
      this.finish(this.exit, `${reason} (mercy of ${mercyMs} ms expired)`);
    }, mercyMs);
    this.mercyTimer.unref();
  }

  // what it waits for, once it has waited a while, then now and then: a
  // drain that lingers says so (before: only "old worker gone" at the end)
  private reportLater(startedAt: number): void {
    const report = () => {
      if (this.finished) return;
      const w = this.waitingFor();
      const seconds = Math.round((Date.now() - startedAt) / 1000);
      const reason = this.reason;
      log('worker').info({ reason, draining_s: seconds, ...counted(w) }, `still draining (${reason}) after ${seconds} s, waiting for ${describe(w)}; the mercy (${this.mercy}) ends it`);
      this.reporter = setTimeout(report, DRAIN_REPORT_EVERY_MS);
      this.reporter.unref();
    };
    this.reporter = setTimeout(report, DRAIN_REPORT_FIRST_MS);
    this.reporter.unref();
  }

  /** Why the drain is (the master tells it with the signal: a reload, a
   * recycling's reason, a stop): a drain started by the bare signal,
   * before the message came, is named by it from now on. */
  because(reason: string): void {
    if (this.draining && SIGNAL_NAME.test(this.reason)) this.reason = reason;
  }

  // now, then every IDLE_CLOSE_MS. A stop closes idle keep-alive
  // connections, and those that turn idle after their response (whose
  // `Connection: keep-alive` was sent). Node counts a connection that sent
  // nothing yet as busy (its request may be on the way): one that sent
  // nothing within FRESH_GRACE_MS of the drain (a browser's preconnect, a
  // TLS client after its handshake) is closed then, as single-drain.ts
  // does, on a reload too: it held the drain for the whole mercy, where it
  // was closed all the same
  private sweepConnections(): void {
    if (this.sweeper) return;
    const freshUntil = Date.now() + FRESH_GRACE_MS;
    // (an https.Server, of an app that terminates TLS itself on a liege
    // socket, is no http.Server but has the method: its connections too)
    const sweep = () => {
      for (const [s, t] of this.tracked) {
        if (this.closeIdle) (s as Partial<http.Server>).closeIdleConnections?.();
        if (Date.now() < freshUntil) continue;
        for (const sock of t.sockets) {
          if (this.kind(sock) === 'silent') sock.destroy();
        }
      }
    };
    sweep();
    this.sweeper = setInterval(sweep, IDLE_CLOSE_MS);
    this.sweeper.unref();
  }

  // what a tracked socket is to the drain
  private kind(sock: net.Socket): 'under-tls' | 'in-flight' | 'upgraded' | 'stream' | 'silent' | 'idle' {
    if (this.underTls.has(sock)) return 'under-tls';
    if (upgraded(sock)) return 'upgraded';
    if (eventStream(sock)) return 'stream';
    if ((sock as net.Socket & { _httpMessage?: unknown })._httpMessage) return 'in-flight';
    // nothing read: no request on the way (a TLS socket counts the
    // cleartext it read, a raw one under a handshake never gets here)
    if (sock.bytesRead === 0) return 'silent';
    return 'idle';
  }

  /** The connections the drain waits for, by kind (the log's fields). */
  private waitingFor(): Waiting {
    const w: Waiting = { in_flight: 0, idle: 0, silent: 0, websockets: 0, event_streams: 0 };
    for (const t of this.tracked.values()) {
      for (const sock of t.sockets) {
        const k = this.kind(sock);
        if (k === 'in-flight') w.in_flight++;
        else if (k === 'idle') w.idle++;
        else if (k === 'silent') w.silent++;
        else if (k === 'upgraded') w.websockets++;
        else if (k === 'stream') w.event_streams++;
      }
    }
    return w;
  }

  private whenDone(cb: () => void): void {
    this.whenDoneCbs.push(cb);
  }

  private check(): void {
    if (!this.draining || !this.done) return;
    if (!this.appListenersRan) {
      for (const t of this.tracked.values()) {
        for (const sock of t.sockets) {
          if (!upgraded(sock) && !eventStream(sock)) return;
        }
      }
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

  private finish(exit: (reason: string) => void, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.reporter);
    clearTimeout(this.mercyTimer);
    clearInterval(this.sweeper);
    for (const cb of this.whenDoneCbs.splice(0)) cb();
    this.runAppListeners();
    setTimeout(() => exit(reason), this.held.count ? APP_SHUTDOWN_MS : 0).unref();
  }

  // the app's own shutdown code runs once no request can be lost
  private runAppListeners(): void {
    this.appListenersRan = true;
    this.held.run(this.signal);
  }
}

interface Waiting { in_flight: number; idle: number; silent: number; websockets: number; event_streams: number }

// the log's fields: the kinds there are (a quiet line)
function counted(w: Waiting): Partial<Waiting> {
  return Object.fromEntries(Object.entries(w).filter(([, n]) => n > 0));
}

// "1 request in flight, 3 connections that sent nothing"
function describe(w: Waiting): string {
  const parts: string[] = [];
  const n = (k: number, one: string, many: string) => {
    if (k > 0) parts.push(`${k} ${k === 1 ? one : many}`);
  };
  n(w.in_flight, 'request in flight', 'requests in flight');
  n(w.idle, 'idle connection (or a request arriving)', 'idle connections (or requests arriving)');
  n(w.silent, 'connection that sent nothing', 'connections that sent nothing');
  n(w.websockets, 'WebSocket', 'WebSockets');
  n(w.event_streams, 'event stream', 'event streams');
  return parts.length ? parts.join(', ') : 'the app\'s shutdown';
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
