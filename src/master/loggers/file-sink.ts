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
// uWSGI's `file:logfile=PATH,maxsize=BYTES[,backupname=B]` rotates it when
// it grew past maxsize (seen by the same check).
import * as fs from 'node:fs';
import { log, logEverywhere, warningLine } from '../../log';
import { LogWriter, openLogFile } from '../../os/log-writer';
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
  private readonly writer: LogWriter;

  constructor(readonly label: string, protected readonly fd: number) {
    const fault = new Fault(label, 'takes writes');
    const notice = (lines: number) => warningLine('log', { lines, logger: label }, `log lines dropped: the logger ${label} did not take them (full, or its reader stopped reading)`);
    this.writer = new LogWriter(fd, notice, undefined, (code) => fault.state(code), MAX_QUEUED);
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


/** uWSGI's `maxsize` (bytes) and `backupname` (default: PATH.UNIXTIME). */
export interface Rotation {
  maxsize: number;
  backup?: string;
}

export class FileSink extends FdSink {
  private removedSaid = false;
  private rotateSaid = false;

  constructor(label: string, readonly path: string, fd: number, private readonly rotation?: Rotation) {
    super(label, fd);
    setInterval(() => this.check(), CHECK_MS).unref();
  }

  /** The file's fd (kept across a reload's re-exec). */
  get descriptor(): number {
    return this.fd;
  }

  /** A fresh open of the path in place of the old one (throws the open's error: the old one stays). */
  reopen(): void {
    const fresh = openLogFile(this.path);
    try {
      native.dup2(fresh, this.fd);
    } finally {
      fs.closeSync(fresh);
    }
  }

  // removed (no link left): created again, else said once; over maxsize: rotated
  private check(): void {
    fs.fstat(this.fd, (err, st) => {
      if (err) return;
      if (st.nlink > 0) return this.rotateAbove(st.size);
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

  // uWSGI's rotation by size (checked once a second: a file may pass
  // maxsize by a second of lines): renamed, then a new one at the path
  private rotateAbove(size: number): void {
    if (!this.rotation || size <= this.rotation.maxsize) return;
    const to = this.rotation.backup ?? `${this.path}.${Math.floor(Date.now() / 1000)}`;
    try {
      fs.renameSync(this.path, to);
      this.reopen();
      this.rotateSaid = false;
      log('log').info({ logger: this.label, file: this.path, size, to }, `log file ${this.path} rotated to ${to} (over maxsize ${this.rotation.maxsize})`);
    } catch (e) {
      if (this.rotateSaid) return;
      this.rotateSaid = true;
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      logEverywhere('log', 'error', { logger: this.label, errno: code, file: this.path, to }, `unable to rotate the log file ${this.path} to ${to}: ${code} (it grows on; serving goes on)`);
    }
  }
}
