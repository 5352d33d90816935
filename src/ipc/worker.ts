// What master and worker say to each other (IPC), and how a worker learns
// its job (LIEGE_WORKER env, JSON). Shared by master/ and worker/ only.
// Master → worker is signals (SIGTERM drain, SIGINT stop, SIGQUIT/SIGKILL
// now), so a worker adopted across the master's re-exec is driven the same
// way; the messages are answers to a worker's listen() and a spare's
// activation (spares are never adopted: a reload replaces them), a log
// reopen, and why a drain signal comes (for its log lines only: a worker
// that never hears it names the signal), the last two sent to adopted
// workers too, on the channel kept across the exec.
import type { HookLine } from '../config/config';
import type { HookContext } from '../hooks/actions/types';
import type { ExtraHook } from '../hooks/registry/plan';

/** The wire protocol a listening socket speaks (uWSGI: socket = uwsgi). */
export type SocketProtocol = 'http' | 'uwsgi' | 'https';

/** One listening socket as a worker sees it (fd = FIRST_SOCKET_FD + index). */
export interface SocketInfo {
  addr: string; // as configured
  proto: SocketProtocol;
  port: number; // the real TCP port, 0 for unix sockets
  backlog?: number; // `listen` (the worker's listen() sets it again)
  tls?: { cert: string; key: string; ciphers?: string }; // https: PEM text, read by the master as root
  packetTimeoutMs?: number; // uwsgi: the request packet must arrive within it (socket-timeout)
}

export interface WorkerSpec {
  id: number; // 1-based slot
  once: boolean; // first start of this slot (accepting-once hooks)
  app?: string; // node-app module path (absolute, checked at load)
  cwd?: string; // the worker's working directory, entered at its start (symlinks followed then)
  sockets: SocketInfo[]; // listening fds at 4, 5, ...
  hooks: HookLine[]; // post-fork and accepting* lines
  ctx: HookContext;
  masterPid?: number; // the worker dies with it (native watcher thread)
  deathGraceMs?: number; // after the master died: time to drain, then SIGKILL
  mercyMs?: number; // drain cap (worker-reload-mercy)
  stopMercyMs?: number; // a stop's drain cap (stopMercy(): the smaller of the two mercies)
  stopMercyName?: string; // the option that sets it (for the log)
  maxRequests?: number; // report at once when max-requests + id × delta is reached
  maxRequestsDelta?: number;
  harakiri?: boolean; // write the request line to the busy slot (harakiri's log)
  slotFd?: number; // the busy slot shared with the master (ipc/busy-slot.ts)
  reqLogFd?: number; // req-logger: the request log's own pipe to the master
  listenTimeoutMs?: number; // a self-listening app must listen() within this
  requestLog?: RequestLogSpec;
  procname?: string; // process title (%w = the worker's slot)
  logFormat?: 'text' | 'json';
  /** log-date: the text lines' date prefix (log.ts setLogDate). */
  logDate?: string;
  /** Registry and hook-dir hooks of those phases, request hook modules. */
  extraHooks?: ExtraHook[];
  /** A warm spare: load the app, hold its listen() until `activate`. */
  spare?: boolean;
}

/** Which requests a worker logs (disable-logging, log-4xx, log-5xx, log-slow). */
export interface RequestLogSpec {
  disabled: boolean;
  log4xx: boolean;
  log5xx: boolean;
  slowMs: number; // 0 = off
  /** log-x-forwarded-for: the client is the X-Forwarded-For header, when there is one. */
  forwardedFor?: boolean;
  /** logformat: uWSGI's line template (worker/log-format.ts). */
  format?: string;
  /** logformat-strftime: %(ftime) in this strftime format (log-date's). */
  ftime?: string;
}

/** A listen() of the app beyond liege's sockets: the master binds it once
 * and passes the same listening socket to every worker (node:cluster). */
export interface ListenRequest {
  type: 'listen';
  id: number;
  port?: number;
  host?: string;
  path?: string;
  backlog?: number;
}

/** Counters a worker reports to the master (at most once a second). */
export interface WorkerCounters {
  requests: number;
  exceptions: number;
  busy: number; // requests in flight
  rtSumUs: number; // sum of response times (µs), for avg_rt
  tx: number; // bytes sent
  lastRequestMs: number; // epoch ms of the last request start
}



/** Master → worker. */
export type MasterMessage =
  | { type: 'listen-result'; id: number; error?: { code: string; message: string } }
  | { type: 'activate'; id: number; once: boolean } // a spare takes slot `id`
  // the master reopened its log file (after a rotation): fds 1 and 2 follow it
  | { type: 'reopen-log'; file: string; liege: 1 }
  // another worker started accepting: let it take the next connection (worker/accept-hold.ts)
  | { type: 'hold-accept'; ms: number; liege: 1 }
  | { type: 'release-accept'; liege: 1 }
  // the drain signal that follows is for this (a reload, a recycling's reason, a stop)
  | { type: 'drain'; reason: string; liege: 1 };

/** What bounds a worker's drain at a stop, and the option that sets it:
 * the smaller of `worker-reload-mercy` (a worker's drain, as uWSGI's
 * uwsgi_curse() sets at a reload and a stop alike) and `reload-mercy` (the
 * whole stop). A reload's or a recycling's drain: `worker-reload-mercy`. */
export function stopMercy(workerReloadMercyMs: number, reloadMercyMs: number): { ms: number; name: string } {
  if (reloadMercyMs < workerReloadMercyMs) return { ms: reloadMercyMs, name: 'reload-mercy' };
  return { ms: workerReloadMercyMs, name: 'worker-reload-mercy' };
}
/** The oldest request in flight, for harakiri and its log line. */
export interface BusyInfo {
  since: number; // Date.now() when it started
  request: string; // "GET /path"
}

export interface WorkerStats {
  requests: number;
  exceptions: number;
  avgRtMs: number;
  busy: BusyInfo | null;
  rss?: number;
  draining?: boolean;
}

export type WorkerMessage =
  | { type: 'accepting' }
  | { type: 'took-connection' } // its first connection since accepting: the others' hold ends
  | { type: 'spare-ready' } // a spare loaded the app: it accepts at once when activated
  | { type: 'spare-alive' } // every second from a ready spare: its heartbeat (a frozen one is replaced)
  | { type: 'fatal'; detail: string }
  | { type: 'app-error'; when: 'load' | 'serving'; message: string; stack?: string; file?: string; code?: string }
  | { type: 'stats'; stats: WorkerStats } // every second: the master's heartbeat (harakiri) and recycling input
  | ListenRequest
  | ({ type: 'counters' } & WorkerCounters)
  // a stop or reload signal that did not come from the master (`from`: the
  // sender's pid, 0 the kernel): the master acts on it if it was the
  // worker's alone, not the whole group's (os/signal-route.ts)
  | { type: 'signalled'; signal: NodeJS.Signals; from: number; at?: number } // at: when it came (epoch ms)
  // the request log's destination (fd 2: the log file) failed (its code), or took a write again (null)
  | { type: 'log-state'; error: string | null };

/** Worker → master messages carry `liege: 1`: the app shares the channel,
 * and its own process.send() (a node:cluster app's `{ type: 'stats' }` to
 * its primary, PM2's `'ready'`) must never be taken for one of them. */
export function marked(m: WorkerMessage): WorkerMessage & { liege: 1 } {
  return { ...m, liege: 1 };
}

/** A message of liege's worker (not the app's). */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && (m as { liege?: unknown }).liege === 1;
}

export const WORKER_ENV = 'LIEGE_WORKER';
export const FIRST_SOCKET_FD = 4; // 0-2 stdio, 3 the IPC channel
export const WORKER_PHASES = ['post-fork', 'accepting', 'accepting-once', 'accepting1', 'accepting1-once'];
