// A worker that gets a stop or reload signal from anyone but its master
// reports it instead of acting on it (os/signal-route.ts). Sent to the
// whole process group or cgroup (Ctrl-C, a terminal's hangup, `kill -TERM
// -PGID`, systemd's KillMode=control-group) the master got the same signal
// at the same moment and answers it for every worker: a reload replaces
// them once the new generation accepts, a stop drains them. Sent to that
// worker alone (`kill -TERM <worker pid>`), the master passes it on as its
// own, so the worker drains (TERM, INT, HUP) or ends (QUIT) as before.
// Which of the two is told by time (os/heard-signals.ts).
import { log } from '../log';
import { judgeReport } from '../os/heard-signals';

export { hearSignal, hearSignals, heardSignals, rememberHeard } from '../os/heard-signals';

export interface WorkerSignalled {
  id: number;
  pid: number;
  signal: NodeJS.Signals;
  from: number; // the sender's pid, 0 the kernel (a terminal)
  at: number; // when the worker got it (the report's arrival from an older worker)
}

/** Decide on a worker's report: nothing when the master heard the same
 * signal (the group's), else `passOn` it as the master's. */
export function judgeWorkerSignal(r: WorkerSignalled, passOn: (pid: number, signal: NodeJS.Signals) => boolean): void {
  judgeReport(r.signal, r.at, () => {
    if (!passOn(r.pid, r.signal)) return;
    log('master').info({ worker: r.id, pid: r.pid, signal: r.signal, from: r.from }, `worker got ${r.signal} from pid ${r.from}, not from the master: passed on (a signal to that worker alone)`);
  });
}
