// A vassal obeys only its emperor's stop and reload signals. Sent to the
// whole process group or cgroup (`liege --emperor` stopped with Ctrl-C, a
// terminal's hangup, `kill -TERM -PGID`, systemd's KillMode=control-group)
// the emperor got the same signal at the same moment and answers it for
// every vassal over the pipe, in order (a stop: each vassal's emperor-stop
// hooks, then vassals-stop-hook; SIGHUP: one reload of each): a vassal
// acting on its own copy as well stopped without its emperor-stop hooks, or
// reloaded twice. So a vassal reports anyone else's signal to the emperor
// (one byte on the pipe), which passes it on as its own when it did not
// hear it itself: a signal to that vassal alone (`kill -TERM <vassal
// pid>`) is acted on as before, a second later. The sender is read as a
// worker reads its master's (worker/signal-route.ts); a vassal whose pipe
// is gone acts on every signal itself. Not routed: SIGUSR1/SIGUSR2 (an
// emperor has no stats or chain reload of its vassals to answer them).
import { routeSignals } from '../worker/signal-route';
import type { EmperorLink } from './vassal';

/** The signals an emperor answers for its vassals. */
export const EMPEROR_SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT'];

/** Vassal → emperor: "I got this signal from someone else" (liege's bytes). */
export const SIGNAL_REPORTS: Readonly<Record<string, number>> = { SIGHUP: 40, SIGTERM: 41, SIGINT: 42, SIGQUIT: 43 };

/** The signal a report byte names, if it is one. */
export function reportedSignal(byte: number): NodeJS.Signals | undefined {
  return (Object.keys(SIGNAL_REPORTS) as NodeJS.Signals[]).find((s) => SIGNAL_REPORTS[s] === byte);
}

/** Listens to `signals` for `onSignal`: every delivery when `emperor` is
 * undefined (not a vassal), else the emperor's signals routed by sender.
 * Returns what removes the listeners again. */
export function listenSignals(signals: readonly string[], onSignal: (s: NodeJS.Signals) => void, emperor: EmperorLink | undefined): () => void {
  const listeners = new Map<string, (s: NodeJS.Signals) => void>();
  const listen = (s: string, fn: (s: NodeJS.Signals) => void) => {
    listeners.set(s, fn);
    process.on(s, fn);
  };
  const routed = emperor ? signals.filter((s) => EMPEROR_SIGNALS.includes(s as NodeJS.Signals)) as NodeJS.Signals[] : [];
  for (const s of signals) if (!routed.includes(s as NodeJS.Signals)) listen(s, onSignal);
  if (emperor && routed.length) {
    const outside = (s: NodeJS.Signals) => (emperor.connected() ? emperor.tell(SIGNAL_REPORTS[s]!) : onSignal(s));
    routeSignals(routed, process.ppid, { obey: onSignal, outside }, (s, fn) => listen(s, fn));
  }
  return () => { for (const [s, fn] of listeners) process.off(s, fn); };
}
