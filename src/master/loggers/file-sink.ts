// The loggers that write to a file descriptor: file:PATH (appended to,
// created 0640, opened by the master before the privilege drop, as logto),
// stdio (the master's stdout, as uWSGI: the logto file when there is one)
// and fd:N (a descriptor the master inherited). The lines of one turn of
// the loop go out in one asynchronous write (os/log-writer.ts: never
// blocking the master, bounded, a failing write counted and said once).
// A file is reopened at the same path by log-reopen, touch-logreopen and
// fifo `l` (after logrotate moved it: the fd is replaced in place with
// dup2, so a write in flight is not lost), and when it was removed (checked
// every CHECK_MS while open): then it is created again, or, when that
// fails (its directory gone), said once; lines go on to the removed file.
import * as fs from 'node:fs';
import { log, logEverywhere, warningLine } from '../../log';
import { LogWriter } from '../../os/log-writer';
import { native } from '../../os/native';
import { Fault } from './fault';

const CHECK_MS = 1000;
const MAX_QUEUED = 4 << 20;

/** One line at a time in, one write per turn of the loop out. */
export interface Sink {
  readonly label: string;
  write(line: string): void;
  flushSync(): void;
}

export class FdSink implements Sink {
  private pending: string[] = [];
  private scheduled = false;
  protected readonly writer: LogWriter;
  protected readonly fault: Fault;

  constructor(readonly label: string, protected readonly fd: number) {
    this.fault = new Fault(label, 'takes writes');
    const notice = (lines: number) => warningLine('log', { lines, logger: label }, `log lines dropped: the logger ${label} did not take them (full, or its reader stopped reading)`);
    this.writer = new LogWriter(fd, notice, undefined, (code) => this.fault.state(code), MAX_QUEUED);
  }

  write(line: string): void {
    this.pending.push(line);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(''));
    const lines = this.pending.length;
    this.pending = [];
    this.writer.write(buf, buf.length, lines);
  }

  flushSync(): void {
    this.flush();
    this.writer.flushSync();
  }

  /** Before a re-exec: no write left to the thread pool (the exec would
   * lose it); what comes meanwhile waits for flushSync. */
  hold(): Promise<void> {
    this.flush();
    return this.writer.hold();
  }
}

/** Opens `path` to append to (throws the open's error). */
export function openAppend(path: string): number {
  return fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640) // (close-on-exec: libuv);
}

export class FileSink extends FdSink {
  private checking?: NodeJS.Timeout;
  private removedSaid = false;

  constructor(label: string, readonly path: string, fd: number) {
    super(label, fd);
    this.checking = setInterval(() => this.check(), CHECK_MS);
    this.checking.unref();
  }

  /** The file's fd (kept across a reload's re-exec). */
  get descriptor(): number {
    return this.fd;
  }

  /** A fresh open of the path in place of the old one (throws the open's error: the old one stays). */
  reopen(): void {
    const fresh = openAppend(this.path);
    try {
      native.dup2(fresh, this.fd);
    } finally {
      fs.closeSync(fresh);
    }
  }

  // removed (no link left): created again, else said once
  private check(): void {
    fs.fstat(this.fd, (err, st) => {
      if (err || st.nlink > 0) return;
      try {
        this.reopen();
        this.removedSaid = false;
        log('log').info({ logger: this.label, file: this.path }, `the log file ${this.path} of the logger ${this.label} was removed: created again`);
      } catch (e) {
        if (this.removedSaid) return;
        this.removedSaid = true;
        const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
        logEverywhere('log', 'error', { logger: this.label, errno: code, file: this.path }, `the log file ${this.path} of the logger ${this.label} was removed and cannot be created again: ${code} (its lines go to the removed file until it can; serving goes on)`);
      }
    });
  }

  close(): void {
    clearInterval(this.checking);
  }
}
