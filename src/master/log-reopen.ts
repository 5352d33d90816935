// A log reopen reaches the workers: after logrotate moved the file, the
// master points its fds 1 and 2 at a fresh open of the path (logfile.ts),
// then tells every worker (serving, draining, adopted across a reload,
// warm spares) to do the same, so their request log and the app's own
// output follow without a reload (uWSGI needs log-master for that; with
// log-master, their output goes through the master: nothing to tell). A
// worker opens the file the master has just created, as the same user.
import { logFile } from './logfile';
import { startedProcs, tell, type Proc } from './worker-process';

/** Tells each worker to reopen the log file; how many were told. */
export function reopenWorkerLogs(slotProcs: Proc[]): number {
  const file = logFile();
  if (!file) return 0;
  let told = 0;
  for (const p of new Set([...slotProcs, ...startedProcs()])) {
    if (p.output) continue; // log-master: it writes to the master, which reopened
    if (tell(p, { type: 'reopen-log', file, liege: 1 })) told++;
  }
  return told;
}
