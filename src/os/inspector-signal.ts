// Node's default for SIGUSR1 opens its inspector: a debugger on
// 127.0.0.1:9229 that any local user may attach to and run code in the
// process, as its user (root's, for the privileged helpers). uWSGI's
// operators send SIGUSR1 for stats, to every process of an instance at
// times (`pkill -USR1 uwsgi`): the master logs them (its own listener),
// every other liege process ignores it. bin/liege does the same in its first
// lines for the processes it starts (masters, emperors, vassals, the
// single-process server); the worker loader (scripts/bundle.js) too.

const ignore = (): void => undefined;
// on the process, not in this module: the build's parts (scripts/parts.js)
// may each carry a copy of this file, and one process must keep it once
const KEPT = Symbol.for('liege.inspectorShut');

/** SIGUSR1 does nothing here but call the app's own listeners, if any. Kept
 * when the app removes its listeners (`removeAllListeners('SIGUSR1')`, a
 * `once`): with no listener left, Node does not give the signal back to the
 * inspector but to the default action, which ends the process. */
export function keepInspectorShut(): void {
  const p = process as unknown as Record<symbol, boolean>;
  if (p[KEPT]) return;
  p[KEPT] = true;
  process.on('SIGUSR1', ignore);
  process.on('removeListener', (event) => {
    if (event === 'SIGUSR1' && process.listenerCount('SIGUSR1') === 0) process.on('SIGUSR1', ignore);
  });
}
