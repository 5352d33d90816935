// Writes batches of log lines to a file descriptor without ever blocking the
// event loop: one asynchronous write(2) per batch (libuv's thread pool), the
// next batches queued meanwhile. A destination that does not keep up (a log
// reader that stopped reading a pipe) costs at most MAX_QUEUED bytes of
// memory: beyond, batches are dropped and counted. A failing write (ENOSPC,
// EPIPE, EBADF, EIO ...) drops its batch and every batch queued behind it,
// counted; the next batch to come tries again, preceded by a line saying how
// many were lost. Never more: a destination that fails every write (a full
// disk, /dev/full) costs one or two failed writes per batch, not a loop of
// them (a notice retried at once after each failure kept a thread of every
// worker writing forever, and the starved workers let their keep-alive
// timers close connections whose next request was already sent). EAGAIN (a
// non-blocking destination, full) is retried after a pause.
// Pipes and sockets get writes of at most PIPE_BUF bytes cut at line ends,
// so that lines of several processes sharing the destination never
// interleave (the kernel keeps a pipe write of up to PIPE_BUF whole); a
// regular file takes a whole batch in one write (O_APPEND, or the file
// description's position lock, keep it whole).
// At exit, `flushSync` writes what is queued behind the write in flight
// (left to the thread pool), unless that one has not come back for STUCK_MS:
// the destination is stuck, and what is queued is dropped rather than block
// the exit.
import * as fs from 'node:fs';
import { monoMs } from './clock';

const MAX_QUEUED = 2 << 20;
const PIPE_BUF = 4096;
const RETRY_MS = 20;
const STUCK_MS = 1000;
const SETTLE_MS = 5;
const nap = new Int32Array(new SharedArrayBuffer(4));

interface Chunk {
  buf: Buffer;
  off: number;
  end: number;
  lines: number; // request lines in it (a notice: the lines it reports)
  notice: boolean;
}

export class LogWriter {
  private readonly queue: Chunk[] = [];
  private queued = 0;
  private busy = false;
  private regular = true;
  private dropped = 0;
  private sentAt = 0;
  private sending = 0; // bytes of the head in the write in flight
  private failing = false;
  private cut = false; // the last write ended inside a line (a disk just full)
  private readonly idle: Array<() => void> = [];
  private sends = 0; // writes handed to the pool: a callback of one flushSync gave up on is ignored

  /**
   * `notice(n)`: the line that says n lines were lost; `release(buf)`: a
   * buffer given to `write` is written (or dropped) and free again;
   * `state(code)`: the destination started failing (the error's code), or
   * took a write again (null); `maxQueued`: bytes waiting beyond which batches are dropped.
   */
  constructor(
    private readonly fd: number,
    private readonly notice: (lines: number) => string,
    private readonly release: (buf: Buffer) => void = () => {},
    private readonly state: (error: string | null) => void = () => {},
    private readonly maxQueued = MAX_QUEUED,
  ) {}

  /** Queues `buf[0, len)`: `lines` whole lines. */
  write(buf: Buffer, len: number, lines: number): void {
    if (this.queued + len > this.maxQueued) {
      this.dropped += lines;
      this.release(buf);
      return;
    }
    this.queue.push({ buf, off: 0, end: len, lines, notice: false });
    this.queued += len;
    if (!this.busy) this.next();
  }

  private next(): void {
    const first = this.queue[0];
    // the count goes before a new batch (not inside a half-written one, nor
    // alone: a notice that failed waits for the next batch)
    if (this.dropped && first && first.off === 0 && !first.notice) this.queueNotice();
    const head = this.queue[0];
    if (!head) {
      this.busy = false;
      for (const cb of this.idle.splice(0)) cb();
      return;
    }
    if (this.held) {
      this.busy = false;
      this.held();
      return;
    }
    if (!this.busy) this.regular = isRegular(this.fd);
    this.busy = true;
    const len = this.regular ? head.end - head.off : lineCut(head.buf, head.off, head.end);
    this.sentAt = monoMs();
    this.sending = len;
    const send = ++this.sends;
    fs.write(this.fd, head.buf, head.off, len, null, (err, n) => {
      if (send === this.sends) this.written(err, n);
    });
  }

  private queueNotice(): void {
    // after a cut line, the notice starts a line of its own
    const buf = Buffer.from(`${this.cut ? '\n' : ''}${this.notice(this.dropped)}`);
    this.queue.unshift({ buf, off: 0, end: buf.length, lines: this.dropped, notice: true });
    this.queued += buf.length;
    this.dropped = 0;
  }

  private written(err: NodeJS.ErrnoException | null, n: number): void {
    const head = this.queue[0]!;
    if (err && (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK')) {
      setTimeout(() => this.next(), RETRY_MS).unref();
      return;
    }
    if (err) return this.fail(err.code ?? 'EIO');
    if (this.failing) {
      this.failing = false;
      this.state(null);
    }
    if (n > 0) this.cut = head.buf[head.off + n - 1] !== 10;
    this.queued -= n;
    head.off += n;
    if (head.off >= head.end) this.done();
    this.next();
  }

  // the destination failed: what is queued is lost with it (a notice's
  // count is still owed), and nothing is written until the next batch
  private fail(code: string): void {
    if (!this.failing) {
      this.failing = true;
      this.state(code);
    }
    for (const c of this.queue.splice(0)) {
      this.dropped += c.lines;
      if (!c.notice) this.release(c.buf);
    }
    this.queued = 0;
    this.next();
  }

  private done(): void {
    const head = this.queue.shift()!;
    if (!head.notice) this.release(head.buf);
  }

  private held?: () => void;

  /** Starts no more writes until `flushSync`; resolves once the write in
   * flight (if any) came back: then a flushSync loses nothing (before an
   * exec, which would drop a write the thread pool had not run yet). */
  hold(): Promise<void> {
    return new Promise((resolve) => {
      this.held = resolve;
      if (!this.busy) resolve();
    });
  }

  /** Whether a write is in flight (then what is written next waits its turn). */
  get writing(): boolean {
    return this.busy;
  }

  /** Calls `cb` once everything queued is written (or dropped). */
  whenIdle(cb: () => void): void {
    if (this.busy) this.idle.push(cb);
    else cb();
  }

  /** At exit: writes what is queued, synchronously, as far as it goes. */
  flushSync(): void {
    if (this.busy) {
      const inFlight = monoMs() - this.sentAt;
      // a destination that took no write for that long is stuck: writing
      // now would block the exit, and the lines are lost anyway
      if (inFlight > STUCK_MS) return;
      // a write just handed to the pool: let it go first (order of the lines)
      if (inFlight < SETTLE_MS) Atomics.wait(nap, 0, 0, SETTLE_MS - inFlight);
      const head = this.queue[0];
      if (head) head.off += this.sending; // in the thread pool's hands
      // its callback is not awaited: the writer goes on after this flush
      // (a reload's re-exec flushes it, then liege's own lines may follow)
      this.sends++;
      this.busy = false;
    }
    const regular = isRegular(this.fd);
    let waited = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const c = this.queue[i]!;
      while (c.off < c.end) {
        try {
          c.off += fs.writeSync(this.fd, c.buf, c.off, regular ? c.end - c.off : lineCut(c.buf, c.off, c.end));
        } catch (e) {
          // a reader slower than the exit (a full pipe) is waited for, as long as a stuck write
          const code = (e as NodeJS.ErrnoException).code;
          if ((code !== 'EAGAIN' && code !== 'EWOULDBLOCK') || waited >= STUCK_MS) return; // closed, full disk, stuck: lost
          Atomics.wait(nap, 0, 0, SETTLE_MS);
          waited += SETTLE_MS;
        }
      }
    }
    this.queue.length = 0;
    this.queued = 0;
    this.held = undefined;
  }
}

function isRegular(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isFile();
  } catch {
    return true; // closed: the write says so
  }
}

/** How much of `buf[off, end)` one write takes: at most PIPE_BUF bytes, whole lines. */
function lineCut(buf: Buffer, off: number, end: number): number {
  if (end - off <= PIPE_BUF) return end - off;
  const last = buf.lastIndexOf(10, off + PIPE_BUF - 1);
  return last < off ? PIPE_BUF : last + 1 - off; // a line longer than PIPE_BUF goes in pieces
}

/** Opens a log file to append to, created 0640 (logto, daemonize, file
 * loggers); close-on-exec, as libuv opens; throws the open's error. */
export function openLogFile(path: string): number {
  return fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
}
