// master-fifo (uWSGI): a FIFO the master reads one-letter commands from.
// Several fifos may be configured; the first is active, and writing a digit
// 0-9 to the active one makes that fifo the active one. Commands go into the
// master's event queue as `{ type: 'command', name }` like signals do.
// Each path is looked at once a second (with the touch files): a fifo
// removed while the instance runs is made again (uWSGI makes its fifo again
// after each writer; a removed one left the operator's `echo r > FIFO`
// writing a plain file nobody reads), one put in its place is read.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fdLimitHint, LiegeError, type Origin } from '../../errors';
import { log } from '../../log';
import { native } from '../../os/native';
import { afterDrop, othersFile } from './after-drop';
import { takeInheritedFifo, type KeptFifo } from './handover';

/** uWSGI's fifo letters → master command names (the ones that apply to Node). */
export const FIFO_COMMANDS: Record<string, string> = {
  r: 'reload', // graceful reload
  R: 'brutal-reload',
  q: 'stop', // graceful stop
  Q: 'quit', // immediate stop
  w: 'workers-reload', // graceful, workers only
  W: 'brutal-workers-reload',
  c: 'chain-reload',
  l: 'reopen-logs',
  L: 'reopen-logs', // rotate: liege does not rotate, it reopens after an external rotation
  p: 'pause',
  P: 'pidfiles', // write the pidfiles again
  s: 'stats-log', // the stats document to the log
};

/** A fifo this image read commands from: vacuum removes it at exit if it
 * is still the same file (dev, inode). */
export interface OpenedFifo {
  path: string; // absolute (a `chdir` later does not move it)
  dev: number;
  ino: number;
}

const opened = new Map<string, OpenedFifo>();

/** The master fifos this image opened (vacuum). */
export function openedFifos(): OpenedFifo[] {
  return [...opened.values()];
}

/** How often the paths are looked at (uWSGI's master cycle, the touch files'). */
const WATCH_MS = 1000;
const RETRY_MS = 10_000;

interface Reading {
  stream: net.Socket;
  dev: number;
  ino: number;
}

export class MasterFifos {
  private active = 0;
  /** By slot; undefined: left off (lenient) until its path is free or a fifo. */
  private readonly reading: Array<Reading | undefined> = [];
  /** By slot: what was said about the path last (said once, not each second). */
  private readonly said: Array<string | undefined> = [];
  private readonly retryAt: Array<number | undefined> = [];
  private timer?: NodeJS.Timeout;

  /** `lenient`: a fifo that cannot be made is logged and left off (the
   * fallback after a failed reload: the rest of the control side runs). */
  constructor(private readonly paths: string[], private readonly command: (name: string) => void, private readonly origins: Array<Origin | undefined> = [], private readonly lenient = false) {}

  /** Creates (a stale fifo is reused, anything else refused) and opens every fifo. */
  start(): void {
    this.paths.forEach((p, i) => {
      try {
        this.open(p, i);
      } catch (e) {
        if (!this.lenient) {
          this.stop(); // nothing half-started (a reload falls back to the old spec)
          throw e;
        }
        const text = e instanceof LiegeError ? e.describe() : String(e);
        this.said[i] = text;
        log('master').error({ code: (e as LiegeError).code ?? 'LIEGE_ERR_SOCKET' }, `${text}: this fifo is left off (made once its path is free)`);
      }
    });
    if (this.paths.length) {
      this.timer = setInterval(() => this.paths.forEach((p, i) => this.check(p, i)), WATCH_MS);
      this.timer.unref();
    }
  }

  /** The path still names the fifo read at slot `i`; else make or take the
   * one there now. A file that is not a fifo is said once and left alone
   * (never removed: it may be someone's). */
  private check(p: string, i: number): void {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(p);
    } catch { /* removed: make it again */ }
    const r = this.reading[i];
    if (st && r && st.isFIFO() && st.dev === r.dev && st.ino === r.ino) return;
    if (st && !st.isFIFO()) {
      if (r) this.sayOnce(i, 'warn', `the master fifo ${p} was replaced by a file that is not a fifo: commands written there are not read (remove it: the fifo is made again)`);
      return;
    }
    // (making it costs a process, mkfifo: after a failure, every RETRY_MS)
    if (Date.now() < (this.retryAt[i] ?? 0)) return;
    try {
      this.open(p, i);
      this.retryAt[i] = undefined;
      this.sayOnce(i, 'info', st ? `master fifo ${p} replaced: reading the new one` : `master fifo ${p} was removed: made again`);
    } catch (e) {
      this.retryAt[i] = Date.now() + RETRY_MS;
      this.sayOnce(i, 'error', `${e instanceof LiegeError ? e.describe() : String(e)} (tried again every ${RETRY_MS / 1000} s)`);
    }
  }

  private sayOnce(i: number, level: 'info' | 'warn' | 'error', text: string): void {
    if (this.said[i] === text) return;
    this.said[i] = text;
    log('master')[level]({ fifo: this.paths[i] }, text);
  }

  private open(p: string, i: number): void {
    prepare(p, this.origins[i]);
    // O_RDWR: open does not block, and the fifo never reaches EOF between
    // writers (the previous image's, across a reload: what it had not read)
    let fd: number;
    try {
      fd = takeInheritedFifo(path.resolve(p)) ?? fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const full = fdLimitHint(code);
      if (full) throw new LiegeError('LIEGE_ERR_SOCKET', `unable to open the master fifo ${p}: ${full}`, { origin: this.origins[i], cause: e });
      throw new LiegeError('LIEGE_ERR_SOCKET', `unable to open the master fifo ${p}: ${code ?? e}${othersFile(code, p)}`, { origin: this.origins[i], text: p, expected: 'a fifo the master can open', cause: e });
    }
    const st = fs.fstatSync(fd);
    const abs = path.resolve(p);
    opened.set(abs, { path: abs, dev: st.dev, ino: st.ino });
    const stream = new net.Socket({ fd, readable: true, writable: false });
    stream.on('data', (buf: Buffer) => this.read(i, buf.toString('latin1')));
    stream.on('error', (e) => log('master').warn({ fifo: p, error: e.message }, 'master fifo read failed'));
    this.reading[i]?.stream.destroy(); // the removed or replaced one
    this.reading[i] = { stream, dev: st.dev, ino: st.ino };
    this.said[i] = undefined;
  }

  private read(i: number, text: string): void {
    if (i !== this.active) {
      // under uWSGI only the active fifo is open: a write here would block
      if (text.trim()) log('master').warn({ fifo: this.paths[i], active: this.paths[this.active], command: text.trim() }, 'master fifo command ignored: not the active fifo');
      return;
    }
    // each byte is a command (uWSGI): `echo hello` runs the two `l`s; the
    // bytes that are none are said once per read, not once per byte
    let unknown = '';
    for (const ch of text) {
      if (/[0-9]/.test(ch)) {
        this.select(Number(ch));
        break; // later bytes were meant for the old fifo
      }
      const name = FIFO_COMMANDS[ch];
      if (name) this.command(name);
      else if (ch.trim()) unknown += ch;
    }
    if (!unknown) return;
    const what = unknown.length === 1 ? 'command' : 'commands';
    const known = Object.keys(FIFO_COMMANDS).join('');
    log('master').warn({ fifo: this.paths[i], commands: unknown }, `unknown master fifo ${what} ignored: ${JSON.stringify(unknown)} (each byte is a command: ${known}, 0-9 selects a fifo)`);
  }

  private select(n: number): void {
    if (n < this.paths.length) {
      this.active = n;
      log('master').info({ fifo: this.paths[n] }, 'master fifo selected');
    } else {
      log('master').warn({ fifo: this.paths[this.active] }, `master fifo slot ${n} does not exist (${this.paths.length} fifos: 0-${this.paths.length - 1}): the active fifo stays`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    for (const r of this.reading) r?.stream.destroy();
  }

  /** A reload: stop reading, each fifo kept open (a copy of its fd, not
   * close-on-exec) for the next image (handover.ts), named by its absolute
   * path (the next image compares before its `chdir`). */
  handOver(): KeptFifo[] {
    clearInterval(this.timer);
    const out: KeptFifo[] = [];
    this.reading.forEach((r, i) => {
      if (!r) return;
      const p = path.resolve(this.paths[i]!);
      const fd = (r.stream as net.Socket & { _handle?: { fd?: number } | null })._handle?.fd;
      if (typeof fd === 'number' && fd >= 0) {
        try {
          const copy = native.dupFd(fd);
          native.setCloexec(copy, false);
          out.push({ path: p, fd: copy });
        } catch (e) {
          log('master').warn({ fifo: p, code: (e as NodeJS.ErrnoException).code }, `unable to keep the master fifo open across the reload: ${(e as Error).message}`);
        }
      }
      r.stream.destroy();
    });
    return out;
  }
}

function prepare(p: string, origin: Origin | undefined): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(p);
  } catch { /* create it */ }
  const refuse = (why: string, cause?: unknown) => new LiegeError('LIEGE_ERR_SOCKET', `unable to create the master fifo ${p}: ${why}`, { origin, text: p, expected: 'a free path in an existing directory, or an existing fifo', cause });
  if (st && !st.isFIFO()) throw refuse('the path exists and is not a fifo');
  if (st) return;
  try {
    // Node has no mkfifo; its message (no such directory, permission) is the why
    execFileSync('mkfifo', ['-m', '0600', p], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    // (mkfifo is a process: a full descriptor table fails its spawn)
    const full = fdLimitHint((e as NodeJS.ErrnoException).code);
    if (full) throw new LiegeError('LIEGE_ERR_SOCKET', `unable to create the master fifo ${p}: ${full}`, { origin, cause: e });
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim().replace(/^mkfifo: /, '') || (e as Error).message;
    throw refuse(`${why}${afterDrop(/Permission denied/.test(why) ? 'EACCES' : '', p, 'makes')}`, e);
  }
}
