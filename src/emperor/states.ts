// The vassal state table (STYLE: state machines as tables): status × event
// → the next status and what the emperor does. Pure, unit-tested without
// processes; emperor.ts performs the actions.
export type VassalStatus = 'waiting' | 'starting' | 'running' | 'reloading' | 'stopping' | 'throttled' | 'exiled' | 'on-demand';

export type VassalEvent =
  | 'changed' // its config has a new version (newer mtime, touch, etcd revision)
  | 'reload' // the emperor's reload (SIGHUP): every live vassal reloads
  | 'reload-failed' // the vassal said its reload failed: its running generation serves
  | 'owner-changed' // tyrant: the config file changed hands
  | 'gone' // no monitor wants it any more
  | 'wanted' // wanted again while stopping
  | 'slot' // a spawn slot is free (bounded concurrency) or an on-demand connection came
  | 'ready' // the vassal said it accepts
  | 'exit' // the process ended on its own
  | 'exile' // the process ended with EXILE_CODE: its config is invalid
  | 'stopped-restart' // a stop finished and it is wanted again
  | 'timer' // its respawn delay passed
  | 'force' // SIGURG: respawn throttled vassals now
  | 'silent'; // it sent heartbeats, then none for emperor-required-heartbeat

export type VassalAction = 'none' | 'spawn' | 'queue' | 'reload' | 'reload-again' | 'stop' | 'stop-restart' | 'kill' | 'restart-after-stop' | 'no-restart' | 'respawn-later' | 'remove';

type Row = Partial<Record<VassalEvent, [VassalStatus | 'removed', VassalAction]>>;

const LIVE: Row = {
  changed: ['reloading', 'reload'],
  reload: ['reloading', 'reload'],
  'owner-changed': ['stopping', 'stop-restart'],
  gone: ['stopping', 'stop'],
  exit: ['throttled', 'respawn-later'],
  exile: ['exiled', 'none'],
  silent: ['running', 'kill'], // its exit follows: respawned
};

export const TABLE: Record<VassalStatus, Row> = {
  waiting: { slot: ['starting', 'spawn'], changed: ['waiting', 'none'], gone: ['removed', 'remove'] },
  starting: { ...LIVE, changed: ['starting', 'reload'], silent: ['starting', 'kill'], ready: ['running', 'none'] },
  running: LIVE,
  // until it says accepting (the new generation serves) or reload-failed;
  // one more reload asked meanwhile is sent after that answer (the answer
  // to two bytes in flight could not tell which reload it ends)
  reloading: { ...LIVE, changed: ['reloading', 'reload-again'], reload: ['reloading', 'reload-again'], silent: ['reloading', 'kill'], ready: ['running', 'none'], 'reload-failed': ['running', 'none'] },
  stopping: { wanted: ['stopping', 'restart-after-stop'], changed: ['stopping', 'restart-after-stop'], gone: ['stopping', 'no-restart'], exit: ['removed', 'remove'], exile: ['removed', 'remove'], 'stopped-restart': ['waiting', 'queue'] },
  throttled: { timer: ['waiting', 'queue'], force: ['waiting', 'queue'], changed: ['waiting', 'queue'], gone: ['removed', 'remove'] },
  exiled: { changed: ['waiting', 'queue'], gone: ['removed', 'remove'] },
  'on-demand': { slot: ['starting', 'spawn'], changed: ['on-demand', 'none'], gone: ['removed', 'remove'] },
};

/** The next status and the action for `event` in `status` (unlisted: ignored). */
export function transition(status: VassalStatus, event: VassalEvent): [VassalStatus | 'removed', VassalAction] {
  return TABLE[status][event] ?? [status, 'none'];
}

/** The respawn delay after the n-th early death in a row (uWSGI's
 * blacklist): the first respawn is immediate, then each one waits
 * `step` ms longer, up to `max`. A loyal vassal starts over. */
export function throttleDelay(earlyDeaths: number, step: number, max: number): number {
  return Math.min(Math.max(earlyDeaths - 1, 0) * step, max);
}
