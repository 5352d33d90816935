// A graceful or brutal reload: the config is validated, the running
// workers, sockets, control sockets and queued signals are handed over,
// and the master re-executes itself (lifecycle.ts does the exec). A config
// that does not load leaves the running generation serving.
import { fdLimitHint, LiegeError } from '../../errors';
import { log } from '../../log';
import { carrySignalsToExec } from '../../os/early-signals';
import { native } from '../../os/native';
import { reloading as reloadingFields } from '../../os/notify';
import { killDescendants } from '../../os/reaper';
import { bridgeWatchdog } from '../../os/watchdog';
import { carryCommands } from '../control/index';
import { handOver } from '../generations';
import { flushRelayedOutput, holdRelayedOutput } from '../log-relay';
import { holdLoggers } from '../loggers/open';
import { handOverSockets } from '../sockets';
import { heardSignals } from '../worker-signals';
import type { Master } from './context';
import { carriedName, type MasterEnd } from './events';
import { refusedToSystemd, sdNotify } from './readiness';
import { forgetReload } from './reload-state';
import { stop } from './stop';
import { stopTimers } from './timers';

/** The next generation: validate, hand over, re-exec (returns 'reload').
 * `brutal` (fifo R, uWSGI's reap_them_all): the running workers are
 * SIGKILLed before the exec instead of handed over to drain; the
 * listening sockets stay open, so new connections wait in the backlog
 * for the new generation. */
export async function reload(m: Master, brutal = false): Promise<MasterEnd | undefined> {
  const l = log('master');
  const { workers } = m;
  // a new generation that keeps failing to start (the app throws at load)
  // never ends its reload: the reload that brings the fix goes now
  if (m.reload.reloading && workers.retrying()) {
    l.info('reload requested while the new generation fails to start: reloading now');
    forgetReload(m);
  }
  // (a brutal one never waits: it cuts the running reload short, below)
  if (m.reload.reloading && !brutal) {
    m.reload.pending = true;
    l.info('reload requested while one runs: merged into one more reload after it');
    return undefined;
  }
  l.info(brutal ? 'brutal reload requested' : 'graceful reload requested');
  if (!(await validated(m))) return undefined;
  if (m.reload.reloading) {
    // (only now: a config refused leaves the running reload to finish)
    l.info('brutal reload requested while a reload runs: reloading now');
    forgetReload(m);
  }
  if (m.settings.exitOnReload) return stop(m, !brutal).then(() => 0);
  sdNotify(reloadingFields());
  stopTimers(m);
  bridgeWatchdog(); // (the queue no longer drains: what the reload awaits, daemons that take their time to stop, is pinged through)
  if (brutal) {
    // before the exec: the new image then starts on empty slots, and no
    // worker of the old generation can be left to a pid that was reused
    await workers.stopAll(false);
    l.info('brutal reload: every worker killed (requests in flight cut), re-executing');
  }
  await m.control?.handOver();
  await m.daemons?.stopAll();
  if (brutal) {
    // nothing of the old generation survives it, as after a stop: what
    // its workers orphaned onto us (a double fork), workers still
    // draining from an earlier reload, a touch-exec command
    const left = killDescendants();
    if (left) l.info({ processes: left }, 'brutal reload: killed what the old generation left behind');
  }
  await holdRelayedOutput();
  await holdLoggers();
  handOver({
    generation: m.generation,
    workers: brutal ? [] : workers.handover(),
    shared: workers.handOverShared(),
    settings: m.settings,
    spec: m.run.spec,
    brutal: brutal && m.count > 0 ? true : undefined,
    heard: heardSignals(),
  });
  flushRelayedOutput();
  handOverSockets(m.run.sockets);
  m.emperor?.keepAcrossExec(native.setCloexec);
  // from here to the new image's listeners, signals are carried over
  // (those queued meanwhile too: the loop ends with this reload)
  const queued = m.events.takeAll();
  carrySignalsToExec(m.listening.redirect, queued);
  carryCommands(queued.flatMap(carriedName));
  return 'reload';
}

/** Whether the config on disk loads now; if not, says why (the running
 * generation keeps serving). */
async function validated(m: Master): Promise<boolean> {
  try {
    await m.run.validateReload();
    return true;
  } catch (e) {
    // (a full descriptor table reads as an unreadable config: say which it is)
    const full = fdLimitHint(((e as Error).cause as NodeJS.ErrnoException | undefined)?.code);
    const code = (e as LiegeError).code ?? 'LIEGE_ERR_CONFIG_READ';
    let why = e instanceof LiegeError ? e.describe() : String(e);
    if (full) why += `; the master is out of file descriptors: ${full}`;
    log('master').error({ code }, `reload refused, the running generation keeps serving: ${why}`);
    refusedToSystemd(m, code);
    // (a workers or chain reload given up for this one held the spares)
    if (!m.reload.reloading) m.workers.resumeSpares();
    return false;
  }
}
