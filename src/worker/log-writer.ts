// Writes batches of log lines to a file descriptor without ever blocking the
// event loop: one asynchronous write(2) per batch (libuv's thread pool), the
// next batches queued meanwhile. A destination that does not keep up (a log
// reader that stopped reading a pipe) costs at most MAX_QUEUED bytes of
// memory: beyond, batches are dropped and counted; a failing one (ENOSPC,
// EPIPE, EBADF, EIO ...) is dropped and counted too, and the next write that
// goes through is preceded by a line saying how many were lost. EAGAIN (a
// non-blocking destination, full) is retried after a pause.
// Pipes and sockets get writes of at most PIPE_BUF bytes cut at line ends,
// so that lines of several processes sharing the destination never
// interleave (the kernel keeps a pipe write of up to PIPE_BUF whole); a
// regular file takes a whole batch in one write (O_APPEND, or the file
// description's position lock, keep it whole).
// At exit, `flushSync` writes what is queued; a write in flight then is left
// to the thread pool (a regular file's write is microseconds), unless the
// destination is stuck: then what is queued is dropped rather than block.
import * as fs from 'node:fs';

const MAX_QUEUED = 2 << 20;
const PIPE_BUF = 4096;
const RETRY_MS = 20;

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
  private readonly onWritten: (err: NodeJS.ErrnoException | null, n: number) => void;

  /**
   * `notice(n)`: the line that says n lines were lost; `release(buf)`: a
   * buffer given to `write` is written (or dropped) and free again.
   */
  constructor(private readonly fd: number, private readonly notice: (lines: number) => string, private readonly release: (buf: Buffer) => void = () => {}) {
    this.onWritten = (err, n) => this.written(err, n);
  }

  /** Queues `buf[0, len)`: `lines` whole lines. */
  write(buf: Buffer, len: number, lines: number): void {
    if (this.queued + len > MAX_QUEUED) {
      this.dropped += lines;
      this.release(buf);
      return;
    }
    this.queue.push({ buf, off: 0, end: len, lines, notice: false });
    this.queued += len;
    if (!this.busy) this.next();
  }

  private next(): void {
    if (this.dropped && !(this.queue[0]?.off)) this.queueNotice(); // not inside a half-written chunk
    const head = this.queue[0];
    if (!head) {
      this.busy = false;
      return;
    }
    if (!this.busy) this.regular = isRegular(this.fd);
    this.busy = true;
    const len = this.regular ? head.end - head.off : lineCut(head.buf, head.off, head.end);
    fs.write(this.fd, head.buf, head.off, len, null, this.onWritten);
  }

  private queueNotice(): void {
    const buf = Buffer.from(this.notice(this.dropped));
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
    if (err) {
      this.dropped += head.lines; // a notice lost: its count is still owed
      n = head.end - head.off;
    }
    this.queued -= n;
    head.off += n;
    if (head.off >= head.end) this.done();
    this.next();
  }

  private done(): void {
    const head = this.queue.shift()!;
    if (!head.notice) this.release(head.buf);
  }

  /** At exit: writes what is queued, synchronously, as far as it goes. */
  flushSync(): void {
    const regular = isRegular(this.fd);
    // a pipe whose last write never came back: writing now would block
    if (this.busy && !regular) return;
    const start = this.busy ? 1 : 0; // the head is in flight
    for (let i = start; i < this.queue.length; i++) {
      const c = this.queue[i]!;
      while (c.off < c.end) {
        try {
          c.off += fs.writeSync(this.fd, c.buf, c.off, regular ? c.end - c.off : lineCut(c.buf, c.off, c.end));
        } catch {
          return; // full, closed: what is left is lost
        }
      }
    }
    this.queue.length = start;
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
