// How a reload ends: done (the new workers serve, the old ones are gone),
// stopped, or given up for one that runs now. A reload asked while one runs
// is merged into one more reload after it (`pending`).
import { log } from '../../log';
import type { Master } from './context';
import { ready } from './readiness';

/** The reload is done once every slot serves with a new worker and no old
 * one drains. */
export function reloadDone(m: Master): void {
  const { reloading, walk } = m.reload;
  if (!reloading || m.stopping || m.workers.busy() || walk) return;
  if (reloading === 'reload') log('master').info({ generation: m.generation }, 'reload done: the new generation serves, the old one is gone');
  else log('master').info(`${reloading} done: every worker was started since it was asked, the old ones are gone`);
  endReload(m);
}

/** A reload ended (done or stopped): spares go on, systemd hears, a reload asked meanwhile runs. */
export function endReload(m: Master): void {
  m.reload.reloading = undefined;
  m.workers.resumeSpares();
  ready(m, !m.reload.pending);
  if (m.reload.pending) {
    m.reload.pending = false;
    m.events.push({ type: 'command', name: 'reload' });
  }
}

/** The reload under way, and one merged after it, are given up for one
 * that runs now. */
export function forgetReload(m: Master): void {
  m.reload.reloading = undefined;
  m.reload.pending = false;
  m.reload.walk = undefined;
}
