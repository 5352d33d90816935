// The stats and metrics servers' listening sockets survive the master's
// re-exec like the serving sockets (sockets.ts): a scrape during a reload
// waits in the kernel's backlog for the new image instead of being refused
// (the re-exec takes ~200 ms). The old image stops accepting at once (a
// connection it took and had not answered at the exec would be lost). The
// touch files' last mtimes go along: a touch during the re-exec is seen.
// The master fifos stay open too (uWSGI closes them: a writer's
// O_NONBLOCK open meets ENXIO while no image reads, and what was written
// and not read is dropped); what an operator writes during the re-exec
// waits in the pipe for the next image. So do the commands the old image
// had read and not run yet (a `q` right after an `r`).
import * as fs from 'node:fs';
import type * as net from 'node:net';
import { native } from '../../os/native';
import type { OpenedFifo } from './fifo';

const ENV = 'LIEGE_CONTROL_FDS';

/** A control server's socket kept across the exec. */
interface Kept {
  name: string; // 'stats' | 'metrics'
  addr: string;
  fd: number;
}

/** A master fifo's read end, kept across the exec. */
export interface KeptFifo {
  path: string; // absolute
  fd: number;
}

export interface ControlServer {
  name: string;
  addr: string;
  server: net.Server;
}

/** How long the answers in progress may take before the exec goes anyway. */
const ANSWER_MS = 1000;

/** Keep a copy of the servers' sockets open across the execve (saying
 * which is which), close the servers and let the answers in progress end;
 * `touched`: the touch files' mtimes seen last; `fifos`: open, not
 * close-on-exec. */
export async function keepAcrossExec(servers: ControlServer[], touched: Record<string, number>, fifos: KeptFifo[]): Promise<void> {
  const kept: Kept[] = [];
  const closed: Array<Promise<void>> = [];
  for (const s of servers) {
    const fd = (s.server as net.Server & { _handle?: { fd?: number } | null })._handle?.fd;
    if (typeof fd === 'number' && fd >= 0) {
      const copy = native.dupFd(fd);
      native.setCloexec(copy, false);
      kept.push({ name: s.name, addr: s.addr, fd: copy });
    }
    closed.push(new Promise((resolve) => s.server.close(() => resolve())));
  }
  process.env[ENV] = JSON.stringify({ kept, touched, fifos });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closed), new Promise((resolve) => { timer = setTimeout(resolve, ANSWER_MS); })]);
  clearTimeout(timer);
}

let inherited: Kept[] | undefined;
let inheritedFifos: KeptFifo[] = [];
let touchedBefore: Record<string, number> = {};
let carried: string[] = [];
const COMMANDS_ENV = 'LIEGE_CARRIED_COMMANDS';

/** Master commands the old image took and had not run when it re-exec'd
 * (fifo letters, touch files, emperor bytes): the next image runs them. */
export function carryCommands(names: string[]): void {
  if (names.length) process.env[COMMANDS_ENV] = JSON.stringify(names);
}

/** The commands carried from the previous image (emptied). */
export function takeCarriedCommands(): string[] {
  inheritedList();
  return carried.splice(0);
}

/** Read what the previous image kept, first thing in the new image: the
 * sockets become close-on-exec before any hook or worker is started (one
 * that inherited the old stats socket would keep it listening, unanswered). */
export function adoptInheritedControl(): void {
  inheritedList();
}

function inheritedList(): Kept[] {
  if (!inherited) {
    try {
      const h = JSON.parse(process.env[ENV] ?? '{}') as { kept?: Kept[]; touched?: Record<string, number>; fifos?: KeptFifo[] };
      inherited = h.kept ?? [];
      touchedBefore = h.touched ?? {};
      inheritedFifos = h.fifos ?? [];
    } catch {
      inherited = [];
    }
    try {
      const c = JSON.parse(process.env[COMMANDS_ENV] ?? '[]') as unknown;
      carried = Array.isArray(c) ? c.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      carried = [];
    }
    delete process.env[ENV];
    delete process.env[COMMANDS_ENV];
    // only a listening socket is ours: a stale variable (an exec that
    // failed, a copied environment) must not make us close another fd
    inherited = inherited.filter((k) => isListening(k.fd));
    for (const k of inherited) native.setCloexec(k.fd, true);
    // a fifo removed or replaced while the master re-exec'd: its fd is
    // still ours (a fifo), closed here, not left to every worker
    inheritedFifos = inheritedFifos.filter((k) => {
      if (sameFifo(k)) return native.setCloexec(k.fd, true), true;
      if (isFifo(k.fd)) native.closeFd(k.fd);
      return false;
    });
  }
  return inherited;
}

/** `k.fd` is the fifo at `k.path` (not replaced since, not another fd). */
function sameFifo(k: KeptFifo): boolean {
  try {
    const a = fs.fstatSync(k.fd);
    const b = fs.statSync(k.path);
    return a.isFIFO() && a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** The read end of the fifo at `path` the previous image kept open, if any. */
export function takeInheritedFifo(path: string): number | undefined {
  inheritedList();
  const i = inheritedFifos.findIndex((k) => k.path === path);
  if (i < 0) return undefined;
  return inheritedFifos.splice(i, 1)[0]!.fd;
}

function isFifo(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isFIFO();
  } catch {
    return false;
  }
}

function isListening(fd: number): boolean {
  try {
    return native.sockName(fd) !== null;
  } catch {
    return false;
  }
}

/** The socket the previous image served `name` on at `addr`, if any. */
export function takeInherited(name: string, addr: string): number | undefined {
  const list = inheritedList();
  const i = list.findIndex((k) => k.name === name && k.addr === addr);
  if (i < 0) return undefined;
  return list.splice(i, 1)[0]!.fd;
}

/** Close what the new config no longer serves (a unix path stays as a
 * stale socket file: the next bind of that path replaces it). Returns the
 * master fifos no longer read (vacuum removes them, as a socket file). */
export function closeUnclaimed(): OpenedFifo[] {
  const dropped: OpenedFifo[] = [];
  for (const k of inheritedFifos) {
    try {
      const st = fs.fstatSync(k.fd);
      dropped.push({ path: k.path, dev: st.dev, ino: st.ino });
    } catch { /* not open: nothing to remove */ }
  }
  for (const k of [...inheritedList(), ...inheritedFifos.splice(0)]) {
    try {
      native.closeFd(k.fd);
    } catch { /* already closed */ }
  }
  inherited = [];
  return dropped;
}

/** The touch files' mtimes the previous image saw last (empty at first start). */
export function touchedBeforeExec(): Record<string, number> {
  inheritedList();
  return touchedBefore;
}
