// Who sent a worker its signal decides what it means. The master drives its
// workers by signals (SIGTERM drain, SIGINT stop, SIGQUIT now), and the
// same signals reach every worker at once when they go to the whole
// process group or cgroup: Ctrl-C, a terminal's hangup, `kill -TERM -PGID`,
// systemd's KillMode=control-group. The master got that one too and
// answers it itself (a reload replaces the workers once the new generation
// accepts; a stop drains them): a worker acting on its own copy stopped
// accepting before anyone took over (a reload stalled ~2 s) or drained as a
// reload when the master asked a stop. So only the master's signals are
// commands; any other sender's is reported to the master, which acts on it
// when it was the worker's alone (master/worker-signals.ts). A worker whose
// channel is gone (its master died, the app disconnected it) acts on every
// signal itself, as before. The sender is known natively (siginfo si_pid:
// native/src/sender.c); libuv passes the number only. A vassal master (or
// single-process vassal) takes its emperor's signals the same way
// (listenSignals below; ipc/vassal.ts), its emperor judging its reports.
import { native } from './native';

/** What a signal asks of the worker: `obey` the master's (or one whose
 * sender is unknown); `outside(pid)` anyone else's (pid 0: the kernel). */
export interface SignalRoute {
  obey(signal: NodeJS.Signals): void;
  outside(signal: NodeJS.Signals, pid: number): void;
}

/** Listens to `signals` through `listen` (the drain's own listeners for
 * TERM/INT), each delivery routed by its sender. */
export function routeSignals(signals: NodeJS.Signals[], masterPid: number, route: SignalRoute, listen: (s: NodeJS.Signals, fn: () => void) => void): void {
  for (const s of signals) {
    listen(s, () => {
      const [master, other, pid, watched] = native.takeSenders(s);
      if (!watched) {
        // libuv installed its handler anew (the app removed every listener
        // of the signal, then one came back): uncounted, so taken as before
        native.watchSenders([s], masterPid);
        return route.obey(s);
      }
      if (master > 0) return route.obey(s);
      if (other > 0) return route.outside(s, pid);
      // (counted with an earlier delivery, and routed then)
    });
  }
  native.watchSenders(signals, masterPid);
}

/** Where a process reports the signals it does not take from its parent
 * (a vassal: to its emperor, ipc/vassal.ts): `report` says false when it
 * cannot (the pipe is gone), and the signal is obeyed. */
export interface SignalParent {
  signals: readonly string[];
  report(signal: NodeJS.Signals): boolean;
}

/** The loop's signal listeners: `off` removes them; `redirect` hands what
 * they obey to `fn` from now on (a re-exec carries them: a routed signal
 * from anyone else is still reported, never carried as the parent's). */
export interface Listening {
  off(): void;
  redirect(fn: (s: NodeJS.Signals) => void): void;
}

/** Listens to `signals` for `onSignal`: every delivery without a `parent`,
 * else the parent's signals routed by sender (the parent is this process's
 * parent: process.ppid). */
export function listenSignals(signals: readonly string[], onSignal: (s: NodeJS.Signals) => void, parent: SignalParent | undefined): Listening {
  const listeners = new Map<string, (s: NodeJS.Signals) => void>();
  let target = onSignal;
  const listen = (s: string, fn: (s: NodeJS.Signals) => void) => {
    listeners.set(s, fn);
    process.on(s, fn);
  };
  const routed = parent ? (signals.filter((s) => parent.signals.includes(s)) as NodeJS.Signals[]) : [];
  const plain = signals.filter((s) => !routed.includes(s as NodeJS.Signals));
  for (const s of plain) listen(s, onSignal);
  if (parent && routed.length) {
    const obey = (s: NodeJS.Signals) => target(s);
    const outside = (s: NodeJS.Signals) => { if (!parent.report(s)) target(s); };
    routeSignals(routed, process.ppid, { obey, outside }, (s, fn) => listen(s, fn));
  }
  return {
    off: () => { for (const [s, fn] of listeners) process.off(s, fn); },
    redirect: (fn) => {
      target = fn;
      // (the new listener first: a signal never finds none, Node's default)
      for (const s of plain) {
        process.on(s, fn);
        process.off(s, listeners.get(s)!);
        listeners.set(s, fn);
      }
    },
  };
}
