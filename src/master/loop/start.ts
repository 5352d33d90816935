// The steps of the master's start, before its loop drains the queue: listen
// (signals, the emperor), set up the shared state, start the control side
// and run master-start. In a reload's image a failed step fails the reload,
// not the instance: the running generation's workers keep serving.
import { LiegeError } from '../../errors';
import { EventQueue } from '../../event-queue';
import { HookFailure, RELOAD_FAILS, runPhaseAsync } from '../../hooks/run';
import { emperorAsParent, FROM_VASSAL, linkToEmperor, type EmperorLink } from '../../ipc/vassal';
import { log } from '../../log';
import { takeEarlyForeign, takeEarlySignals } from '../../os/early-signals';
import { native } from '../../os/native';
import { listenSignals, type Listening } from '../../os/signal-route';
import { closeInheritedControl, startControl, takeCarriedCommands } from '../control/index';
import { listenQueues } from '../control/listen-queue';
import { Daemons } from '../daemons';
import { socketInfos } from '../sockets';
import { hearSignal, hearSignals, rememberHeard } from '../worker-signals';
import { Workers } from '../workers';
import type { Master } from './context';
import { commandOf, SIGNAL_COMMANDS, STOPS, type MasterEvent } from './events';
import type { MasterRun, MasterSettings } from './settings';
import { stop } from './stop';

/** The loop's signal listeners and the emperor's pipe push onto `events`;
 * so do the signals caught before (early-signals.ts) and the commands a
 * previous image carried across its exec. */
export function listen(run: MasterRun, events: EventQueue<MasterEvent>): { emperor?: EmperorLink; listening: Listening } {
  const push = events.push;
  // (whatever listens meanwhile: a worker's report of the same signal is the group's)
  hearSignals(Object.keys(SIGNAL_COMMANDS));
  rememberHeard(run.handover?.heard);
  // a vassal reads its emperor's commands on UWSGI_EMPEROR_FD and tells it
  // when it accepts; of the emperor's signals it obeys the emperor's only
  // (ipc/vassal.ts)
  const emperor = linkToEmperor((byte) => push({ type: 'emperor', byte }), () => push({ type: 'emperor-lost' }), native.setCloexec, (msg) => log('master').warn(msg));
  const parent = emperorAsParent(emperor);
  const listening = listenSignals(Object.keys(SIGNAL_COMMANDS), (signal) => push({ type: 'signal', signal }), parent);
  const early = takeEarlySignals();
  const foreign = takeEarlyForeign();
  for (const s of early) {
    hearSignal(s);
    // a vassal's, from neither its emperor nor itself (during a reload's
    // re-exec: the group's, which the emperor answers): the emperor judges
    if (parent && foreign.has(s) && parent.signals.includes(s) && parent.report(s)) continue;
    push({ type: 'signal', signal: s });
  }
  for (const name of takeCarriedCommands()) push({ type: 'command', name });
  return { emperor, listening };
}

/** An error nothing caught is logged; the master goes on. */
export const survive = (what: string) => (e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  log('master').error({ code: err?.code ?? 'LIEGE_ERR_INTERNAL', error: String(err?.stack ?? err) }, `${what} (survived)`);
};

/** The state the loop's handlers share (context.ts), workers and daemons
 * made (not started yet). */
export function newMaster(run: MasterRun, events: EventQueue<MasterEvent>, emperor: EmperorLink | undefined, listening: Listening): Master {
  const { settings, sockets } = run;
  const push = events.push;
  const workers = new Workers(settings.processes, run.spec, sockets, { mercyMs: settings.mercyMs, spares: settings.spares ?? 0, backoffMaxMs: settings.backoffMaxMs, startTimeoutMs: settings.policy.startTimeoutMs }, push);
  const daemons = run.cfg ? new Daemons(run.cfg, (status) => push({ type: 'control-daemon-died', status })) : undefined;
  const fallback = run.fallback === true;
  // a reload's image: the next generation
  const reloaded = run.handover !== undefined && !fallback;
  return {
    run,
    settings,
    events,
    workers,
    count: settings.processes,
    daemons,
    emperor,
    listening,
    stats: { workers: () => workers.snapshot(), spares: () => workers.spareViews(), draining: () => workers.drainingViews(), sockets: socketInfos(sockets), queues: () => listenQueues(sockets.map((s) => s.fd)), version: '0.1.0' },
    fallback,
    generation: (run.handover?.generation ?? 0) + (reloaded ? 1 : 0),
    started: 0,
    stopping: false,
    reload: { reloading: reloaded ? 'reload' : undefined, pending: false },
    // after a reload READY=1 comes when the reload is done (reloadDone)
    said: { ready: reloaded, status: '', failing: false, failedReload: fallback },
    timers: {},
  };
}

/** A vassal tells its emperor it runs, and beats if asked. */
export function greetEmperor(m: Master): void {
  const { emperor, run } = m;
  if (emperor) native.emperorWatchOff(); // (the loop hears the pipe close: emperor-lost)
  emperor?.tell(FROM_VASSAL.ready);
  if (emperor && run.cfg?.has('heartbeat')) emperor.heartbeat(run.cfg.int('heartbeat'));
}

/** Stats, metrics, fifos and touch files; false when a reload's image
 * could not start them (the reload failed: the previous image's are
 * started again). The fallback keeps what it can: its generation serves on. */
export async function openControl(m: Master): Promise<boolean> {
  const { settings, run } = m;
  const command = (name: string) => m.events.push({ type: 'command', name });
  try {
    if (settings.control) m.control = await startControl(settings.control, m.stats, command, m.fallback);
    else closeInheritedControl();
    return true;
  } catch (e) {
    const previous = (run.handover?.settings as MasterSettings | undefined)?.control;
    await failedStart(m, e, e instanceof LiegeError);
    // the running generation's stats, fifo and touch files, as before the reload
    if (previous) m.control = await startControl(previous, m.stats, command, true).catch(() => undefined);
    return false;
  }
}

/** The master-start hooks; false when they failed a reload's image.
 * The loop drains the queue only after them: a stop asked meanwhile goes to
 * it at once (a hung hook held it for good), and the stop ends the hooks
 * with the rest of our descendants. */
export async function masterStart(m: Master): Promise<boolean> {
  const { plan, ctx, handover } = m.run;
  let unwatch = () => {};
  const stopAsked = new Promise<void>((resolve) => {
    unwatch = m.events.watch((e) => { if (STOPS.includes(commandOf(e)[0])) resolve(); });
  });
  try {
    if (plan && ctx) {
      const hooks = runPhaseAsync(plan, 'master-start', handover && !m.fallback ? { ...ctx, fatalOutcome: RELOAD_FAILS } : ctx);
      hooks.catch(() => undefined); // (a rejection after the stop won the race)
      await Promise.race([hooks, stopAsked]);
    }
    return true;
  } catch (e) {
    await failedStart(m, e, e instanceof HookFailure);
    return false;
  } finally {
    unwatch();
  }
}

/** A start step threw: in a reload's image (`reloadError`) the reload
 * failed, not the instance; anything else stops the instance, and the
 * error goes up. */
async function failedStart(m: Master, e: unknown, reloadError: boolean): Promise<void> {
  if (!m.run.handover || m.fallback || !reloadError) {
    await stop(m, false);
    throw e;
  }
  log('master').error({ code: 'LIEGE_ERR_RELOAD' }, `the new generation could not start (${(e as LiegeError).describe()}): the running workers keep serving (fix the cause, then reload again)`);
  m.workers.abandonReplacements('a replacement of the failed reload');
  m.said.failedReload = true;
  m.reload.reloading = undefined;
}

/** The loop's first line. A reload's image says its generation starts, not
 * that it started: the old one serves until `reload done` (and a new one
 * that never serves, its app failing to load or a stop coming first, was
 * never started). */
export function sayStarted(m: Master): void {
  const sockets = m.run.sockets.map((s) => `${s.addr}${s.port ? ` (port ${s.port})` : ''}`);
  log('master').info({ pid: process.pid, workers: m.count, generation: m.generation, sockets }, startLine(m));
}

function startLine(m: Master): string {
  if (m.fallback) return 'master running the previous generation (the reload failed)';
  if (m.run.handover) return 'master re-executed: the new generation starts, the running one serves until it accepts';
  return 'master started';
}
