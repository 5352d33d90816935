// A process that hears a signal itself and gets reports of the same signal
// from its children (a master from its workers, an emperor from its vassal
// masters) tells a signal to the whole process group or cgroup (Ctrl-C, a
// terminal's hangup, `kill -TERM -PGID`, systemd's KillMode=control-group)
// from one sent to that child alone by time: the group's reached it too,
// shortly before the report, or within REPORT_WAIT_MS after (a report can
// be read first in the same loop turn, or while a master re-execs for a
// reload and takes its signals late). The group's is answered by the
// parent for every child; a child's own is passed on to it as the parent's.

/** How long before a report the parent's own copy counts as the same signal. */
const HEARD_BEFORE_MS = 2000;
/** How long after a report the parent waits for its own copy. */
const REPORT_WAIT_MS = 1000;

const heard = new Map<string, number[]>();

/** When this process received `signal` (its listener ran, or the early or
 * carried signals of a re-exec were taken). */
export function hearSignal(signal: string, at = Date.now()): void {
  const times = heard.get(signal) ?? [];
  times.push(at);
  if (times.length > 8) times.shift();
  heard.set(signal, times);
}

/** Records every delivery of `signals` from now on (a listener of its own,
 * whatever the loop's listeners are meanwhile). */
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

/** Whether one of `signals` was received within the last `ms`. */
export function heardRecently(signals: readonly string[], ms = HEARD_BEFORE_MS): boolean {
  const now = Date.now();
  return signals.some((s) => heardBetween(s, now - ms, now));
}

/** The signals that stop (or reload) a master, and so its daemons. */
export const STOP_SIGNALS: readonly string[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'];

/** How long a child's end that may be the group's signal waits for this
 * process to act on its own copy. */
export const OWN_COPY_WAIT_MS = REPORT_WAIT_MS;

function heardBetween(signal: string, from: number, to: number): boolean {
  return (heard.get(signal) ?? []).some((t) => t >= from && t <= to);
}

/** Decide on a child's report of `signal` it got (or that arrived) `at`:
 * nothing when this process heard the same signal from HEARD_BEFORE_MS
 * before until the decision (the group's), else `passOn` once
 * REPORT_WAIT_MS after `at`. */
export function judgeReport(signal: string, at: number, passOn: () => void): void {
  // heard up to the decision counts, after one poll phase (setImmediate):
  // on a loop that lagged (a loaded machine, a re-exec), the timer runs
  // before the signal waiting in the same turn is taken
  const decide = () => setImmediate(() => {
    if (!heardBetween(signal, at - HEARD_BEFORE_MS, Date.now())) passOn();
  });
  setTimeout(decide, Math.max(0, at + REPORT_WAIT_MS - Date.now())).unref();
}
