// Graceful reload = re-exec in place (uWSGI uwsgi_reload): same pid, the
// listening sockets and the running workers inherited (generations.ts),
// UWSGI_RELOADS incremented, back in the original cwd. Called after the
// atexit hooks ran.
// From execve until the new image's JS listens, HUP/TERM/INT/QUIT would
// kill the master (Node resets inherited dispositions): they are blocked
// here and liege-early.so, preloaded into the new image, catches them
// (pending ones included); the new master queues what it caught.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { EARLY_SIGNALS_LIB, native } from '../os/native';
import { keepConsoleAcrossExec } from './logfile';

const S = os.constants.signals;
const CAUGHT = [S.SIGHUP, S.SIGTERM, S.SIGINT, S.SIGQUIT, S.SIGUSR2];

// signals this image received after it decided to re-exec (while its
// control side, daemons and atexit hooks ended): raised again on the
// blocked main thread before execve, so the new image gets them (a TERM
// during a reload stops the instance, a HUP is one more reload)
const carried: NodeJS.Signals[] = [];

/** Keep `signal` for the next image (each kind once). */
export function carrySignal(signal: NodeJS.Signals): void {
  if (!carried.includes(signal)) carried.push(signal);
}

export function reexec(reloads: number, startCwd: string): never {
  process.env.UWSGI_RELOADS = String(reloads + 1);
  keepConsoleAcrossExec();
  try { process.chdir(startCwd); } catch { /* chrooted: stay */ }
  if (fs.existsSync(EARLY_SIGNALS_LIB)) {
    process.env.LD_PRELOAD = [EARLY_SIGNALS_LIB, process.env.LD_PRELOAD].filter(Boolean).join(' ');
    native.blockSignals(CAUGHT, true);
    for (const signal of carried) native.raiseSignal(S[signal]);
  }
  try {
    return native.execv(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  } finally {
    native.blockSignals(CAUGHT, false);
  }
}
