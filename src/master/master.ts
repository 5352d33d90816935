// The master (gunicorn arbiter style): its whole life in runLoop, top to
// bottom. Listeners (signals, timers, workers, the emperor, control/) only
// push events; the loop drains the queue through a name → handler table
// made of one table per concern (loop/): stop, reload, worker events and
// the other control commands, all sharing one explicit state (loop/context.ts).
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import { EventQueue } from '../event-queue';
import type { HookContext } from '../hooks/actions/types';
import type { HookPlan } from '../hooks/spec';
import { log } from '../log';
import { settleEarlySignals } from '../os/early-signals';
import { startReaper } from '../os/reaper';
import type { Handover } from './generations';
import { useLogMaster } from './log-relay';
import { masterTitle } from './serving';
import type { BoundSocket } from './sockets';
import type { Master } from './loop/context';
import { commandOf, type MasterEnd, type MasterEvent } from './loop/events';
import { HANDLERS } from './loop/handlers';
import { ready } from './loop/readiness';
import { settingsFrom, workerSpec, type MasterRun, type MasterSettings } from './loop/settings';
import { greetEmperor, listen, masterStart, newMaster, openControl, sayStarted, survive } from './loop/start';
import { startTimers, stopTimers } from './loop/timers';

/** The master of this config: its workers on `sockets` until a stop or a reload. */
export async function runMaster(cfg: Config, plan: HookPlan, ctx: HookContext, sockets: BoundSocket[], validateReload: () => Promise<void>, handover?: Handover): Promise<MasterEnd> {
  const settings = settingsFrom(cfg, sockets.length, ctx.binsh);
  return runLoop({ settings, spec: workerSpec(cfg, plan, ctx, settings, sockets), sockets, handover, cfg, plan, ctx, validateReload });
}

/** A reload whose new image could not start: keep the previous generation
 * serving with its own settings until the next reload or stop. */
export async function runFallback(h: Handover, sockets: BoundSocket[], validateReload: () => Promise<void>): Promise<MasterEnd> {
  return runLoop({ settings: h.settings as MasterSettings, spec: h.spec, sockets, handover: h, fallback: true, validateReload });
}

async function runLoop(run: MasterRun): Promise<MasterEnd> {
  const events = new EventQueue<MasterEvent>();
  await settleEarlySignals();
  const { emperor, listening } = listen(run, events); // (listeners only push)
  process.on('uncaughtException', survive('unexpected error'));
  process.on('unhandledRejection', survive('unhandled rejection'));
  startReaper();
  if (run.settings.logMaster) useLogMaster(run.settings.logMaster);
  const m = newMaster(run, events, emperor, listening);
  greetEmperor(m);

  const title = run.cfg ? masterTitle(run.cfg) : undefined;
  if (title) process.title = title;
  if (run.handover) m.workers.adopt(run.handover.workers, run.handover.shared);
  m.workers.spawnAll(m.fallback ? 'respawn' : 'new generation', m.fallback);
  m.daemons?.startAll();
  // abandoned: this reload's image failed, the running workers serve on
  let abandoned = !(await openControl(m));
  sayStarted(m);
  if (!abandoned) abandoned = !(await masterStart(m));
  // nothing to wait for (else READY=1 comes once every slot accepts)
  if (m.count === 0 || m.fallback || abandoned) ready(m);
  startTimers(m);
  return handleEvents(m);
}

/** The loop: each event through its handler, until one ends the master. */
async function handleEvents(m: Master): Promise<MasterEnd> {
  for (;;) {
    const e = await m.events.next();
    const [name, arg] = commandOf(e);
    const handler = HANDLERS[name];
    if (!handler) {
      log('master').warn({ command: name }, 'unknown master command ignored');
      continue;
    }
    try {
      const end = await handler(m, e, arg);
      if (end !== undefined) {
        stopTimers(m);
        return end;
      }
    } catch (err) {
      if (err instanceof LiegeError && err.code === 'LIEGE_ERR_HOOK_FAILED') throw err;
      survive(`command ${name} failed`)(err);
    }
  }
}
