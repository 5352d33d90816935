// systemd's watchdog (WatchdogSec=): systemd sets WATCHDOG_USEC (and
// WATCHDOG_PID, the main pid) and kills the service when WATCHDOG=1 does not
// come within that interval. As sd_watchdog_enabled(), only the process
// WATCHDOG_PID names pings; the others (a vassal, a worker) must not.
// Every long-lived process systemd may start as its main process (a master,
// an emperor, a single-process instance) pings from its own loop at half
// the interval, so a wedged loop stops the pings and systemd restarts it.

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
  ping();
  return setInterval(ping, dog.everyMs);
}

/** Why a WATCHDOG_PID of another process means pings never come. */
function otherPidMessage(owner: number): string {
  return `WATCHDOG_PID is ${owner}, not this process (pid ${process.pid}): no watchdog pings; systemd will kill the service after WatchdogSec= (start liege as the unit's main process: ExecStart=…/bin/liege, or exec it from a wrapper script)`;
}
