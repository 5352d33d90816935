// Where the instance logs: `logto` (opened before the drop), `logto2`
// (after), `daemonize`/`daemonize2` (detached, logging to the file). The
// file is put on fds 1 and 2 (dup2), so liege's lines, hook commands and
// workers (which inherit them) all write there, as under uWSGI. A reopen
// (log-reopen on reload, touch-logreopen, fifo `l`) points fds 1 and 2 at a
// fresh open of the same path (after logrotate moved the old one); workers
// started before keep the old file unless `log-master` pipes them through
// the master.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import { flushRequestLog } from '../log';
import { native } from '../os/native';

let current: string | undefined;

/** Points stdout and stderr at `file` (append, created 0640). */
export function logTo(file: string): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
  flushRequestLog(); // a single process's request lines so far: to the old file
  native.dup2(fd, 1);
  native.dup2(fd, 2);
  fs.closeSync(fd);
  current = file;
}

/** Reopens the current log file (after a rotation); false when there is none. */
export function reopenLog(): boolean {
  if (!current) return false;
  logTo(current);
  return true;
}

/** logto / daemonize: before the drop (first start only: a reload inherits fds 1 and 2). */
export function logBeforeDrop(cfg: Config, reloads: number): void {
  const file = cfg.str('daemonize') ?? cfg.str('logto');
  if (!file) return;
  if (reloads > 0 && !cfg.bool('log-reopen')) {
    current = file;
    return;
  }
  open(file, cfg);
}

/** logto2 / daemonize2: after the drop. */
export function logAfterDrop(cfg: Config, reloads: number): void {
  const file = cfg.str('daemonize2') ?? cfg.str('logto2');
  if (!file || (reloads > 0 && !cfg.bool('log-reopen'))) return;
  open(file, cfg);
}

function open(file: string, cfg: Config): void {
  try {
    logTo(file);
  } catch (e) {
    const key = (['daemonize', 'logto', 'daemonize2', 'logto2'] as const).find((k) => cfg.str(k) === file)!;
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to open the log file ${file}: ${(e as NodeJS.ErrnoException).code}`, { origin: cfg.origin(key), text: file, expected: 'a writable file' });
  }
}

const DAEMON_ENV = 'LIEGE_DAEMONIZED';

/**
 * daemonize/daemonize2: Node cannot fork, so the instance starts itself
 * again detached (new session, stdin /dev/null, output to the log file) and
 * this process exits 0 at once. True in the process that must exit.
 */
export function daemonize(cfg: Config): boolean {
  const file = cfg.str('daemonize') ?? cfg.str('daemonize2');
  if (!file || process.env[DAEMON_ENV] === '1') {
    delete process.env[DAEMON_ENV];
    return false;
  }
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, [DAEMON_ENV]: '1' } });
  child.unref();
  fs.closeSync(fd);
  return true;
}
