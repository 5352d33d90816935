// A workers reload (fifo w) or a chain reload (fifo c, SIGUSR2): the master
// stays and walks the slots (reload-steps.ts), replacing each one whose
// worker started before the request; a chain one slot at a time.
import { log } from '../../log';
import { reloading as reloadingFields } from '../../os/notify';
import type { Master } from './context';
import { sdNotify } from './readiness';
import { endReload, reloadDone } from './reload-state';

/** The walk's next steps, on every worker event: done when every slot
 * serves with a newer worker. */
export function walkOn(m: Master): void {
  const w = m.reload.walk;
  if (!w || m.stopping) return;
  const { workers } = m;
  w.todo = w.todo.filter((id) => workers.reloadStep(id, w.mark) !== 'done');
  for (const id of w.todo) {
    if (workers.reloadStep(id, w.mark) === 'replace') workers.replace(id, m.reload.reloading!);
    if (w.oneAtATime) break;
  }
  if (w.todo.length) return;
  m.reload.walk = undefined;
  reloadDone(m);
}

/** A reload that keeps the master. Asked while another one runs, it
 * takes over from where that one is: every worker started before now is
 * replaced (those already replaced may have loaded the code before this
 * request), the others are not. Merged into a new generation coming up. */
export function walkReload(m: Master, what: string, how: string, status: string): undefined {
  const l = log('master');
  const { reloading, walk } = m.reload;
  if (reloading === 'reload') {
    l.info(`${what} requested while a reload runs: merged`);
    return undefined;
  }
  if (walk) l.info(`${what} requested while a ${reloading} runs: it goes on from slot ${walk.todo[0]}, replacing every worker started before now`);
  else {
    l.info(`${what} requested: ${how}`);
    m.workers.dropSpares(what, true); // until reloadDone
    sdNotify({ ...reloadingFields(), STATUS: status });
  }
  m.reload.reloading = what;
  m.reload.walk = { mark: m.workers.mark(), todo: fromSlot(m.workers.ids(), walk?.todo[0]), oneAtATime: what === 'chain reload' };
  walkOn(m);
  return undefined;
}

/** A workers or chain reload whose new code does not load (the app
 * throws at load): the walk stops there instead of retrying that slot
 * with the crash-loop backoff for good; the old workers keep serving,
 * those it already replaced serve on. */
export function stopWalk(m: Master, id: number, error: string): undefined {
  const { reloading } = m.reload;
  log('master').error({ code: 'LIEGE_ERR_RELOAD', worker: id, error }, `${reloading} stopped: the app does not load in the new worker ${id}; the old workers keep serving (fix the cause, then reload again)`);
  m.workers.abandonReplacements(`the ${reloading} stopped`);
  m.reload.walk = undefined;
  endReload(m);
  return undefined;
}

/** `ids` in order, from `first` on, then the ones before it. */
function fromSlot(ids: number[], first: number | undefined): number[] {
  const i = first === undefined ? -1 : ids.indexOf(first);
  if (i <= 0) return ids;
  return [...ids.slice(i), ...ids.slice(0, i)];
}
