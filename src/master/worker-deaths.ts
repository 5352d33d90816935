// What a worker's end means for its slot: a crash (counted toward the
// respawn backoff) or not, and the line that says it. Also why a worker
// could not even be spawned.
import * as fs from 'node:fs';
import { fdLimitHint } from '../errors';
import { log } from '../log';
import type { Proc } from './worker-process';

const EARLY_DEATH_MS = 1000;
/** The reason of a worker replaced after an uncaught exception. */
export const UNCAUGHT = 'uncaught exception in the app';

/** Accepting for a second or more: its death is not a crash loop (uWSGI's
 * fork-bomb guard has the same window). */
export function servedLong(p: Proc): boolean {
  return p.acceptingAt !== undefined && Date.now() - p.acceptingAt >= EARLY_DEATH_MS;
}

/** A death counted in its slot's crash loop: deaths before serving or
 * within a second of accepting; a worker that served longer (then
 * SIGKILLed, OOM-killed …) is respawned at once. */
export function countDeath(slot: { crashes: number }, p: Proc, sig: NodeJS.Signals | null): void {
  // (an early uncaught exception's drain may outlast the second: still a crash)
  const healthy = servedLong(p) && !p.faultedEarly;
  // a kill the master made (fifo W, harakiri …) is no crash: never counted
  if (healthy) slot.crashes = 0;
  else if (!killedByMaster(p, sig)) slot.crashes++;
}

/** The line for a slot's worker that ended (`wasNext`: the replacement
 * starting; `replacement`: the one starting in its place). */
export function sayDeath(p: Proc, code: number | null, sig: NodeJS.Signals | null, wasNext: boolean, replacement: Proc | undefined, delay: number): void {
  const killedByUs = killedByMaster(p, sig);
  const fields = {
    worker: p.id,
    pid: p.pid,
    code,
    signal: sig,
    lived_ms: Date.now() - p.spawnedAt,
    last_error: p.lastErrorLogged ? undefined : p.lastError,
    reason: killedByUs ? p.reason : undefined,
    respawn_in_ms: delay,
  };
  const l = log('master');
  if (wasNext) l.error(fields, 'replacement worker died before accepting; the old one keeps serving');
  // asked (fifo W) or decided (harakiri, evil-reload-on-rss: warned when
  // decided) by the master: said as a kill with its reason, not a death
  else if (killedByUs) l.info({ ...fields, last_error: p.lastError === p.reason ? undefined : p.lastError }, `worker killed (${p.reason}), respawning`);
  // a worker that drained and exited after an uncaught exception: its
  // replacement was started then (a signal instead is a crash, said so)
  else if (replacement && p.reason === UNCAUGHT && !sig) l.info({ ...fields, respawn_in_ms: undefined, replacement: replacement.pid }, 'worker gone; its replacement is starting');
  // (no status: an adopted worker the previous image reaped at the exec)
  else if (code === null && sig === null) l.warn(fields, 'worker died during the reload\'s exec (its exit status went to the previous image), respawning');
  else l.warn(fields, 'worker died, respawning');
}

// (not any SIGKILL of a worker being replaced: the OOM killer's is a crash)
function killedByMaster(p: Proc, sig: NodeJS.Signals | null): boolean {
  return p.killed === true && sig === 'SIGKILL';
}

// spawn's ENOENT names node when it is the workers' directory that is
// missing (a symlinked release that was removed, a chdir that went away)
export function spawnWhy(e: NodeJS.ErrnoException, cwd: string | undefined): string {
  const full = fdLimitHint(e.code);
  if (full) return full;
  if (e.code === 'ENOENT' && cwd && !fs.existsSync(cwd)) return `the workers' directory ${cwd} does not exist (chdir, or where liege was started: removed, or a symlink to a removed release?); retrying`;
  return e.message;
}
