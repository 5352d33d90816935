// systemd's watchdog (WatchdogSec=): systemd sets WATCHDOG_USEC (and
// WATCHDOG_PID, the main pid) and kills the service when WATCHDOG=1 does not
// come within that interval. As sd_watchdog_enabled(), only the process
// WATCHDOG_PID names pings; the others (a vassal, a worker) must not.
// Every long-lived process systemd may start as its main process (a master,
// an emperor, a single-process instance) pings from its own loop at half
// the interval, so a wedged loop stops the pings and systemd restarts it.
// systemd arms the watchdog at READY=1 or at the first WATCHDOG=1 (its
// service_reset_watchdog), and it stays armed through a reload: from then
// on, a wait that blocks the loop on purpose (an exec hook's child in a
// startup or atexit phase, a wait-for-* poll) pings from its own thread
// (whileBlocked), or a reload's `exec-as-root = sleep 20` got the master
// killed; systemd's TimeoutStartSec= still bounds a hook that hangs. Not
// before the first ping: a first start's blocking hooks would arm it early.
import { sdNotify } from './notify';

/** What the environment asks of this process. */
export type WatchdogPlan =
  | { kind: 'off' }
  | { kind: 'ping'; everyMs: number }
  /** WATCHDOG_PID names another process: no pings from here (said by the caller). */
  | { kind: 'other-pid'; pid: number };

export function watchdogPlan(env: NodeJS.ProcessEnv = process.env, pid = process.pid): WatchdogPlan {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return { kind: 'off' };
  const owner = Number(env.WATCHDOG_PID || pid);
  if (owner !== pid) return { kind: 'other-pid', pid: owner };
  return { kind: 'ping', everyMs: Math.max(50, usec / 2000) };
}

/** Pings through `ping` (which pings from the caller's loop) at once and
 * every half interval, when systemd asks this process to (at once: a
 * reload's new image last pinged before its exec); says once, through
 * `warn`, when WATCHDOG_PID names another process (no `warn`: said already,
 * by the image before a reload's). The timer, for clearInterval. */
export function startWatchdog(ping: () => void, warn?: (message: string) => void): NodeJS.Timeout | undefined {
  const dog = watchdogPlan();
  if (dog.kind === 'other-pid' && process.env.NOTIFY_SOCKET) warn?.(otherPidMessage(dog.pid));
  if (dog.kind !== 'ping') return undefined;
  clearInterval(bridge);
  armed = dog.everyMs;
  ping();
  return setInterval(ping, dog.everyMs);
}

/** The half interval, once this process (or the image before a reload's
 * exec) pinged: systemd's watchdog is armed. */
let armed: number | undefined;
let bridge: NodeJS.Timeout | undefined;
let lastPing = 0;

// (errors are said by the loop's own pings; here a failed ping is only skipped)
function pingNow(): void {
  lastPing = Date.now();
  sdNotify({ WATCHDOG: 1 });
}

/** A reload, from its start to the exec (the master's queue, through which
 * its loop pings, no longer drains), and in the new image, whose startup
 * phases systemd watches too: pings from the loop directly (and from
 * blocking waits) until a master's, emperor's or single process's own
 * startWatchdog takes over. */
export function bridgeWatchdog(): void {
  const dog = watchdogPlan();
  if (dog.kind !== 'ping') return;
  armed = dog.everyMs;
  pingNow();
  clearInterval(bridge);
  bridge = setInterval(pingNow, dog.everyMs).unref();
}

/** For a wait that blocks the loop: how often to ping and how, or
 * undefined when no ping is due (no watchdog, or not armed yet). */
export function whileBlocked(): { everyMs: number; ping: () => void } | undefined {
  return armed === undefined ? undefined : { everyMs: armed, ping: pingNow };
}

/** A poll loop that blocks the thread (a sleep between tries) pings when due. */
export function pingIfDue(): void {
  if (armed !== undefined && Date.now() - lastPing >= armed) pingNow();
}

/** Why a WATCHDOG_PID of another process means pings never come. */
function otherPidMessage(owner: number): string {
  return `WATCHDOG_PID is ${owner}, not this process (pid ${process.pid}): no watchdog pings; systemd will kill the service after WatchdogSec= (start liege as the unit's main process: ExecStart=…/bin/liege, or exec it from a wrapper script)`;
}
