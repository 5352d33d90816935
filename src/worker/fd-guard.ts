// A worker close to its open file limit stops accepting until descriptors
// free up. At the limit, an accept() fails with EMFILE, and libuv's answer
// (uv__emfile_trick) accepts and closes every connection waiting in the
// listen queue: a queue this worker shares with the other workers, which
// would have served them. Clients got resets, and nothing was logged. So the
// worker leaves a reserve: a connection accepted on a descriptor within the
// reserve of the limit, or a probe once a second that finds the lowest free
// descriptor there (Linux hands out the lowest free one: every one below is
// in use), pauses its accept loops; the kernel queues the connections for
// the other workers meanwhile. It accepts again once its count of open
// descriptors is below the limit by twice the reserve.
import * as fs from 'node:fs';
import type * as net from 'node:net';
import { log } from '../log';
import { native } from '../os/native';
import { pauseAccepting, pausedFor, resumeAccepting } from './accept-gate';

const REASON = 'open file limit';

/** The descriptors kept free below the soft limit: 1/32 of it, 2 to 32. */
export const reserveOf = (soft: number): number => Math.max(2, Math.min(32, Math.floor(soft / 32)));

/** The soft RLIMIT_NOFILE now (read each time: prlimit may change it); 0 = unlimited. */
function softLimit(): number {
  const soft = native.getNofile()[0];
  return soft < 0 ? 0 : soft;
}

/** The lowest free descriptor (open and close one), or -1 when none is left. */
function lowestFree(): number {
  try {
    const fd = fs.openSync('/dev/null', 'r');
    fs.closeSync(fd);
    return fd;
  } catch {
    return -1;
  }
}

/** Open descriptors now, or undefined when none is left to read them. */
function openCount(): number | undefined {
  try {
    return fs.readdirSync('/proc/self/fd').length - 1; // the directory's own
  } catch {
    return undefined;
  }
}

/** Guards the accept loops of `servers` (a worker that accepts). */
export function guardOpenFiles(servers: net.Server[], worker: number): void {
  let resumeTimer: NodeJS.Timeout | undefined;
  const full = (fd: number, soft: number) => fd < 0 || fd >= soft - reserveOf(soft);
  const pause = (fd: number, soft: number) => {
    pauseAccepting(servers, REASON);
    if (resumeTimer) return;
    log('worker').warn({ code: 'LIEGE_ERR_SYSCALL', errno: 'EMFILE', worker, fd: fd < 0 ? undefined : fd, limit: soft },
      `worker ${worker} is at its open file limit (${fd < 0 ? 'none left' : `descriptor ${fd}`} of ${soft}): not accepting until some close, the other workers take the new connections (raise LimitNOFILE= / ulimit -n, or look for descriptors the app leaks)`);
    resumeTimer = setInterval(() => {
      const soft = softLimit();
      const n = openCount();
      if (n === undefined || (soft && soft - n < 2 * reserveOf(soft))) return;
      clearInterval(resumeTimer);
      resumeTimer = undefined;
      log('worker').info({ worker, open: n, limit: soft || undefined }, `worker ${worker} accepts again: ${n} open files${soft ? ` of ${soft}` : ''}`);
      resumeAccepting(REASON);
    }, 250);
    resumeTimer.unref();
  };
  const onConnection = (socket: net.Socket) => {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return;
    const soft = softLimit();
    // a connection taken in the same batch restarted the loop: stop it again
    if (soft && (full(fd, soft) || pausedFor(REASON))) pause(fd, soft);
  };
  for (const s of servers) s.prependListener('connection', onConnection);
  setInterval(() => {
    if (pausedFor(REASON)) return;
    const soft = softLimit();
    if (!soft) return;
    const fd = lowestFree();
    if (full(fd, soft)) pause(fd, soft);
  }, 1000).unref();
}
