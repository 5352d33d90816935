// A worker that gets a stop or reload signal from anyone but its master
// reports it instead of acting on it (worker/signal-route.ts). Sent to the
// whole process group or cgroup (Ctrl-C, a terminal's hangup, `kill -TERM
// -PGID`, systemd's KillMode=control-group) the master got the same signal
// at the same moment and answers it for every worker: a reload replaces
// them once the new generation accepts, a stop drains them. Sent to that
// worker alone (`kill -TERM <worker pid>`), the master passes it on as its
// own, so the worker drains (TERM, INT, HUP) or ends (QUIT) as before.
// Which of the two is told by time: the master heard the signal itself
// shortly before the report, or hears it within REPORT_WAIT_MS after (a
// report can be read first in the same loop turn, or while the master
// re-execs for a reload and takes its signals late).
import { log } from '../log';

/** How long before a report the master's own copy counts as the same signal. */
const HEARD_BEFORE_MS = 2000;
/** How long after a report the master waits for its own copy. */
const REPORT_WAIT_MS = 1000;

const heard = new Map<string, number[]>();

/** When the master received `signal` (its listener ran, or the early or
 * carried signals of a re-exec were taken). */
export function hearSignal(signal: string, at = Date.now()): void {
  const times = heard.get(signal) ?? [];
  times.push(at);
  if (times.length > 8) times.shift();
  heard.set(signal, times);
}

/** Records every delivery of `signals` to the master from now on (a
 * listener of its own, whatever the loop's listeners are meanwhile). */
export function hearSignals(signals: string[]): void {
  for (const s of signals) process.on(s, () => hearSignal(s));
}

/** What was heard so far, for the next image (a reload's re-exec: a
 * report read there may be of a signal this image heard). */
export function heardSignals(): Record<string, number[]> {
  return Object.fromEntries(heard);
}

/** The previous image's heardSignals(). */
export function rememberHeard(before: Record<string, number[]> | undefined): void {
  for (const [s, times] of Object.entries(before ?? {})) for (const t of times) hearSignal(s, t);
}

function heardBetween(signal: string, from: number, to: number): boolean {
  return (heard.get(signal) ?? []).some((t) => t >= from && t <= to);
}

export interface WorkerSignalled {
  id: number;
  pid: number;
  signal: NodeJS.Signals;
  from: number; // the sender's pid, 0 the kernel (a terminal)
  at: number; // when the report arrived
}

/** Decide on a worker's report: nothing when the master heard the same
 * signal (the group's), else `passOn` once REPORT_WAIT_MS after the report. */
export function judgeWorkerSignal(r: WorkerSignalled, passOn: (pid: number, signal: NodeJS.Signals) => boolean): void {
  const decide = () => {
    if (heardBetween(r.signal, r.at - HEARD_BEFORE_MS, r.at + REPORT_WAIT_MS)) return;
    if (!passOn(r.pid, r.signal)) return;
    log('master').info({ worker: r.id, pid: r.pid, signal: r.signal, from: r.from }, `worker got ${r.signal} from pid ${r.from}, not from the master: passed on (a signal to that worker alone)`);
  };
  setTimeout(decide, Math.max(0, r.at + REPORT_WAIT_MS - Date.now())).unref();
}
