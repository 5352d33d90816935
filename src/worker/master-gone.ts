// A worker's channel to the master closed: the master is gone once the
// worker has another parent (a master that re-execs keeps the channel; an
// app that closed it itself, process.disconnect(), keeps its master). The
// kernel closes a dead master's files, the channel, before it hands its
// children to their new parent: read at the close, the parent was still
// the master's pid in about a third of the workers, which then served on
// until the native watchdog SIGKILLed them (3 s, requests in flight lost).
// So the parent is read again for a moment.
const POLL_MS = 20;
const WAIT_MS = 1000;

/** Calls `then` once the parent is no longer `masterPid`, if it changes within WAIT_MS. */
export function whenMasterGone(masterPid: number | undefined, then: () => void): void {
  const until = Date.now() + WAIT_MS;
  const check = () => {
    if (process.ppid !== masterPid) return then();
    // (unref: a worker whose app closed its channel ends as it would)
    if (Date.now() < until) setTimeout(check, POLL_MS).unref();
  };
  check();
}
