// Who a pid is, read from /proc: when it started and which program it runs.
// `liege --stop PIDFILE` checks both before signalling: a pid read from a
// file may have been reused by any process since the file was written.
import * as fs from 'node:fs';

// /proc/PID/stat counts in USER_HZ clock ticks, 100 a second on Linux
const USER_HZ = 100;

/** The fields of a /proc/PID/stat (or task) line after "pid (comm) ": the
 * command may hold spaces and parentheses. [0] state, [1] ppid, [19] starttime. */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** When `pid` started, in ms since the epoch (to about 10 ms); undefined
 * when it is gone or unreadable. */
export function processStartMs(pid: number): number | undefined {
  try {
    const fields = statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const ticks = Number(fields[19]); // field 22, starttime: ticks after boot
    const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    if (!Number.isFinite(ticks) || !Number.isFinite(uptime)) return undefined;
    return Date.now() - uptime * 1000 + (ticks / USER_HZ) * 1000;
  } catch {
    return undefined;
  }
}

/** The program `pid` runs (its executable's path); undefined when unreadable
 * (gone, or another user's process). An executable replaced since it was
 * started (a Node upgrade) keeps its path. */
export function processExe(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}
