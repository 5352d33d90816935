// Where the instance logs: `logto` (opened before the drop), `logto2`
// (after), `daemonize`/`daemonize2` (detached: daemonize.ts). The
// file is put on fds 1 and 2 (dup2), so liege's lines, hook commands and
// workers (which inherit them) all write there, as under uWSGI. A reopen
// (log-reopen on reload, touch-logreopen, fifo `l`) points fds 1 and 2 at a
// fresh open of the same path (after logrotate moved the old one); the
// master then tells the workers to follow (log-reopen.ts).
// The first time, the stderr it replaces is kept as the console (log.ts):
// where a log file that fails (a full disk) is reported. It crosses a
// reload's re-exec (LIEGE_LOG_CONSOLE), like fds 1 and 2 themselves.
import * as fs from 'node:fs';
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import { flushRequestLog, log, logConsoleFd, setLogConsole } from '../log';
import { openLogFile } from '../os/log-writer';
import { native } from '../os/native';
import { nodeOs } from '../os/node-os';

let current: string | undefined;

const CONSOLE_ENV = 'LIEGE_LOG_CONSOLE';

/** Points stdout and stderr at `file` (append, created 0640). */
export function logTo(file: string): void {
  const fd = openLogFile(file);
  flushRequestLog(); // a single process's request lines so far: to the old file
  keepConsole(fd, file);
  native.dup2(fd, 1);
  native.dup2(fd, 2);
  fs.closeSync(fd);
  current = file;
}

// stderr before the first log file, unless it is that file already (daemonize)
function keepConsole(fd: number, file: string): void {
  if (logConsoleFd() >= 0) return setLogConsole(logConsoleFd(), file);
  try {
    const [err, log] = [fs.fstatSync(2), fs.fstatSync(fd)];
    if (err.dev === log.dev && err.ino === log.ino) return;
    // a pipe of our own that never blocks (its reader may have stopped), else a copy
    const console = err.isFIFO() ? fs.openSync('/proc/self/fd/2', fs.constants.O_WRONLY | fs.constants.O_NONBLOCK) : native.dupFd(2);
    setLogConsole(console, file);
  } catch { /* no stderr (closed): nowhere to report */ }
}

/** Before a reload's re-exec: the console stays open for the new image. */
export function keepConsoleAcrossExec(): void {
  const fd = logConsoleFd();
  if (fd < 0) return;
  native.setCloexec(fd, false);
  process.env[CONSOLE_ENV] = String(fd);
}

// the new image takes the console the old one kept (closed when its config has no log file)
function adoptConsole(cfg: Config): void {
  const fd = Number(process.env[CONSOLE_ENV]);
  delete process.env[CONSOLE_ENV];
  if (!(fd > 2)) return;
  const file = cfg.str('daemonize') ?? cfg.str('logto') ?? cfg.str('daemonize2') ?? cfg.str('logto2');
  try {
    if (file) native.setCloexec(fd, true);
    else native.closeFd(fd);
  } catch {
    return; // not open any more
  }
  if (file) setLogConsole(fd, file);
}

/** The log file the instance writes to (logto, daemonize …), if any. */
export function logFile(): string | undefined {
  return current;
}

/** Reopens the current log file (after a rotation); false when there is
 * none. A file that cannot be opened leaves the old one in place. */
export function reopenLog(): boolean {
  if (!current) return false;
  try {
    logTo(current);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to reopen the log file ${current}: ${code}${whyNot(code)}; logging goes on to the old file`, { cause: e });
  }
  return true;
}

// logto is opened as root, before the drop; a reopen runs as the user: a
// root-owned log directory refuses the new file (uWSGI's limit too)
function whyNot(code: string): string {
  if (code !== 'EACCES' || process.getuid?.() === 0) return '';
  return `: the master runs as ${nodeOs().userInfo().username} since the privileges drop (logto2 opens the file after the drop; or have the rotation create the new file for that user)`;
}

/** logto / daemonize: before the drop (first start only: a reload inherits fds 1 and 2). */
export function logBeforeDrop(cfg: Config, reloads: number): void {
  if (reloads > 0) adoptConsole(cfg);
  const file = cfg.str('daemonize') ?? cfg.str('logto');
  if (!file) return;
  if (reloads > 0) return reopenAtReload(file, cfg);
  open(file, cfg);
}

/** logto2 / daemonize2: after the drop. */
export function logAfterDrop(cfg: Config, reloads: number): void {
  const file = cfg.str('daemonize2') ?? cfg.str('logto2');
  if (!file) return;
  if (reloads > 0) return reopenAtReload(file, cfg);
  open(file, cfg);
}

// A reload inherits fds 1 and 2; `log-reopen` opens the path again. A
// master that dropped its privileges at the first start may not (logto in
// a root-owned directory): it keeps the file it has rather than fail the
// reload (before: every reload failed)
function reopenAtReload(file: string, cfg: Config): void {
  current = file;
  if (!cfg.bool('log-reopen')) return;
  try {
    reopenLog();
  } catch (e) {
    log('master').error({ code: (e as LiegeError).code }, (e as Error).message);
  }
}

function open(file: string, cfg: Config): void {
  try {
    logTo(file);
  } catch (e) {
    const key = (['daemonize', 'logto', 'daemonize2', 'logto2'] as const).find((k) => cfg.str(k) === file)!;
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to open the log file ${file}: ${(e as NodeJS.ErrnoException).code}`, { origin: cfg.origin(key), text: file, expected: 'a writable file' });
  }
}
