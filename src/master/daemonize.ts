// daemonize/daemonize2: Node cannot fork, so the instance starts itself
// again detached (new session, stdin /dev/null, output to the log file,
// which logfile.ts then keeps as the log) and the command the user ran
// waits until the daemon serves (ipc/daemon.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Config } from '../config/config';
import { DAEMON_READY_ENV, DAEMON_READY_FD, READY_BYTE } from '../ipc/daemon';
import { EMPEROR_FD_ENV } from '../ipc/vassal';
import { log } from '../log';
import { openLogFile } from '../os/log-writer';
import { exitStatus, signalNumbers } from '../os/signals';

const DAEMON_ENV = 'LIEGE_DAEMONIZED';
/** How long the command waits for its daemon to serve before it ends anyway. */
const DAEMON_READY_MS = 30_000;
/** The daemon's log lines shown when it could not start. */
const SHOWN_LINES = 5;

/**
 * daemonize/daemonize2: Node cannot fork, so the instance starts itself
 * again detached (new session, stdin /dev/null, output to the log file).
 * This process then waits until the daemon serves (ipc/daemon.ts) and
 * returns 0; or the daemon's status, its last log lines said here, when it
 * ended first (uWSGI's parent exits 0 at once: a daemon that could not
 * start was only in its log, and with a full disk nowhere). Undefined in
 * the daemon (or without daemonize): go on.
 */
export async function daemonize(cfg: Config): Promise<number | undefined> {
  const file = cfg.str('daemonize') ?? cfg.str('daemonize2');
  // a vassal does not detach: its emperor is its supervisor (one that did
  // was an exit 0 at each start: respawned, in a loop); the file is its
  // log, as logto (uWSGI: "daemonize" under an emperor is logto)
  if (!file || process.env[DAEMON_ENV] === '1' || process.env[EMPEROR_FD_ENV]) {
    delete process.env[DAEMON_ENV];
    return undefined;
  }
  const fd = openLogFile(file);
  const from = fs.fstatSync(fd).size;
  const env = { ...process.env, [DAEMON_ENV]: '1', [DAEMON_READY_ENV]: String(DAEMON_READY_FD) };
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { detached: true, stdio: ['ignore', fd, fd, 'pipe'], env });
  fs.closeSync(fd);
  const outcome = await daemonOutcome(child);
  child.unref();
  (child.stdio[3] as Readable | null)?.destroy();
  const l = log('master');
  if (outcome === 'ready') return 0;
  if (outcome === 'slow') {
    l.warn({ pid: child.pid, log: file }, `the daemon has not served after ${DAEMON_READY_MS / 1000} s: it goes on starting (its log says how)`);
    return 0;
  }
  if (typeof outcome === 'string') {
    l.warn({ pid: child.pid, log: file }, `no longer waiting (${outcome}): the daemon goes on starting (its log says how)`);
    return 128 + (signalNumbers()[outcome] ?? 0);
  }
  if (outcome === 0) return 0; // (no-server: it ran its hooks and ended)
  const said = newLines(file, from);
  const where = said.length ? `; its log ${file} ends with:` : `, and wrote nothing to its log ${file} (a full disk?)`;
  l.error({ pid: child.pid, status: outcome, log: file }, `the daemon could not start (status ${outcome})${where}`);
  for (const line of said) process.stderr.write(`  ${line}\n`);
  return outcome;
}

const STOP_WAITING: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** 'ready', the daemon's exit status (it ended first), 'slow', or the
 * signal (Ctrl-C) that ended the wait (the daemon, detached, goes on). */
function daemonOutcome(child: ChildProcess): Promise<'ready' | 'slow' | number | NodeJS.Signals> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done('slow'), DAEMON_READY_MS);
    const onSignal = (signal: NodeJS.Signals) => done(signal);
    for (const s of STOP_WAITING) process.on(s, onSignal);
    const done = (v: 'ready' | 'slow' | number | NodeJS.Signals) => {
      clearTimeout(timer);
      for (const s of STOP_WAITING) process.off(s, onSignal);
      resolve(v);
    };
    (child.stdio[3] as Readable | null)?.on('data', (d: Buffer) => { if (d.toString().includes(READY_BYTE)) done('ready'); }).on('error', () => undefined);
    child.on('exit', (code, signal) => done(exitStatus(code, signal)));
    child.on('error', () => done(1));
  });
}

/** The last lines the daemon wrote to its log (from byte `from`). */
function newLines(file: string, from: number): string[] {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(from, size - 64 * 1024);
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      return buf.toString().split('\n').filter((l) => l.trim() && !l.startsWith('[pid: ')).slice(-SHOWN_LINES);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}
