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
// the output of hooks. The request log (worker/request-log.ts) is written
// asynchronously in batches; its JSON lines come from `requestPino` here.
import * as fs from 'node:fs';
import type { Logger as Pino } from 'pino';

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
let requestPinoLogger: Pino | undefined;
let appPinoLogger: Pino | undefined;
let requestFlush: (() => void) | undefined;
const loggers = new Map<string, Logger>();

/** Set once from the config (`log-format`); before that, text. */
export function setLogFormat(f: 'text' | 'json'): void {
  format = f;
  if (f === 'json') routeProcessWarnings();
}

let warningsRouted = false;

// Node prints process warnings (a deprecation in the app, the app's own
// emitWarning) as text on stderr from a 'warning' listener of its own: in
// JSON they become log lines. Called before the app loads, so only Node's
// listener is removed, never one of the app's.
function routeProcessWarnings(): void {
  if (warningsRouted) return;
  warningsRouted = true;
  for (const l of process.listeners('warning')) process.removeListener('warning', l);
  process.on('warning', (w: Error & { code?: string }) => {
    if (w.name === 'DeprecationWarning' && process.noDeprecation) return;
    log('node').warn({ warning: w.name, code: w.code }, w.message);
  });
}

export function logFormat(): 'text' | 'json' {
  return format;
}

/** A worker's base fields: its master's pid, its own pid, its slot. */
export function setWorkerLogFields(worker: number): void {
  base = { pid: process.pid, master_pid: process.ppid, worker };
  pinoRoot = undefined;
  requestPinoLogger = undefined;
  appPinoLogger = undefined;
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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number) => String(n).padStart(2, '0');

/** ctime(3) of `ms`, local time: "Wed Jun  3 21:49:08 1993" (uWSGI's dates). */
export function ctimeText(ms: number): string {
  const d = new Date(ms);
  const day = String(d.getDate()).padStart(2, ' ');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

/** strftime's "%d/%b/%Y:%H:%M:%S %z" of `ms`, local time (Apache's; logformat's ltime). */
export function apacheTimeText(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const zone = `${sign}${two(Math.floor(Math.abs(off) / 60))}${two(Math.abs(off) % 60)}`;
  return `${two(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone}`;
}

/** `format` cached for the second of `ms` (a date text changes once a second). */
export function oncePerSecond(format: (ms: number) => string): (ms: number) => string {
  let second = NaN;
  let text = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      text = format(s * 1000);
    }
    return text;
  };
}

// log-date: text lines start with the date and " - ", as uWSGI's
let datePrefix: (() => string) | undefined;
let dateFormat: string | undefined;
let dateStrftime: string | undefined; // log-date's strftime format, if it has one

/** log-date's strftime format; undefined when off or ctime. */
export function logDateStrftime(): string | undefined {
  return dateStrftime;
}

/** log-date as set (for the workers), undefined when off. */
export function logDate(): string | undefined {
  return dateFormat;
}

/** log-date: undefined = off; '' or a true word = ctime; else a strftime format. */
export function setLogDate(format: string | undefined): void {
  dateFormat = format;
  dateStrftime = undefined;
  // words, not case-insensitive regexps (src/config/config.ts says why)
  if (format === undefined) {
    datePrefix = undefined;
    return;
  }
  const word = format.toLowerCase();
  if (word === 'false' || word === 'off' || word === 'no' || word === '0') {
    datePrefix = undefined;
    return;
  }
  if (word === '' || word === 'true' || word === 'on' || word === 'yes' || word === '1') {
    datePrefix = () => `${ctimeText(Date.now())} - `;
    return;
  }
  dateStrftime = format;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const strftime = require('strftime') as (f: string, d: Date) => string;
  datePrefix = () => `${strftime(format, new Date())} - `;
}

function textLine(component: string, level: Level, fields: object, msg: string): string {
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && v !== '' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  const date = datePrefix ? datePrefix() : '';
  return `${date}liege[${process.pid}] ${component}: ${LABEL[level]}${msg}${kv ? ' ' + kv : ''}\n`;
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

let writeError = ''; // the code of the last failed write

/** Writes all of `text` to stderr; false when it could not (or only part). */
function writeAll(text: string): boolean {
  let b = Buffer.from(text);
  let waited = 0;
  const fd = stderrFd();
  while (b.length) {
    try {
      b = b.subarray(fs.writeSync(fd, b));
    } catch (e) {
      writeError = (e as NodeJS.ErrnoException).code ?? 'EIO';
      if (writeError !== 'EAGAIN' || congested || waited >= STALL_MS) return false;
      Atomics.wait(nap, 0, 0, 5);
      waited += 5;
    }
  }
  return true;
}

const PINO_LEVEL: Record<Level, number> = { info: 30, warn: 40, error: 50 };

/** A line in the current format, to be written by the caller. */
function formatLine(component: string, level: Level, fields: object, msg: string): string {
  if (format === 'json') return `${JSON.stringify({ level: PINO_LEVEL[level], time: new Date().toISOString(), ...base, component, ...fields, msg })}\n`;
  return textLine(component, level, fields, msg);
}

/** A warning line in the current format, to be written by the caller. */
export function warningLine(component: string, fields: object, msg: string): string {
  return formatLine(component, 'warn', fields, msg);
}

// log-drain / log-filter (the master's, with log-master): lines dropped
// unless shown by a filter, or dropped by a drain
let drains: RegExp[] = [];
let filters: RegExp[] = [];

/** log-drain and log-filter rules (uWSGI's regexps, as JavaScript ones). */
export function setLogRules(drain: RegExp[], filter: RegExp[]): void {
  drains = drain;
  filters = filter;
}

/** Whether log-filter or log-drain rules are set. */
export function hasLogRules(): boolean {
  return drains.length > 0 || filters.length > 0;
}

/** Whether a line passes log-filter and log-drain. */
export function logLineShown(line: string): boolean {
  if (filters.length && !filters.some((r) => r.test(line))) return false;
  return !drains.some((r) => r.test(line));
}

/** Whether a line is a JSON object (an app's own JSON log line). */
export function isJsonObject(line: string): boolean {
  if (!line.startsWith('{') || !line.endsWith('}')) return false;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null;
  } catch {
    return false;
  }
}

// log-master: while the workers' lines are being written, liege's own
// queue behind them (a long line goes out in pieces: one of ours written
// in between would cut it)
let sink: ((line: string) => boolean) | undefined;

/** A writer that takes liege's own lines when it is busy (true: taken). */
export function setLineSink(take: (line: string) => boolean): void {
  sink = take;
}

// log-encoder (with log-master): every line goes through the chain
let encode: ((line: string) => string) | undefined;

/** The log-encoder chain (a line with its newline in, what to write out). */
export function setLineEncoder(e: ((line: string) => string) | undefined): void {
  encode = e;
}

/** The log-encoder chain, if any. */
export function lineEncoder(): ((line: string) => string) | undefined {
  return encode;
}

// logger / req-logger (master/loggers/): a line (without its newline) that
// a logger takes is written there, not to stderr; false: none took it
type Route = (text: string) => boolean;
let routeMain: Route | undefined;
let routeReq: Route | undefined;

/** The loggers of liege's own and the workers' lines, and of the request lines (req-logger). */
export function setLineRouters(main: Route | undefined, req: Route | undefined): void {
  routeMain = main;
  routeReq = req;
}

/** The loggers' router of request lines (`req`) or of the others, if any. */
export function lineRouter(req: boolean): Route | undefined {
  return req ? routeReq : routeMain;
}

/** Whether the output of the programs liege runs (hooks) must pass
 * through here to reach its place: loggers, log-drain/log-filter or a
 * log-encoder are set (uWSGI's log-master carries it). Else they write to
 * stderr themselves. */
export function childOutputRouted(): boolean {
  return routeMain !== undefined || hasLogRules() || encode !== undefined;
}

/** A line (without its newline) of such a program's output, as it is (in
 * JSON, in the shape of an app's output line, component `hook`). */
export function childOutputLine(text: string): void {
  if (hasLogRules() && !logLineShown(text)) return; // the rules see the text, as a worker's
  let line = text;
  if (format === 'json' && !isJsonObject(text)) line = JSON.stringify({ level: 30, time: new Date().toISOString(), ...base, component: 'hook', stream: 'output', msg: text });
  if (routeMain?.(line)) return;
  writeRaw(`${line}\n`);
}

/** A line for the loggers and for stderr both: a logger's own fault, said
 * where someone looks when the loggers do not work. */
export function logEverywhere(component: string, level: Level, fields: object, msg: string): void {
  const text = formatLine(component, level, format === 'json' ? jsonFields(fields) : fields, msg);
  routeMain?.(text.slice(0, -1));
  writeRaw(text);
}

function writeText(text: string): void {
  if (hasLogRules() && !logLineShown(text.slice(0, -1))) return;
  if (routeMain?.(text.slice(0, -1))) return;
  writeRaw(text);
}

// to stderr (the log file after logto)
function writeRaw(text: string): void {
  const line = encode ? encode(text) : text;
  if (sink?.(line)) return;
  if (dropped) {
    const notice = warningLine('log', { lines: dropped }, `log lines dropped: ${logDestination()} was full or closed`);
    if (!writeAll(notice)) {
      dropped++;
      if (consoleFd >= 0) logDestinationState(writeError);
      return;
    }
    dropped = 0;
  }
  congested = !writeAll(line);
  if (congested) dropped++;
  if (consoleFd >= 0) logDestinationState(congested ? writeError : null);
}

// The console: where stderr pointed before `logto` put the log file on fds
// 1 and 2 (a terminal, the journal, a supervisor's pipe). A log file that
// fails every write (a full disk: ENOSPC, EIO) loses lines where nobody
// would see it: the console says so once, and again when the file takes
// writes again; the workers report their request log's failures to the
// master (request-log.ts), which says them here, as it says its own.
let consoleFd = -1;
let consoleFile = '';
let failing: string | undefined;

// what the log lines are written to, as a notice names it
function logDestination(): string {
  if (consoleFile) return `the log file ${consoleFile}`;
  return 'stderr';
}

/** Sets the console (an fd of our own, close-on-exec) and the log file's path. */
export function setLogConsole(fd: number, file: string): void {
  consoleFd = fd;
  consoleFile = file;
}

/** The console's fd, -1 when there is none (no log file, or stderr was already it). */
export function logConsoleFd(): number {
  return consoleFd;
}

/** The log file failed (`error`: its code) or took a write (null): said on the console when that changes. */
export function logDestinationState(error: string | null, fields: object = {}): void {
  if (consoleFd < 0 || error === 'EAGAIN') return;
  const now = error ?? undefined;
  if ((now === undefined) === (failing === undefined)) return; // no change (the first code of a failure is kept)
  failing = now;
  const line = error
    ? formatLine('log', 'error', { errno: error, file: consoleFile, ...fields }, `unable to write the log file ${consoleFile}: ${error} (its lines are lost until it takes writes again; serving goes on)`)
    : formatLine('log', 'info', { file: consoleFile, ...fields }, `the log file ${consoleFile} takes writes again (it says how many lines were lost)`);
  try {
    fs.writeSync(consoleFd, line);
  } catch { /* the console is gone too */ }
}

function renamePid(fields: object): object {
  if (!('pid' in fields)) return fields;
  const { pid, ...rest } = fields as { pid: unknown };
  // the logging process's own pid ("master started pid=…" in text) is the line's `pid` already
  if (pid === process.pid) return rest;
  return 'worker' in rest ? { worker_pid: pid, ...rest } : { child_pid: pid, ...rest };
}

// A worker's call site may name its own slot (`worker: spec.id`), which its
// base fields already carry: pino would write the key twice
function jsonFields(fields: object): object {
  const out = renamePid(fields) as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in out) {
    if (key === 'pid' || !(key in base) || base[key] !== out[key]) continue;
    copy ??= { ...out };
    delete copy[key];
  }
  return copy ?? out;
}

/** The logger of one component (config, hooks, master, worker, app ...). */
export function log(component: string): Logger {
  let l = loggers.get(component);
  if (!l) {
    const emit = (level: Level) => (a: object | string, b?: string) => {
      if (mutedComponent === component) return;
      const [fields, msg] = typeof a === 'string' ? [{}, a] : [a, b ?? ''];
      if (format === 'json') pinoChild(component)[level](jsonFields(fields), msg);
      else writeText(textLine(component, level, fields, msg));
    };
    l = { info: emit('info'), warn: emit('warn'), error: emit('error') } as Logger;
    loggers.set(component, l);
  }
  return l;
}

let mutedComponent: string | undefined;

/** Runs `f` without the lines of `component`: a reload's check of the new
 * config, whose warnings the new image says once it loads it (else every
 * reload said each of them twice). */
export function muted<T>(component: string, f: () => T): T {
  mutedComponent = component;
  try {
    return f();
  } finally {
    mutedComponent = undefined;
  }
}

// An app's console.log (process.stdout/stderr) into a log file that fails
// (a full disk: ENOSPC; a closed pipe: EPIPE) errs on the stream after the
// write returned; with no listener that was an uncaught exception, which
// ended the worker as the app's ("uncaught exception in the app") with the
// requests in flight. Now the app's output is lost and `report` hears of it;
// the stream takes writes again afterwards (Node's stdio streams undo their
// destroy). The listener is added when the app first touches the stream:
// creating one costs a worker's boot nothing until then; so is `adapt`
// called (worker/app-output.ts: JSON lines in JSON).
export function guardStdio(report: (error: string) => void, adapt?: (s: NodeJS.WriteStream, name: 'stdout' | 'stderr') => void): void {
  const onError = (e: NodeJS.ErrnoException) => report(e.code ?? 'EIO');
  for (const name of ['stdout', 'stderr'] as const) {
    const desc = Object.getOwnPropertyDescriptor(process, name);
    const get = desc?.get;
    if (!get || !desc.configurable) continue;
    let guarded: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: desc.enumerable,
      get(): NodeJS.WriteStream {
        const s = get.call(process) as NodeJS.WriteStream;
        if (s !== guarded) {
          guarded = s;
          s.on('error', onError);
          adapt?.(s, name);
        }
        return s;
      },
    });
  }
}

/**
 * The pino logger of the request log's JSON lines: this process's base
 * fields and `component: "request"`, each line handed to `write`, its time
 * field from `time` (the request's, not the moment it is formatted).
 */
export function requestPino(write: (line: string) => void, time: () => string): Pino {
  if (!requestPinoLogger) {
    const pino = loadPino();
    requestPinoLogger = pino({ base: { ...base, component: 'request' }, timestamp: time }, { write });
  }
  return requestPinoLogger;
}

let appLine = '';

/** A line of the app's own output (`stream`: stdout, stderr) as a JSON log
 * line of component "app" (worker/app-output.ts). */
export function appOutputLine(stream: 'stdout' | 'stderr', msg: string): string {
  if (!appPinoLogger) {
    const pino = loadPino();
    appPinoLogger = pino({ base: { ...base, component: 'app' }, timestamp: pino.stdTimeFunctions.isoTime }, { write: (line: string) => (appLine = line) });
  }
  if (stream === 'stdout') appPinoLogger.info({ stream }, msg);
  else appPinoLogger.error({ stream }, msg);
  return appLine;
}

/** Set by the request log: writes its pending lines now (before a reopen). */
export function setRequestLogFlush(flush: () => void): void {
  requestFlush = flush;
}

/** Called before the log file is reopened: pending request lines go to the old one. */
export function flushRequestLog(): void {
  requestFlush?.();
}
