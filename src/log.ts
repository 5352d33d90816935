// Logging: one logger for the master, the workers and the hooks, with the
// same fields everywhere. With `log-format = json` every line is a pino
// JSON object on stderr and nothing else is written there by liege; `pid`
// is the process that logs, a worker adds `master_pid` and `worker`, and a
// line about another process names it `worker_pid` or `child_pid` (a `pid`
// field of a line is renamed so that no line has two `pid` keys).
// The default text format writes the same fields as one readable line
// ("liege[pid] component: msg key=value ...") without loading pino, whose
// load alone costs a quarter of a bare `node` start (bench/README.md);
// those lines are written synchronously so they interleave correctly with
// the output of hooks. The request log goes through pino's asynchronous
// destination (sonic-boom) in both formats: a uWSGI-like text line, or JSON.
import * as fs from 'node:fs';
import type { Logger as Pino, DestinationStream } from 'pino';

export interface Logger {
  info(fields: object, msg: string): void;
  info(msg: string): void;
  warn(fields: object, msg: string): void;
  warn(msg: string): void;
  error(fields: object, msg: string): void;
  error(msg: string): void;
}

type Level = 'info' | 'warn' | 'error';

let format: 'text' | 'json' = 'text';
let base: Record<string, unknown> = { pid: process.pid };
let pinoRoot: Pino | undefined;
let requestPino: Pino | undefined;
let requestDest: (DestinationStream & { flushSync?: () => void }) | undefined;
const loggers = new Map<string, Logger>();

/** Set once from the config (`log-format`); before that, text. */
export function setLogFormat(f: 'text' | 'json'): void {
  format = f;
}

export function logFormat(): 'text' | 'json' {
  return format;
}

/** A worker's base fields: its master's pid, its own pid, its slot. */
export function setWorkerLogFields(worker: number): void {
  base = { pid: process.pid, master_pid: process.ppid, worker };
  pinoRoot = undefined;
  requestPino = undefined;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadPino = () => require('pino') as typeof import('pino');

function pinoChild(component: string): Pino {
  if (!pinoRoot) {
    const pino = loadPino();
    // JSON lines take the same way out as text lines (writeText below)
    pinoRoot = pino({ base, timestamp: pino.stdTimeFunctions.isoTime }, { write: (line: string) => writeText(line) });
  }
  return pinoRoot.child({ component });
}

const LABEL: Record<Level, string> = { info: '', warn: 'WARN ', error: 'ERROR ' };

function textLine(component: string, level: Level, fields: object, msg: string): string {
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && v !== '' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `liege[${process.pid}] ${component}: ${LABEL[level]}${msg}${kv ? ' ' + kv : ''}\n`;
}

// A log reader that stops reading (a stuck log shipper) must not stop the
// master: when stderr is a pipe, text lines go through a non-blocking
// description of our own (/proc/self/fd/2 reopened: others sharing fd 2
// can flip O_NONBLOCK on theirs, not on ours). A full pipe (EAGAIN) is
// waited for up to STALL_MS once per congestion, then lines are dropped and
// counted until a write goes through again, which first says how many were
// lost. A closed pipe (EPIPE, EIO) only drops lines: a log line is not worth
// dying for. (A socket or a tty cannot be reopened: fd 2 as it is; nor can
// a pipe of another user, after the drop: a worker's, a reloaded master's.)
const STALL_MS = 500;
const nap = new Int32Array(new SharedArrayBuffer(4));
let congested = false;
let dropped = 0;
let textFd = 2;
let textIno = -1; // the fd 2 that textFd reopens (logto, daemonize replace fd 2)

function stderrFd(): number {
  try {
    const st = fs.fstatSync(2);
    if (st.ino === textIno) return textFd;
    if (textFd !== 2) fs.closeSync(textFd);
    textFd = 2;
    textIno = st.ino;
    if (st.isFIFO()) textFd = fs.openSync('/proc/self/fd/2', fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch { /* not ours to reopen (a pipe of another user): fd 2 */ }
  return textFd;
}

/** Writes all of `text` to stderr; false when it could not (or only part). */
function writeAll(text: string): boolean {
  let b = Buffer.from(text);
  let waited = 0;
  const fd = stderrFd();
  while (b.length) {
    try {
      b = b.subarray(fs.writeSync(fd, b));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || congested || waited >= STALL_MS) return false;
      Atomics.wait(nap, 0, 0, 5);
      waited += 5;
    }
  }
  return true;
}

function writeText(line: string): void {
  if (dropped) {
    const msg = 'log lines dropped: stderr was full or closed';
    const notice = format === 'json'
      ? `${JSON.stringify({ level: 40, time: new Date().toISOString(), ...base, component: 'log', lines: dropped, msg })}\n`
      : textLine('log', 'warn', { lines: dropped }, msg);
    if (!writeAll(notice)) {
      dropped++;
      return;
    }
    dropped = 0;
  }
  congested = !writeAll(line);
  if (congested) dropped++;
}

function renamePid(fields: object): object {
  if (!('pid' in fields)) return fields;
  const { pid, ...rest } = fields as { pid: unknown };
  return 'worker' in rest ? { worker_pid: pid, ...rest } : { child_pid: pid, ...rest };
}

/** The logger of one component (config, hooks, master, worker, app ...). */
export function log(component: string): Logger {
  let l = loggers.get(component);
  if (!l) {
    const emit = (level: Level) => (a: object | string, b?: string) => {
      const [fields, msg] = typeof a === 'string' ? [{}, a] : [a, b ?? ''];
      if (format === 'json') pinoChild(component)[level](renamePid(fields), msg);
      else writeText(textLine(component, level, fields, msg));
    };
    l = { info: emit('info'), warn: emit('warn'), error: emit('error') } as Logger;
    loggers.set(component, l);
  }
  return l;
}

/** One served request, as the request log records it. */
export interface RequestRecord {
  worker: number;
  requests: number; // this worker's request count
  addr: string;
  method: string;
  uri: string;
  proto: string;
  status: number;
  bytes: number;
  us: number; // response time, microseconds
}

function requestDestination(): DestinationStream & { flushSync?: () => void } {
  if (!requestDest) {
    requestDest = loadPino().destination({ fd: 2, sync: false, minLength: 0 });
    // buffered lines reach stderr even when the worker exits right away
    process.on('exit', () => {
      try {
        flushLines();
        requestDest?.flushSync?.();
      } catch { /* gone */ }
    });
  }
  return requestDest;
}

// Request lines go to the destination in batches of 16 KiB, or after
// 100 ms at most: one write() per line (sonic-boom measures its pending
// buffer at every write(), and each write(2) is a trip through libuv's
// thread pool) cost more than the request itself (bench/README.md, request
// log cost). The exit handler writes what is left.
const BATCH_CHARS = 16384;
const BATCH_MS = 100;
let lines: string[] = [];
let chars = 0;
let flushTimer: NodeJS.Timeout | undefined;

function queueLine(line: string): void {
  if (!requestDest) requestDestination(); // its exit handler flushes these lines too
  lines.push(line);
  chars += line.length;
  if (chars >= BATCH_CHARS) flushLines();
  else if (!flushTimer) {
    flushTimer = setTimeout(flushLines, BATCH_MS);
    flushTimer.unref();
  }
}

function flushLines(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  if (lines.length === 0) return;
  const text = lines.join('');
  lines = [];
  chars = 0;
  requestDestination().write(text);
}

/** pino's stream for request lines in JSON: the same batching. */
const requestStream = { write: queueLine };

let dateSecond = 0;
let dateText = '';

// uWSGI's date format ("Wed Nov 25 22:17:13 2026"), computed once a second
function ctime(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    const d = new Date(now).toString(); // "Wed Nov 25 2026 22:17:13 GMT+0000 (…)"
    const [wd, mon, day, year, time] = d.split(' ');
    dateText = `${wd} ${mon} ${day} ${time} ${year}`;
  }
  return dateText;
}

/** Writes one request log line (text like uWSGI's, or JSON). */
export function requestLog(r: RequestRecord): void {
  if (format === 'json') {
    if (!requestPino) {
      const pino = loadPino();
      requestPino = pino({ base: { ...base, component: 'request' }, timestamp: pino.stdTimeFunctions.isoTime }, requestStream);
    }
    requestPino.info({ addr: r.addr, method: r.method, uri: r.uri, proto: r.proto, status: r.status, bytes: r.bytes, msecs: Math.round(r.us / 1000), req: r.requests }, 'request');
    return;
  }
  queueLine(`[pid: ${process.pid}|worker: ${r.worker}|req: ${r.requests}] ${r.addr} [${ctime()}] ${r.method} ${r.uri} => generated ${r.bytes} bytes in ${Math.round(r.us / 1000)} msecs (${r.proto} ${r.status})\n`);
}
