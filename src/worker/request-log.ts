// The request log of a worker: a uWSGI-like text line per request, or a
// pino JSON line with `log-format = json`. A request costs only the storing
// of its few raw fields in the columns of a batch (no object, no string);
// the batch is formatted in one pass and written (os/log-writer.ts: one
// asynchronous write, never blocking the worker) when BATCH requests are in
// it, after BATCH_MS at most, at exit and before a log reopen. A SIGKILLed
// worker loses at most the last BATCH_MS of lines.
// Text lines are written byte by byte into reused buffers (request-line.ts);
// JSON lines go through pino (the project's logger) with one reused object
// and the time string cached per millisecond. Times are stored on the
// monotonic clock the observer already reads, made wall-clock at flush.
import type * as http from 'node:http';
import { marked, type WorkerMessage } from '../ipc/worker';
import { epochMs } from '../os/clock';
import { ctimeText, logDestinationState, logFormat, oncePerSecond, requestPino, setRequestLogFlush, warningLine } from '../log';
import { compileLogFormat, type LineFormat } from './log-format';
import { LogWriter } from '../os/log-writer';
import { lineRoom, newBuffer, putLine } from './request-line';

const BATCH = 1024;
const BATCH_MS = 100;
const BUF_BYTES = 128 << 10; // a batch of short lines in one write

// the batch, column by column: made at the first request logged (~80 KiB
// of heap and malloc a worker without a request log does not hold)
let workerCol = new Int32Array(0);
let reqCol = new Float64Array(0);
let statusCol = new Int32Array(0);
let bytesCol = new Float64Array(0);
let usCol = new Float64Array(0);
let atCol = new Float64Array(0); // end of the request, epochMs()
let majorCol = new Int32Array(0);
let minorCol = new Int32Array(0);
let addrCol: string[] = [];
let methodCol: string[] = [];
let uriCol: string[] = [];
let lineCol: string[] = []; // with a logformat: the line
let count = 0;

function makeColumns(): void {
  workerCol = new Int32Array(BATCH);
  reqCol = new Float64Array(BATCH);
  statusCol = new Int32Array(BATCH);
  bytesCol = new Float64Array(BATCH);
  usCol = new Float64Array(BATCH);
  atCol = new Float64Array(BATCH);
  majorCol = new Int32Array(BATCH);
  minorCol = new Int32Array(BATCH);
  addrCol = new Array<string>(BATCH).fill('');
  methodCol = new Array<string>(BATCH).fill('');
  uriCol = new Array<string>(BATCH).fill('');
  lineCol = new Array<string>(BATCH).fill('');
}
let template: LineFormat | undefined;
let forwardedFor = false;
let timer: NodeJS.Timeout | undefined;
let writer: LogWriter | undefined;
let logFd = 2; // stderr, or (req-logger) a pipe of its own to the master
const spare: Buffer[] = []; // written buffers, to fill again

const HTTP_VERSION = /^HTTP\/(\d)\.(\d)$/;

/** Records one served request (`at`: its end, epochMs(); `body`, `head`:
 * the bytes of the response's body and head). */
export function logRequest(worker: number, requests: number, req: http.IncomingMessage, res: http.ServerResponse, status: number, body: number, head: number, us: number, at: number): void {
  const i = count;
  if (i === 0 && workerCol.length === 0) makeColumns();
  workerCol[i] = worker;
  reqCol[i] = requests;
  statusCol[i] = status;
  bytesCol[i] = body;
  usCol[i] = us;
  atCol[i] = at;
  // behind uwsgi_pass the app's server parsed the HTTP/1.1 head liege made
  // of the packet: the log names what the client spoke (SERVER_PROTOCOL,
  // HTTP/2.0 for an h2 client), as uWSGI's does
  const spoke = (req.socket as { uwsgi?: Record<string, string> } | null)?.uwsgi?.SERVER_PROTOCOL;
  const m = spoke === undefined ? null : HTTP_VERSION.exec(spoke);
  majorCol[i] = m ? Number(m[1]) : req.httpVersionMajor;
  minorCol[i] = m ? Number(m[2]) : req.httpVersionMinor;
  addrCol[i] = clientOf(req);
  methodCol[i] = req.method ?? '-';
  uriCol[i] = req.url ?? '-';
  // the template reads the request and the response now, while they are whole
  if (template) lineCol[i] = template({ worker, req, res, status, addr: addrCol[i]!, body, head, us, at: at + Date.now() - epochMs() });
  count = i + 1;
  if (count === BATCH) flush();
  else if (i === 0) arm();
}

/** logformat (uWSGI's template): the lines it makes instead of the default line. */
export function useLogFormat(format: string | undefined, ftime?: string): void {
  template = format ? compileLogFormat(format, ftime) : undefined;
}

/** req-logger: the request log goes to this fd (a pipe the master reads as request lines). */
export function useRequestLogFd(fd: number | undefined): void {
  logFd = fd ?? 2;
}

/** log-x-forwarded-for: name the client by the header a proxy set. */
export function logForwardedFor(on: boolean): void {
  forwardedFor = on;
}

// the header's whole value, as uWSGI ("client, proxy1, …")
function clientOf(req: http.IncomingMessage): string {
  const xff = forwardedFor ? req.headers['x-forwarded-for'] : undefined;
  if (typeof xff === 'string' && xff !== '') return xff;
  // net.Socket caches its peer name: the kernel is asked once per connection
  return req.socket?.remoteAddress ?? '-';
}

function arm(): void {
  if (timer) {
    timer.refresh();
    return;
  }
  timer = setTimeout(flush, BATCH_MS);
  timer.unref();
  const notice = (lines: number) => warningLine('log', { lines }, 'request log lines dropped: the log was full or closed');
  writer = new LogWriter(logFd, notice, (buf) => {
    if (buf.length === BUF_BYTES && spare.length < 4) spare.push(buf);
  }, reportLogState);
  process.on('exit', flushSync);
  setRequestLogFlush(flushSync);
}

let reported: string | null = null;

/** A log file that fails (its code) or recovers (null) is said on the
 * console by the master (log.ts); a single process holds the console itself.
 * Only changes go out (an app's console.log fails on every call). */
export function reportLogState(error: string | null): void {
  if ((error === null) === (reported === null)) return;
  reported = error;
  if (!process.send) return logDestinationState(error);
  if (!process.connected) return; // the master is gone
  const m: WorkerMessage = { type: 'log-state', error };
  // with a callback, a channel closed meanwhile is not an 'error' event (uncaught)
  process.send(marked(m), undefined, {}, () => undefined);
}

/** Formats the batch and hands it to the writer. */
function flush(): void {
  const n = count;
  if (n === 0) return;
  count = 0;
  // the timer is left running: refresh() (next batch) cannot re-arm a cleared one
  // wall clock = monotonic + offset, measured now (a clock step moves it)
  const offset = Date.now() - epochMs();
  if (logFormat() === 'json') jsonLines(n, offset);
  else if (template) templateLines(n);
  else textLines(n, offset);
  // the strings of this batch are not kept alive until the next one
  addrCol.fill('', 0, n);
  methodCol.fill('', 0, n);
  uriCol.fill('', 0, n);
  lineCol.fill('', 0, n);
}

/**
 * A worker's graceful end: `then` once its lines are written, or after
 * `maxMs` (a stuck destination). The exit handler cannot wait for a write
 * in the thread pool, which the exit may cut short (a pipe that was full).
 */
export function afterRequestLog(then: () => void, maxMs = 1000): void {
  if (!writer) return then();
  flush();
  const t = setTimeout(then, maxMs);
  writer.whenIdle(() => {
    clearTimeout(t);
    then();
  });
}

/** At exit or before a reopen: everything out now. */
function flushSync(): void {
  try {
    flush();
    writer?.flushSync();
  } catch { /* nowhere to write */ }
}

// uWSGI's date format (ctime: "Wed Nov 25 22:17:13 2026"), local time
const ctime = oncePerSecond(ctimeText);

function textLines(n: number, offset: number): void {
  let buf = spare.pop() ?? Buffer.allocUnsafe(BUF_BYTES);
  newBuffer();
  let o = 0;
  let lines = 0;
  let worker = -1;
  let prefix = '';
  for (let i = 0; i < n; i++) {
    if (workerCol[i] !== worker) {
      worker = workerCol[i]!;
      prefix = `[pid: ${process.pid}|worker: ${worker}|req: `;
    }
    const addr = addrCol[i]!;
    const method = methodCol[i]!;
    const uri = uriCol[i]!;
    const room = lineRoom(addr, method, uri);
    if (o + room > buf.length) {
      if (lines) writer!.write(buf, o, lines);
      buf = room > BUF_BYTES ? Buffer.allocUnsafe(room) : spare.pop() ?? Buffer.allocUnsafe(BUF_BYTES);
      newBuffer();
      o = 0;
      lines = 0;
    }
    o = putLine(buf, o, prefix, reqCol[i]!, addr, ctime(atCol[i]! + offset), method, uri, bytesCol[i]!, Math.round(usCol[i]! / 1000), majorCol[i]!, minorCol[i]!, statusCol[i]!);
    lines++;
  }
  writer!.write(buf, o, lines);
}

// the lines of a logformat, as they are
function templateLines(n: number): void {
  let buf = spare.pop() ?? Buffer.allocUnsafe(BUF_BYTES);
  let o = 0;
  let lines = 0;
  for (let i = 0; i < n; i++) {
    const line = lineCol[i]!;
    const room = 3 * line.length + 1;
    if (o + room > buf.length) {
      if (lines) writer!.write(buf, o, lines);
      buf = room > BUF_BYTES ? Buffer.allocUnsafe(room) : spare.pop() ?? Buffer.allocUnsafe(BUF_BYTES);
      o = 0;
      lines = 0;
    }
    o += buf.write(line, o);
    buf[o++] = 10;
    lines++;
  }
  writer!.write(buf, o, lines);
}

// pino's isoTime, for the line being formatted, cached per millisecond
let timeMs = 0;
let lastMs = -1;
let lastTime = '';
const isoTime = () => {
  if (timeMs !== lastMs) {
    lastMs = timeMs;
    lastTime = `,"time":"${new Date(timeMs).toISOString()}"`;
  }
  return lastTime;
};

// pino hands each line to `collect`, which writes it into the batch's buffer
// (one small string at a time: a whole batch concatenated, then encoded,
// cost three times as much)
let out: Buffer = Buffer.alloc(0);
let outAt = 0;
let outLines = 0;
const collect = (line: string) => {
  if (outAt + 3 * line.length > out.length) {
    if (outLines) writer!.write(out, outAt, outLines);
    out = 3 * line.length > BUF_BYTES ? Buffer.allocUnsafe(3 * line.length) : spare.pop() ?? Buffer.allocUnsafe(BUF_BYTES);
    outAt = 0;
    outLines = 0;
  }
  outAt += out.write(line, outAt);
  outLines++;
};
const fields = { addr: '', method: '', uri: '', proto: '', status: 0, bytes: 0, msecs: 0, req: 0 };

function jsonLines(n: number, offset: number): void {
  const pino = requestPino(collect, isoTime);
  out = spare.pop() ?? Buffer.allocUnsafe(BUF_BYTES);
  outAt = 0;
  outLines = 0;
  for (let i = 0; i < n; i++) {
    timeMs = Math.floor(atCol[i]! + offset);
    const major = majorCol[i]!;
    const minor = minorCol[i]!;
    fields.addr = addrCol[i]!;
    fields.method = methodCol[i]!;
    fields.uri = uriCol[i]!;
    fields.proto = major === 1 && minor === 1 ? 'HTTP/1.1' : `HTTP/${major}.${minor}`;
    fields.status = statusCol[i]!;
    fields.bytes = bytesCol[i]!;
    fields.msecs = Math.round(usCol[i]! / 1000);
    fields.req = reqCol[i]!;
    pino.info(fields, template ? lineCol[i]! : 'request');
  }
  writer!.write(out, outAt, outLines);
  out = Buffer.alloc(0);
}
