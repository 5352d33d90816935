// A worker whose event loop is blocked — a CPU-bound loop between requests,
// a timer callback that never returns, SIGSTOP — sends no heartbeat and
// accepts nothing. With `harakiri` the master SIGKILLs it (recycle.ts);
// without, uWSGI does nothing and neither does liege (killing is the
// operator's choice), but the master says it once, with the fix, instead
// of leaving only slow answers to notice, and says when it is heard again.
import { log } from '../log';
import type { Proc } from './worker-process';

/** Silence worth a warning: 30 heartbeats missed. */
export const SILENT_MS = 30_000;

/** Warns once about each serving worker silent for SILENT_MS (the master's
 * tick, when harakiri is off). */
export function watchSilence(procs: Iterable<Proc>, now: number): void {
  for (const p of procs) {
    const silent = now - p.lastSeen;
    // (a start that hangs has its own timeout; a worker without a channel sends nothing)
    if (p.silentSince !== undefined || p.status === 'starting' || silent < SILENT_MS) continue;
    if (!(p.child || p.channel) || p.channelLostAt !== undefined) continue;
    p.silentSince = p.lastSeen;
    const seconds = Math.floor(silent / 1000);
    const request = p.stats.busy?.request;
    const where = request ? `(in a request: ${request})` : '(no request in flight at its last heartbeat)';
    log('master').warn({ worker: p.id, pid: p.pid, silent_s: seconds, request }, `worker silent for ${seconds} s (no heartbeat): its event loop is blocked ${where} or it is stopped, and it accepts nothing; without harakiri nothing replaces it (set harakiri = N to SIGKILL and replace a worker silent for N s)`);
  }
}

/** A message from `p`: the end of a silence watchSilence warned about. */
export function heardFrom(p: Proc, now: number): void {
  if (p.silentSince === undefined) return;
  log('master').info({ worker: p.id, pid: p.pid, silent_s: Math.floor((now - p.silentSince) / 1000) }, 'silent worker heard from again');
  p.silentSince = undefined;
}
