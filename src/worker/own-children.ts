// A worker that ends takes its children with it: one drained by a reload or
// a recycling, an app that exits or crashes. Before, they landed on the
// master (a subreaper) and ran until the instance stopped: every reload
// added the old workers' children (a sidecar, a job runner) to the host.
// A double-forked job is the master's already, in no worker's tree: it runs
// until it exits or the instance stops (README, No orphans). A worker the
// master SIGKILLs runs no exit listener: the master kills its tree.
import { childPids, killTree } from '../os/reaper';

/** SIGKILL every child of this worker with its subtree (`setsid` ones too). */
export function endChildren(): void {
  for (const pid of childPids()) killTree(pid);
}
