// The master's death watch (`liege-ns guard`, native/src/ns-guard.c): a
// small detached process (not the master's child) that records the master's
// process tree and, when the master dies (even by SIGKILL), kills what was
// in it after the workers' grace. Workers (watchParent) and daemon keepers
// (liege-ns watch) clean up their own subtrees; the guard catches the rest:
// an app's double-forked child adopted by the master, a worker whose watcher
// thread could not run, and (by the LIEGE_GUARD_PID each descendant inherits)
// what was orphaned too late to be in its last record of the tree. One guard per master: its pid crosses a reload's
// execve in LIEGE_GUARD_PID and the new image keeps it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { NS_HELPER } from './native';

const ENV = 'LIEGE_GUARD_PID';
/** How long after the master's death the guard kills: the workers' death grace (worker spec). */
export const GUARD_GRACE_MS = 3000;
let guard = 0;

/** The guard's pid, 0 when there is none. */
export function guardPid(): number {
  return guard;
}

/** This master's guard from before a reload, if it still runs. */
function inherited(): number {
  const pid = Number(process.env[ENV]);
  if (!(pid > 0)) return 0;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv[0] === NS_HELPER && argv[1] === 'guard' && argv[2] === String(process.pid)) return pid;
  } catch { /* gone */ }
  return 0;
}

/** Starts the guard (call before becoming a subreaper: the detached guard
 * must land on init, not on us), unless this master already has one. */
export function startGuard(graceMs: number): void {
  guard = inherited();
  if (!guard) {
    // the helper forks, prints the guard's pid and exits at once
    // without the variable: a guard must not carry an outer instance's mark
    // (a liege run as a daemon), or that instance's guard would kill it
    const env = { ...process.env };
    delete env[ENV];
    const r = spawnSync(NS_HELPER, ['guard', String(process.pid), String(graceMs)], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8', timeout: 5000, env });
    guard = Number.parseInt(r.stdout ?? '', 10) || 0;
  }
  if (guard) process.env[ENV] = String(guard);
}
