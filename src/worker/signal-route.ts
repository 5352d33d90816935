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
// native/src/sender.c); libuv passes the number only.
import { native } from '../os/native';

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
