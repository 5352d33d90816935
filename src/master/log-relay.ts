// log-master: the workers' stdout and stderr (the request log, the app's
// output, and that of every process the app starts, which inherit them)
// and the attach-daemons' are pipes the master reads, one pair each, instead of the
// instance's log itself. The master writes whole lines only, so lines of
// several workers never interleave mid-line (uWSGI uses one datagram
// socket for that); a line longer than `log-master-bufsize` bytes is cut
// into pieces of that size. On the way: log-filter and log-drain, and in
// `log-format = json` a line that is not a JSON object becomes one
// (component "app", the worker's pid and slot, the stream), so that the
// stream holds nothing but JSON, whoever wrote it. A log reopen then
// concerns the master alone. The pipes survive a reload's re-exec with
// their workers (generations.ts): the new image reads them on.
// With loggers (logger, log-route: master/loggers/) a line goes to them
// instead. With req-logger a worker writes its request log to a third pipe
// of its own (uWSGI's request-log pipe), so that request lines are told
// from the others by where they come from, never by what they say (an
// app's line cannot pass for one): its lines go to the req-loggers, the
// other two pipes' to the loggers or stderr.
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import type { Config } from '../config/config';
import { wantsLogMaster } from '../config/logger-spec';
import { hasLogRules, isJsonObject, lineEncoder, lineRouter, logDestinationState, logFormat, logLineShown, setLineEncoder, setLineSink, setLogRules, warningLine } from '../log';
import { compileEncoders, type Encode } from './log-encoders';
import { LogWriter } from '../os/log-writer';
import { native } from '../os/native';

const NL = 10;
const NEWLINE = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);

/** The worker process (its slot may change: a warm spare given one), or
 * an attach-daemon (`daemon`: its command; id 0). */
interface Source {
  readonly id: number;
  readonly pid: number;
  readonly daemon?: string;
}

let on = false;
let bufsize = 8192; // uWSGI's default log-master-bufsize

/** What the master needs of log-master (carried across a reload as settings). */
export interface LogMasterSpec {
  bufsize: number;
  drain: string[];
  filter: string[];
  encoders?: string[]; // (absent in a handover from an older image)
  reqLog?: boolean; // req-logger: the workers' request log on a pipe of its own
  reqEncoders?: string[]; // log-req-encoder
}

/** log-master's settings: undefined when off (log-drain, log-filter, log-encoder and the loggers turn it on, as under uWSGI). */
export function logMasterSpec(cfg: Config): LogMasterSpec | undefined {
  const drain = cfg.list('log-drain').map((s) => s.value);
  const filter = cfg.list('log-filter').map((s) => s.value);
  const encoders = cfg.list('log-encoder').map((s) => s.value);
  if (!wantsLogMaster(cfg)) return undefined;
  // log-req-route alone too (uWSGI's UWSGI_OPT_REQ_LOG_MASTER): unrouted request lines then go to stderr
  const reqLog = cfg.has('req-logger') || cfg.has('log-req-route') || undefined;
  return { bufsize: cfg.int('log-master-bufsize'), drain, filter, encoders, reqLog, reqEncoders: reqLog && cfg.list('log-req-encoder').map((s) => s.value) };
}

/** Turns log-master on in this image. */
export function useLogMaster(spec: LogMasterSpec): void {
  on = true;
  bufsize = spec.bufsize;
  setLogRules(spec.drain.map((r) => new RegExp(r)), spec.filter.map((r) => new RegExp(r)));
  setLineEncoder(compileEncoders(spec.encoders ?? []));
  reqLog = spec.reqLog === true;
  reqEncode = compileEncoders(spec.reqEncoders ?? []);
}

let reqLog = false;
let reqEncode: Encode | undefined;

/** Whether new workers write their request log on a pipe of its own (req-logger). */
export function reqLogPipeOn(): boolean {
  return reqLog;
}

// The relayed lines are written as a worker writes its request log: never
// blocking the master's loop (a write in the thread pool), at most
// MAX_QUEUED bytes waiting for a slow reader (twice a worker's bound: the
// master writes for all of them), beyond that dropped and counted; so a
// log reader that stops reading costs lines, never a worker (the master
// keeps reading their pipes). To fd 2: the log file after logto and its
// reopens.
const MAX_QUEUED = 4 << 20;
const RELAY_HOLD_MS = 1000; // a write not back by then: a stuck log, not waited for
let writer: LogWriter | undefined;

function relayWriter(): LogWriter {
  if (writer) return writer;
  const notice = (lines: number) => warningLine('log', { lines }, 'workers\' log lines dropped: the log did not take them (full, or its reader stopped reading)');
  const w = new LogWriter(2, notice, undefined, (error) => logDestinationState(error), MAX_QUEUED);
  writer = w;
  process.on('exit', () => w.flushSync());
  setLineSink((line) => {
    if (!w.writing) return false;
    const buf = Buffer.from(line);
    w.write(buf, buf.length, 1);
    return true;
  });
  return w;
}

/** Whether new workers write through the master (their stdio: pipes). */
export function logMasterOn(): boolean {
  return on;
}

// the pipes not read to their end yet (a stop waits for them)
const unread = new Set<Readable>();

/** At a stop, once the workers are gone: until what they wrote is read
 * and written (at most `ms`: a process they left may hold a pipe open). */
export async function relayDrained(ms: number): Promise<void> {
  if (!writer && unread.size === 0) return;
  const deadline = Date.now() + ms;
  while (unread.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    relayWriter().whenIdle(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Before a reload's re-exec: no write left to the thread pool (the exec
 * would lose it); what comes meanwhile waits for the handover's flush. */
export async function holdRelayedOutput(): Promise<void> {
  if (!writer) return;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<void>((resolve) => { timer = setTimeout(resolve, RELAY_HOLD_MS); });
  await Promise.race([writer.hold(), stuck]);
  clearTimeout(timer);
}

/** After the relays' handover: what waits is written now, before the exec. */
export function flushRelayedOutput(): void {
  writer?.flushSync();
}

/** The lines of one worker's stdout and stderr (and request log pipe), relayed to the log. */
export class OutputRelay {
  private readonly streams: Array<Readable | undefined>;
  private readonly partial: Array<Buffer | undefined> = [undefined, undefined, undefined];

  constructor(private readonly from: Source, stdout: Readable | null | undefined, stderr: Readable | null | undefined, requests?: Readable | null) {
    this.streams = [stdout ?? undefined, stderr ?? undefined, requests ?? undefined];
    this.streams.forEach((s, i) => {
      if (!s) return;
      unread.add(s);
      s.on('data', (chunk: Buffer) => this.take(i, chunk));
      s.on('end', () => this.flush(i));
      s.on('error', () => undefined); // a pipe error ends it ('close'): nothing to say
      s.on('close', () => unread.delete(s));
    });
  }

  /** Before a reload's re-exec (between holdRelayedOutput and
   * flushRelayedOutput): what was read is queued, reading stops, and the
   * pipes' fds stay open for the next image; so does a partial line
   * (`partial`, base64), which the next image completes. */
  handOver(): { fds: number[]; partial: string[] } | undefined {
    const fds: number[] = [];
    const partial: string[] = [];
    this.streams.forEach((s, i) => {
      if (!s) return;
      // what Node read already, then no more reads by this image: a paused
      // stream still reads up to its high-water mark, which the exec would lose
      s.pause();
      let chunk: Buffer | null;
      while ((chunk = s.read() as Buffer | null) !== null) this.take(i, chunk);
      const handle = (s as Readable & { _handle?: { fd?: number; readStop?: () => number } | null })._handle;
      handle?.readStop?.();
      unread.delete(s);
      const fd = handle?.fd;
      if (typeof fd !== 'number' || fd < 0) return this.flush(i);
      native.setCloexec(fd, false);
      fds[i] = fd;
      partial[i] = this.partial[i]?.toString('base64') ?? '';
    });
    return fds.length ? { fds, partial } : undefined;
  }

  /** A partial line the previous image had read (adoptOutput). */
  resume(i: number, held: string | undefined): void {
    if (held) this.partial[i] = Buffer.from(held, 'base64');
  }

  private take(i: number, chunk: Buffer): void {
    const held = this.partial[i];
    const data = held ? Buffer.concat([held, chunk]) : chunk;
    this.partial[i] = undefined;
    const out: Buffer[] = [];
    const plain = this.plain(i);
    let start = 0;
    for (;;) {
      const nl = data.indexOf(NL, start);
      const end = nl < 0 ? data.length : nl;
      // a line longer than bufsize: its pieces
      while (end - start > bufsize) {
        this.line(i, data.subarray(start, start + bufsize), out);
        start += bufsize;
      }
      if (nl < 0) break;
      if (plain) out.push(data.subarray(start, nl), NEWLINE);
      else this.line(i, data.subarray(start, nl), out);
      start = nl + 1;
    }
    if (start < data.length) this.partial[i] = Buffer.from(data.subarray(start));
    this.write(out);
  }

  private flush(i: number): void {
    const rest = this.partial[i];
    this.partial[i] = undefined;
    if (!rest) return;
    const out: Buffer[] = [];
    this.line(i, rest, out);
    this.write(out);
  }

  // whether the lines of stream `i` go out as they are: no JSON, no rules,
  // no encoder, no logger (asked once a chunk: a line then costs a push)
  private plain(i: number): boolean {
    const req = i === 2;
    return (req || (logFormat() !== 'json' && !hasLogRules())) && !(req ? reqEncode : lineEncoder()) && !lineRouter(req);
  }

  // one line (without its newline) as it goes out, if it does (stream 2:
  // the request log pipe, whose lines are liege's, JSON already in JSON,
  // and not for log-drain and log-filter, as under uWSGI)
  private line(i: number, bytes: Buffer, out: Buffer[]): void {
    if (this.plain(i)) {
      out.push(bytes, NEWLINE);
      return;
    }
    const req = i === 2;
    const json = logFormat() === 'json' && !req;
    const encode = req ? reqEncode : lineEncoder();
    const route = lineRouter(req);
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (!req && !logLineShown(text)) return;
    if (json && !isJsonObject(text)) text = this.encode(i, text);
    if (route?.(text)) return;
    if (encode) out.push(Buffer.from(encode(`${text}\n`)), EMPTY);
    else out.push(Buffer.from(text), NEWLINE);
  }

  // the shape of a worker's own app output line (worker/app-output.ts)
  private encode(i: number, msg: string): string {
    const stream = i === 0 ? 'stdout' : 'stderr';
    const level = i === 0 ? 30 : 50;
    const time = new Date().toISOString();
    const { pid, id, daemon } = this.from;
    if (daemon !== undefined) return JSON.stringify({ level, time, pid, master_pid: process.pid, component: 'daemon', daemon, stream, msg });
    return JSON.stringify({ level, time, pid, master_pid: process.pid, worker: id, component: 'app', stream, msg });
  }

  // every line is two buffers: the text, the newline (or nothing: encoded)
  private write(out: Buffer[]): void {
    if (out.length === 0) return;
    const buf = Buffer.concat(out);
    relayWriter().write(buf, buf.length, out.length / 2);
  }
}

/** The relay of a worker adopted across a reload: its pipes' fds, kept
 * open by the old image, and the partial lines it had read. */
export function adoptOutput(from: Source, kept: { fds: number[]; partial: string[] }): OutputRelay {
  const fds = kept.fds;
  const open = (fd: number | null | undefined) => {
    if (fd === undefined || fd === null) return undefined; // (a hole of the JSON array: null)
    native.setCloexec(fd, true);
    return new net.Socket({ fd, readable: true, writable: false });
  };
  const relay = new OutputRelay(from, open(fds[0]), open(fds[1]), open(fds[2]));
  kept.partial.forEach((held, i) => relay.resume(i, held));
  return relay;
}
