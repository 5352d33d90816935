// What a worker sees of each request, in O(1) memory work per request and
// no message: counters (sent to the master with the heartbeat, once a
// second), the start of the oldest request in flight in the busy slot shared
// with the master (harakiri reads it even while a handler blocks the loop),
// `Connection: close` once draining, and the request log line
// (request-log.ts: a few fields stored per request, formatted in batches).
// The hook is a wrapper around the server's emit, not a 'request' listener
// (Node's emit keeps its one-listener path), and the end of a request is one
// 'close' listener shared by every response (no closure per request).
// bench/README.md has the cost against a bare http.Server.
import type * as http from 'node:http';
import { markBusy, type BusySlot } from '../ipc/busy-slot';
import type { BusyInfo, WorkerCounters, WorkerMessage, WorkerSpec } from '../ipc/worker';
import { log } from '../log';
import { epochMs } from '../os/clock';
import { logForwardedFor, logRequest, useLogFormat, useRequestLogFd } from './request-log';

const START = Symbol('liege.start'); // epoch ms (sub-ms precision)
const SENT = Symbol('liege.sent'); // the socket's bytesWritten at the start
type Res = http.ServerResponse & { [START]: number; [SENT]: number };

type Counted = { _bytesDispatched?: number; bytesWritten?: number } | null | undefined;

// nginx's status for a request whose client closed the connection before the response
const CLIENT_CLOSED = 499;

// Bytes handed to the kernel on this connection so far. net.Socket's own
// counter, not its bytesWritten getter, which copies the write queue into
// an array on every read (twice per request here)
function sentOn(socket: Counted): number {
  if (!socket) return 0;
  const n = socket._bytesDispatched;
  return typeof n === 'number' ? n : socket.bytesWritten ?? 0;
}

// The response's status line and headers as sent (Node keeps them as one
// string): the log says the body's size, as uWSGI's "generated N bytes"
function headerBytes(res: http.ServerResponse): number {
  const head = (res as { _header?: string | null })._header;
  if (typeof head !== 'string') return 0;
  return head.length; // a latin1 string: one byte a character
}

export interface ObserverOptions {
  /** The region shared with the master (absent: single process, no master). */
  slot?: BusySlot;
  /** Write the request line to the slot too (harakiri's log line). */
  slotLine?: boolean;
  /** Responses say `Connection: close` once this is draining; `ended`, if
   * set, hears of every request that ends (a single process's drain). */
  drain?: { readonly isDraining: boolean; readonly ended?: () => void };
}

export class RequestObserver {
  private readonly c: WorkerCounters = { requests: 0, exceptions: 0, busy: 0, rtSumUs: 0, tx: 0, lastRequestMs: 0 };
  /** Responses in flight, oldest first (a Set keeps insertion order). */
  private readonly inflight = new Set<Res>();
  private readonly logAll: boolean;
  private readonly logSome: boolean;
  private readonly onClose: (this: Res) => void;
  private avgRtMs = 0;
  private last = { requests: 0, rtSumUs: 0, exceptions: 0, busy: 0 };

  constructor(private readonly spec: WorkerSpec, private readonly send: (m: WorkerMessage) => void, private readonly opts: ObserverOptions = {}) {
    const rl = spec.requestLog;
    this.logAll = !rl?.disabled;
    this.logSome = this.logAll || !!rl && (rl.log4xx || rl.log5xx || rl.slowMs > 0);
    logForwardedFor(rl?.forwardedFor ?? false);
    useLogFormat(rl?.format, rl?.ftime);
    useRequestLogFd(spec.reqLogFd);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const observer = this;
    this.onClose = function (this: Res) {
      observer.end(this);
    };
  }

  observe = (server: http.Server): void => {
    const emit = server.emit as (...a: unknown[]) => boolean;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const observer = this;
    // no rest parameters: the common path stays a test and an apply
    server.emit = function (this: http.Server, event: string | symbol, a?: unknown, b?: unknown): boolean {
      if (event === 'request') observer.start(a as http.IncomingMessage, b as Res);
      // eslint-disable-next-line prefer-rest-params
      return emit.apply(this, arguments as unknown as unknown[]);
    } as typeof server.emit;
  };

  /** An exception of the app while serving: logged (fetch handlers), counted. */
  appError = (e: unknown, req: http.IncomingMessage): void => {
    this.c.exceptions++;
    const err = e as Error;
    log('app').error({ worker: this.spec.id, method: req.method, uri: req.url, error: err?.message ?? String(e) }, `app exception: ${err?.stack ?? String(e)}`);
  };

  /** An uncaught exception (logged by the caller). */
  countException(): void {
    this.c.exceptions++;
  }

  private start(req: http.IncomingMessage, res: Res): void {
    const t = epochMs();
    const c = this.c;
    c.busy++;
    c.lastRequestMs = t;
    res[START] = t;
    res[SENT] = sentOn(req.socket);
    const slot = this.opts.slot;
    if (slot && this.inflight.size === 0) markBusy(slot, t, this.opts.slotLine ? `${req.method} ${req.url}` : undefined);
    this.inflight.add(res);
    if (this.opts.drain?.isDraining) res.shouldKeepAlive = false;
    // the client's address, asked now: once the client is gone (an aborted
    // upload, a timed-out wait) the socket cannot say it any more, and the
    // log line would say "-". Cached per connection: the later read is free
    if (this.logSome) void req.socket?.remoteAddress;
    res.on('close', this.onClose);
  }

  private end(res: Res): void {
    const c = this.c;
    const start = res[START];
    const now = epochMs();
    const us = Math.round((now - start) * 1000);
    c.busy--;
    c.requests++;
    c.rtSumUs += us;
    const req = res.req;
    const sent = res[SENT];
    const bytes = sentOn(req?.socket) - sent; // headers + body of this response
    c.tx += bytes;
    this.inflight.delete(res);
    const slot = this.opts.slot;
    if (slot && slot.f64[0] === start) this.markOldest(slot);
    if (this.logSome) {
      // never answered (the client left first: an aborted upload, a client
      // timeout): what Node wrote then was its own 400, not this response;
      // logged as nginx logs such a request, 499, no body
      if (res.headersSent) this.log(req, res, res.statusCode, us, bytes, headerBytes(res), now);
      else this.log(req, res, CLIENT_CLOSED, us, 0, 0, now);
    }
    if (c.requests === this.recycleAt()) this.heartbeat(); // the master recycles now, not in a second
    this.opts.drain?.ended?.();
  }

  /** max-requests of this worker (the master's count: recycle.ts); its
   * slot may change once (a spare's activation). */
  private recycleAt(): number | undefined {
    const max = this.spec.maxRequests;
    if (!max) return undefined;
    return max + this.spec.id * (this.spec.maxRequestsDelta ?? 0);
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.c.busy;
  }

  // the request that ended was the oldest: the next one (or idle) in the slot
  private markOldest(slot: BusySlot): void {
    const next = this.inflight.values().next().value as Res | undefined;
    if (!next) return markBusy(slot, 0);
    markBusy(slot, next[START], this.opts.slotLine ? `${next.req.method} ${next.req.url}` : undefined);
  }

  private log(req: http.IncomingMessage, res: Res, status: number, us: number, bytes: number, head: number, now: number): void {
    if (!this.logAll && !selected(this.spec.requestLog, status, us)) return;
    logRequest(this.spec.id, this.c.requests, req, res, status, bytes - head, head, us, now);
  }

  // the last size read: reading it opens /proc/self/stat, which fails when
  // the app has leaked every file descriptor (EMFILE): said once, not thrown
  private lastRss = 0;
  private rssError = '';

  private rss(): number {
    try {
      this.lastRss = process.memoryUsage.rss();
      this.rssError = '';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      if (code !== this.rssError) {
        const why = code === 'EMFILE' ? 'the worker is out of file descriptors (its connections, or fds the app leaks: see ulimit -n, LimitNOFILE=)' : 'unable to read the worker\'s memory size';
        log('worker').error({ code: 'LIEGE_ERR_SYSCALL', errno: code, worker: this.spec.id }, `${why}: ${(e as Error).message}`);
      }
      this.rssError = code;
    }
    return this.lastRss;
  }

  /** The oldest request in flight, for the stats heartbeat. */
  private oldest(): BusyInfo | null {
    const r = this.inflight.values().next().value as Res | undefined;
    if (!r) return null;
    return { since: Math.round(r[START]), request: `${r.req.method} ${r.req.url}` };
  }

  /** The stats heartbeat (every second: the master's sign of life, its
   * stats and recycling input), and the counters when they changed. */
  heartbeat(): void {
    const draining = this.opts.drain?.isDraining ?? false;
    const c = this.c;
    const last = this.last;
    const n = c.requests - last.requests;
    if (n > 0) this.avgRtMs = (c.rtSumUs - last.rtSumUs) / n / 1000;
    this.send({ type: 'stats', stats: { requests: c.requests, exceptions: c.exceptions, avgRtMs: this.avgRtMs, busy: this.oldest(), rss: this.rss(), draining } });
    if (n > 0 || c.exceptions !== last.exceptions || c.busy !== last.busy) this.send({ type: 'counters', ...c, lastRequestMs: Math.round(c.lastRequestMs) });
    this.last = { requests: c.requests, rtSumUs: c.rtSumUs, exceptions: c.exceptions, busy: c.busy };
  }
}

/** With the request log disabled, a line that log-4xx, log-5xx or log-slow
 * asks for all the same. */
function selected(rl: WorkerSpec['requestLog'], status: number, us: number): boolean {
  if (!rl) return false;
  if (rl.log4xx && status >= 400 && status < 500) return true;
  if (rl.log5xx && status >= 500) return true;
  return rl.slowMs > 0 && us >= rl.slowMs * 1000;
}
