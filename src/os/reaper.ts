// The master as a subreaper (PR_SET_CHILD_SUBREAPER): orphans of its
// descendants (an app's double-forked child, a daemon's setsid grandchild)
// become its children, and it reaps them. It also reaps processes it did not
// spawn in this image: workers adopted across a reload's execve.
// libuv reaps the children it spawned with waitpid(pid) and loses an exit
// status someone else took, so we never call waitpid(-1): every pid is reaped
// by id, and the pids libuv (child_process) or another owner (claim) waits
// for are left alone.
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { GUARD_GRACE_MS, guardPid, startGuard } from './guard';
import { native, PR_SET_CHILD_SUBREAPER } from './native';
import { statFields } from './proc-identity';
import { signalName } from './signals';

type ExitCb = (code: number | null, signal: NodeJS.Signals | null) => void;

// the pids libuv (child_process) or a claim()'s owner waits for
const waitedElsewhere = new Set<number>();
const watched = new Map<number, ExitCb>();
let started = false;

/** The pids of this process's children (zombies included). */
export function childPids(pid = process.pid): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const children = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (children) out.push(...children.split(/\s+/).map(Number));
    } catch { /* task gone */ }
  }
  return out;
}

/** Become a subreaper and start reaping on SIGCHLD (and every second, in
 * case signals were coalesced); start the death watch that kills what we
 * adopted if we die (not as PID 1: our death ends the namespace). Idempotent. */
export function startReaper(): void {
  if (started) return;
  started = true;
  if (process.pid !== 1) startGuard(GUARD_GRACE_MS);
  try {
    native.prctl(PR_SET_CHILD_SUBREAPER, 1);
  } catch { /* not Linux >= 3.4: orphans go to init */ }
  // every async child_process spawn goes through ChildProcess#spawn
  const proto = ChildProcess.prototype as unknown as { spawn: (...a: unknown[]) => unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const r = spawn.apply(this, args);
    const pid = this.pid;
    if (pid) {
      waitedElsewhere.add(pid);
      this.once('exit', () => waitedElsewhere.delete(pid));
    }
    return r;
  };
  process.on('SIGCHLD', reap);
  setInterval(reap, 1000).unref();
}

/** Another owner (e.g. node-pty) waits for this pid: never reap it here. */
export function claim(pid: number): void {
  waitedElsewhere.add(pid);
}

/** The owner is done with a claimed pid (it waited for it itself). */
export function release(pid: number): void {
  waitedElsewhere.delete(pid);
}

/** Call `cb` when `pid` (our child, not spawned by libuv) exits. */
export function watchPid(pid: number, cb: ExitCb): void {
  watched.set(pid, cb);
  reap();
}

/** Reap every exited child that libuv does not own. */
export function reap(): void {
  for (const pid of childPids()) {
    if (waitedElsewhere.has(pid)) continue;
    let r: [number, number] | null;
    try {
      r = native.reapPid(pid);
    } catch {
      continue;
    }
    if (!r) continue;
    const cb = watched.get(pid);
    watched.delete(pid);
    cb?.(r[0] >= 0 ? r[0] : null, r[1] ? signalName(r[1]) : null);
  }
  // a watched pid that is no longer our child (reaped elsewhere) is gone
  for (const [pid, cb] of watched) {
    try {
      process.kill(pid, 0);
    } catch {
      watched.delete(pid);
      cb(null, null);
    }
  }
}

/** SIGKILL `pid` and every descendant of it (an app's children, a `setsid`
 * grandchild still in its tree); `pid` is stopped first, so that it cannot
 * fork while its tree is walked. How many (0: it was gone). Every SIGKILL
 * the master gives a worker goes through here: a brutal reload, harakiri, a
 * mercy that expired, a stop. */
export function killTree(pid: number): number {
  if (isZombie(pid)) return 0; // dead already, only not reaped yet
  if (dying(pid)) return 0; // SIGKILLed a moment ago: not counted twice
  rememberKill(pid);
  try {
    process.kill(pid, 'SIGSTOP');
  } catch {
    return 0;
  }
  const n = native.killTree(pid);
  try {
    process.kill(pid, 'SIGKILL');
  } catch { /* gone meanwhile */ }
  return n + 1;
}

// the pids killTree SIGKILLed lately: a process takes a moment to die
// (a stop's kill and the exit's look for leftovers are milliseconds apart)
const sentKill = new Map<number, number>();
const DYING_MS = 2000;

function rememberKill(pid: number): void {
  const now = Date.now();
  // (a master that kills all day, harakiri: the old entries go)
  if (sentKill.size >= 256) {
    for (const [p, at] of sentKill) {
      if (now - at >= DYING_MS) sentKill.delete(p);
    }
  }
  sentKill.set(pid, now);
}

function dying(pid: number): boolean {
  const at = sentKill.get(pid);
  if (at === undefined) return false;
  if (Date.now() - at < DYING_MS) return true;
  sentKill.delete(pid); // (long gone: the pid may be another process's now)
  return false;
}

function isZombie(pid: number): boolean {
  try {
    return statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))[0] === 'Z';
  } catch {
    return false;
  }
}

/** SIGKILL every descendant of this process (what a brutal reload's old
 * generation left, an orphan adopted as subreaper included); how many. */
export function killDescendants(): number {
  let n = 0;
  for (const c of childPids()) n += killTree(c);
  return n;
}

/** The death watch, only needed while we live: a stop ends it last. */
export function endGuard(): void {
  const guard = guardPid();
  if (!guard) return;
  try {
    process.kill(guard, 'SIGKILL');
  } catch { /* gone */ }
}
