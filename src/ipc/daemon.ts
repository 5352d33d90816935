// daemonize's contract between the process started by the user and the
// daemon it starts (master/logfile.ts): the daemon gets the write end of a
// pipe at DAEMON_READY_FD and writes one byte once it serves (the master's
// first accepting worker, a single process's first accept, the emperor's loop),
// so the user's command ends with the daemon's status and its error when
// it could not start (a port taken, a full disk), not with 0 in silence.
import * as fs from 'node:fs';

export const DAEMON_READY_ENV = 'LIEGE_DAEMON_READY_FD';
/** The fd the daemon finds the pipe on (stdio[3] of its spawn). */
export const DAEMON_READY_FD = 3;
export const READY_BYTE = 'R';

let readyFd: number | undefined;

/** First thing in the daemon: take the pipe, close-on-exec (no worker or
 * hook inherits it; a reload's re-exec before it served closes it). */
export function adoptDaemonPipe(setCloexec: (fd: number, on: boolean) => void): void {
  const fd = Number(process.env[DAEMON_READY_ENV]);
  delete process.env[DAEMON_READY_ENV];
  if (fd !== DAEMON_READY_FD) return;
  try {
    if (!fs.fstatSync(fd).isSocket() && !fs.fstatSync(fd).isFIFO()) return;
    setCloexec(fd, true);
    readyFd = fd;
  } catch { /* not open: started by hand with the variable set */ }
}

/** The daemon serves: tell the process that started it (once). */
export function tellDaemonReady(): void {
  if (readyFd === undefined) return;
  const fd = readyFd;
  readyFd = undefined;
  try {
    fs.writeSync(fd, READY_BYTE);
  } catch { /* it is gone (Ctrl-C): nobody waits */ }
  try {
    fs.closeSync(fd);
  } catch { /* closed */ }
}
