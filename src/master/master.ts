// The master loop (gunicorn arbiter style): spawn workers and daemons, run
// master-start, then drain a queue of events through a name → handler
// table. Signal listeners, timers, workers and control/ (fifo, touch files)
// only push events; commands are `{ type: 'command', name }` and signals map
// onto the same names: HUP → reload (graceful), TERM/INT → stop (graceful),
// QUIT → quit (DEPARTURES D2). A reload asked while one runs is merged into
// one more reload after it (a workers or chain reload asked while one of
// them runs takes it over: reload-steps.ts); a stop is never merged: it ends
// the instance.
import type { Config } from '../config/config';
import { FAILED_APP_CODE, fdLimitHint, LiegeError } from '../errors';
import type { HookContext } from '../hooks/actions/types';
import { extrasOf } from '../hooks/registry/plan';
import { HookFailure, RELOAD_FAILS, runPhaseAsync, WORKER_FAILS } from '../hooks/run';
import type { HookPlan } from '../hooks/spec';
import { log } from '../log';
import { emperorAsParent, FROM_VASSAL, linkToEmperor, reloadQueued, TO_VASSAL } from '../ipc/vassal';
import { listenSignals } from '../os/signal-route';
import { tellDaemonReady } from '../ipc/daemon';
import { EventQueue } from '../event-queue';
import { native } from '../os/native';
import { shrinkHeapSoon } from '../os/heap';
import { reloading as reloadingFields, sdNotifyReported } from '../os/notify';
import { startWatchdog } from '../os/watchdog';
import { carrySignalsToExec, takeEarlySignals } from '../os/early-signals';
import { killDescendants, startReaper } from '../os/reaper';
import { Daemons } from './daemons';
import { stopMercy, WORKER_PHASES, type WorkerSpec } from '../ipc/worker';
import { handOver, type Handover } from './generations';
import { judge, type RecyclePolicy, type Verdict } from './recycle';
import type { BoundSocket } from './sockets';
import { handOverSockets, refuseConnections } from './sockets';
import { Workers, rssOf, type Proc, type WorkerEvent } from './workers';
import { masterTitle, servingSpec } from './serving';
import { carryCommands, closeInheritedControl, controlSpec, startControl, takeCarriedCommands, type Control, type ControlSpec } from './control/index';
import { listenQueues } from './control/listen-queue';
import { statsDocument, type StatsSource } from './control/stats';
import { reopenLog } from './logfile';
import { holdLoggers, reopenLoggers } from './loggers/open';
import { reopenWorkerLogs } from './log-reopen';
import { flushRelayedOutput, holdRelayedOutput, logMasterSpec, relayDrained, useLogMaster, type LogMasterSpec } from './log-relay';
import { escalateOnQuit, ignoreSignalsUntilExit } from './stopping';
import { creditStall, StallClock } from './stall';
import { watchSilence } from './silence';
import { PIDFILES, writePidfile } from './pidfile';
import { hearSignal, heardSignals, hearSignals, judgeWorkerSignal, rememberHeard, type WorkerSignalled } from './worker-signals';
import { socketInfos } from './sockets';

/** How long a stop waits for the workers' last lines (log-master). */
const RELAY_DRAIN_MS = 1000;
/** Workers started between two low-memory GCs of the master. */
const SHRINK_EVERY = 50;

const sdNotify = (fields: Record<string, string | number>) => sdNotifyReported(fields, (err) => {
  if (err) log('master').warn({ error: err.message }, 'unable to notify systemd (said again once it works)');
  else log('master').info('systemd notified again');
});

/** How the master ended: an exit status, or a request to re-exec. */
export type MasterEnd = number | 'reload';

export type MasterEvent =
  | { type: 'signal'; signal: NodeJS.Signals }
  | { type: 'command'; name: string }
  | { type: 'tick'; lateMs?: number } // lateMs: how late the timer fired (the master stalled)
  | { type: 'watchdog' }
  | { type: 'control-daemon-died'; status: number }
  | { type: 'emperor'; byte: number }
  | { type: 'emperor-lost' }
  | WorkerEvent;

/** Signals and the commands they mean. */
// (SIGUSR1: the stats to the log, as uWSGI's master)
export const SIGNAL_COMMANDS: Record<string, string> = { SIGHUP: 'reload', SIGTERM: 'stop', SIGINT: 'stop', SIGQUIT: 'quit', SIGUSR1: 'stats-log', SIGUSR2: 'chain-reload' };

/** Everything the loop needs from the config, as plain data (it is handed
 * over across a reload, for the fallback). */
export interface MasterSettings {
  processes: number;
  policy: RecyclePolicy;
  harakiriVerbose: boolean;
  mercyMs: number; // worker-reload-mercy
  stopMercyMs: number; // reload-mercy: caps a stop (with worker-reload-mercy: stopMercy())
  backoffMaxMs: number;
  exitOnReload: boolean;
  needApp?: boolean; // need-app (absent in a handover from an older image)
  spares?: number; // spare-workers (absent in a handover from an older image)
  control?: ControlSpec; // stats, metrics, fifos, touch files (idem)
  logMaster?: LogMasterSpec; // log-master (absent: off)
}

/** The loop's settings, read from the config once. */
export function settingsFrom(cfg: Config, sockets: number, binsh: string): MasterSettings {
  return {
    processes: sockets ? cfg.int('processes') : 0, // no socket, no workers (uWSGI too)
    policy: {
      harakiriMs: cfg.int('harakiri') * 1000,
      maxRequests: cfg.int('max-requests'),
      maxRequestsDelta: cfg.int('max-requests-delta'),
      reloadOnRssBytes: cfg.int('reload-on-rss') * 1048576,
      evilReloadOnRssBytes: cfg.int('evil-reload-on-rss') * 1048576,
      maxLifetimeMs: cfg.int('max-worker-lifetime') * 1000,
      maxLifetimeDeltaMs: cfg.int('max-worker-lifetime-delta') * 1000,
      minLifetimeMs: cfg.int('min-worker-lifetime') * 1000,
      // the worker fails a self-listening app at app-listen-timeout with a
      // clearer error; this catches any start that hangs (load, hooks, frozen)
      startTimeoutMs: (cfg.int('app-listen-timeout') + 5) * 1000,
    },
    harakiriVerbose: cfg.bool('harakiri-verbose'),
    mercyMs: cfg.int('worker-reload-mercy') * 1000,
    stopMercyMs: cfg.int('reload-mercy') * 1000,
    backoffMaxMs: cfg.int('respawn-backoff-max') * 1000,
    exitOnReload: cfg.bool('exit-on-reload'),
    needApp: cfg.bool('need-app'),
    spares: sockets ? cfg.int('spare-workers') : 0,
    control: controlSpec(cfg, binsh),
    logMaster: logMasterSpec(cfg),
  };
}

/** What one master image runs: the config's (or, in the fallback after a
 * failed reload, the previous image's) workers on these sockets. */
export interface MasterRun {
  settings: MasterSettings;
  spec: Omit<WorkerSpec, 'id' | 'once'>;
  sockets: BoundSocket[];
  handover?: Handover;
  fallback?: boolean; // the handover's generation serves on: this image's reload failed
  cfg?: Config; // absent in the fallback: no hooks, no daemons
  plan?: HookPlan;
  ctx?: HookContext;
  validateReload: () => Promise<void>;
}

/** What every worker of this generation is started with (ipc/worker.ts). */
export function workerSpec(cfg: Config, plan: HookPlan, ctx: HookContext, settings: MasterSettings, sockets: BoundSocket[]): Omit<WorkerSpec, 'id' | 'once'> {
  const stop = stopMercy(settings.mercyMs, settings.stopMercyMs);
  return {
    ...servingSpec(cfg, sockets),
    hooks: cfg.hookLines.filter((h) => WORKER_PHASES.includes(h.phase)),
    ctx: { ...ctx, fatalOutcome: WORKER_FAILS },
    masterPid: process.pid,
    deathGraceMs: 3000,
    mercyMs: settings.mercyMs,
    stopMercyMs: stop.ms,
    stopMercyName: stop.name,
    maxRequests: settings.policy.maxRequests || undefined,
    maxRequestsDelta: settings.policy.maxRequestsDelta || undefined,
    harakiri: settings.policy.harakiriMs > 0 || undefined,
    extraHooks: extrasOf(plan, WORKER_PHASES),
  };
}

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
  const { settings, sockets, cfg, plan, ctx } = run;
  const events = new EventQueue<MasterEvent>();
  const push = events.push;
  const l = log('master');
  const onSignal = (signal: NodeJS.Signals) => push({ type: 'signal', signal });
  // (whatever listens meanwhile: a worker's report of the same signal is the group's)
  hearSignals(Object.keys(SIGNAL_COMMANDS));
  rememberHeard(run.handover?.heard);
  // a vassal reads its emperor's commands on UWSGI_EMPEROR_FD and tells it
  // when it accepts; of the emperor's signals it obeys the emperor's only
  // (ipc/vassal.ts)
  const emperor = linkToEmperor((byte) => push({ type: 'emperor', byte }), () => push({ type: 'emperor-lost' }), native.setCloexec, (m) => l.warn(m));
  const listening = listenSignals(Object.keys(SIGNAL_COMMANDS), onSignal, emperorAsParent(emperor));
  for (const s of takeEarlySignals()) {
    hearSignal(s);
    push({ type: 'signal', signal: s });
  }
  for (const name of takeCarriedCommands()) push({ type: 'command', name });
  const survive = (what: string) => (e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    l.error({ code: err?.code ?? 'LIEGE_ERR_INTERNAL', error: String(err?.stack ?? err) }, `${what} (survived)`);
  };
  process.on('uncaughtException', survive('unexpected error'));
  process.on('unhandledRejection', survive('unhandled rejection'));
  startReaper();
  if (settings.logMaster) useLogMaster(settings.logMaster);

  const count = settings.processes;
  const workers = new Workers(count, run.spec, sockets, { mercyMs: settings.mercyMs, spares: settings.spares ?? 0, backoffMaxMs: settings.backoffMaxMs, startTimeoutMs: settings.policy.startTimeoutMs }, push);
  const daemons = cfg ? new Daemons(cfg, (status) => push({ type: 'control-daemon-died', status })) : undefined;
  const fallback = run.fallback === true;
  let generation = run.handover?.generation ?? 0;
  if (run.handover && !fallback) generation++; // a reload's image: the next generation

  // reload state: none, a new generation coming up ('reload'), or a
  // 'workers reload' / 'chain reload' walking the slots (reload-steps.ts)
  // (the fallback is no reload: the previous generation just keeps serving)
  let reloading: string | undefined = run.handover && !fallback ? 'reload' : undefined;
  let pendingReload = false;
  let stopping = false;
  let walk: Walk | undefined;

  if (emperor) native.emperorWatchOff(); // (the loop hears the pipe close: emperor-lost)
  emperor?.tell(FROM_VASSAL.ready);
  if (emperor && cfg?.has('heartbeat')) emperor.heartbeat(cfg.int('heartbeat'));

  const status = () => {
    const n = workers.acceptingCount();
    const how = n === count ? `${n}` : `${n} of ${count}`;
    if (!sockets.length) return `serving with ${how} workers`;
    return `serving with ${how} workers on ${sockets.map((s) => s.addr).join(', ')}`;
  };
  // after a reload READY=1 comes when the reload is done (reloadDone)
  let readySent = reloading !== undefined;
  let lastStatus = '';
  // the emperor hears how its reload ended: accepting (this generation
  // serves) or reloadFailed (the previous one does: the fallback, or a
  // reload abandoned); not when one more reload follows at once (it answers)
  let failedReload = fallback;
  const ready = (tellEmperor = true) => {
    tellDaemonReady();
    if (tellEmperor && !reloadQueued(events)) emperor?.tell(failedReload ? FROM_VASSAL.reloadFailed : FROM_VASSAL.accepting);
    failedReload = false;
    readySent = true;
    lastStatus = status();
    sdNotify({ READY: 1, STATUS: lastStatus });
    shrinkHeapSoon(true);
  };
  const statusChanged = () => {
    if (!readySent || reloading || stopping || status() === lastStatus) return;
    lastStatus = status();
    sdNotify({ STATUS: lastStatus });
  };

  let started = 0; // workers that reached accepting
  let control: Control | undefined;
  const stop = async (graceful: boolean) => {
    stopping = true;
    daemons?.holdRespawns(); // (stopped after the workers; one that ends meanwhile stays so)
    // before the workers hear of it: not one connection more is queued
    // (a worker still accepting wakes up for nothing until it stops)
    refuseConnections(sockets);
    sdNotify({ STOPPING: 1 });
    control?.stop();
    // the loop waits for the stop: harakiri keeps its deadline meanwhile (a
    // worker stuck in a request cannot drain; without this the stop would
    // wait the whole reload-mercy)
    const deadlines = graceful && settings.policy.harakiriMs > 0 ? setInterval(() => harakiri(Date.now()), 1000) : undefined;
    const unwatch = graceful ? escalateOnQuit(events, () => void workers.stopAll(false)) : undefined;
    await workers.stopAll(graceful, stopMercy(settings.mercyMs, settings.stopMercyMs));
    unwatch?.();
    clearInterval(deadlines);
    ignoreSignalsUntilExit(Object.keys(SIGNAL_COMMANDS), listening.off);
    await daemons?.stopAll();
    const left = killDescendants();
    if (left) l.warn({ processes: left }, 'killed what the workers, daemons and hooks left behind');
    await relayDrained(RELAY_DRAIN_MS);
  };

  const killNow = (p: Proc, v: Verdict) => {
    // a harakiri says its request, requests and rss only with harakiri-verbose
    const verbose = settings.harakiriVerbose || !v.reason.startsWith('harakiri');
    const fields = verbose ? { worker: v.id, pid: v.pid, request: v.request, requests: p.stats.requests, rss: rssOf(p) } : { worker: v.id, pid: v.pid };
    l.warn(fields, `${v.reason}: SIGKILL`);
    workers.kill(p, v.reason);
  };
  /** The recycling policy's verdict on `p` now (recycle.ts). */
  function verdict(p: Proc, now: number): Verdict | undefined {
    return judge(p, () => rssOf(p), now, settings.policy, !!(p.child || p.channel));
  }

  /** Only the harakiri verdicts (while a stop waits for the workers). */
  function harakiri(now: number): void {
    for (const p of workers.all()) {
      const v = verdict(p, now);
      if (v && v.action === 'kill' && v.reason.startsWith('harakiri')) killNow(p, v);
    }
  }

  /** The recycling policy's verdict on `p` now, applied. */
  function apply(p: Proc, now: number): void {
    const v = verdict(p, now);
    if (!v) return;
    if (v.action === 'kill') killNow(p, v);
    else if (recyclable(p) && workers.replace(v.id, v.reason, true)) l.info({ worker: v.id, pid: v.pid }, `recycling: ${v.reason}`);
  }

  /** While a reload runs, only a worker it will not replace is recycled:
   * one started since a workers or chain reload was asked (a long chain
   * keeps max-requests and reload-on-rss for the workers it started). */
  function recyclable(p: Proc): boolean {
    if (!reloading) return true;
    return walk !== undefined && (p.serial ?? 0) > walk.mark;
  }

  const title = cfg ? masterTitle(cfg) : undefined;
  if (title) process.title = title;
  if (run.handover) workers.adopt(run.handover.workers, run.handover.shared);
  workers.spawnAll(fallback ? 'respawn' : 'new generation', fallback);
  daemons?.startAll();
  let abandoned = false;
  // in a reload the old workers serve: the reload failed, not the instance
  const reloadFailed = (e: LiegeError) => {
    l.error({ code: 'LIEGE_ERR_RELOAD' }, `the new generation could not start (${e.describe()}): the running workers keep serving (fix the cause, then reload again)`);
    workers.abandonReplacements('a replacement of the failed reload');
    reloading = undefined;
    abandoned = true;
    failedReload = true;
  };
  const source: StatsSource = { workers: () => workers.snapshot(), spares: () => workers.spareViews(), draining: () => workers.drainingViews(), sockets: socketInfos(sockets), queues: () => listenQueues(sockets.map((s) => s.fd)), version: '0.1.0' };
  const command = (name: string) => push({ type: 'command', name });
  try {
    // (the fallback keeps what it can: its generation serves on)
    if (settings.control) control = await startControl(settings.control, source, command, fallback);
    else closeInheritedControl();
  } catch (e) {
    const previous = (run.handover?.settings as MasterSettings | undefined)?.control;
    if (!run.handover || fallback || !(e instanceof LiegeError)) {
      await stop(false);
      throw e;
    }
    reloadFailed(e);
    // the running generation's stats, fifo and touch files, as before the reload
    if (previous) control = await startControl(previous, source, command, true).catch(() => undefined);
  }
  l.info({ pid: process.pid, workers: count, generation, sockets: sockets.map((s) => `${s.addr}${s.port ? ` (port ${s.port})` : ''}`) }, startLine(fallback, run.handover !== undefined));
  // the loop drains the queue only after the master-start hooks: a stop
  // asked meanwhile goes to it at once (a hung hook held it for good), and
  // the stop ends the hooks with the rest of our descendants
  let unwatch = () => {};
  const stopAsked = new Promise<void>((resolve) => {
    unwatch = events.watch((e) => { if (STOPS.includes(commandOf(e)[0])) resolve(); });
  });
  try {
    if (plan && ctx && !abandoned) {
      const hooks = runPhaseAsync(plan, 'master-start', run.handover && !fallback ? { ...ctx, fatalOutcome: RELOAD_FAILS } : ctx);
      hooks.catch(() => undefined); // (a rejection after the stop won the race)
      await Promise.race([hooks, stopAsked]);
    }
  } catch (e) {
    if (!run.handover || fallback || !(e instanceof HookFailure)) {
      await stop(false);
      throw e;
    }
    reloadFailed(e);
  } finally {
    unwatch();
  }
  if (count === 0 || fallback || abandoned) ready();

  // measured in the timer's callback: it runs before the loop reads the
  // heartbeats that piled up while the master did not run (stall.ts)
  const clock = new StallClock(1000);
  const tick = setInterval(() => push({ type: 'tick', lateMs: clock.lateBy(Date.now()) }), 1000);
  const warn = run.handover ? undefined : (m: string) => l.warn(m);
  const watchdog = startWatchdog(() => push({ type: 'watchdog' }), warn);

  const reloadDone = () => {
    if (!reloading || stopping || workers.busy() || walk) return;
    if (reloading === 'reload') l.info({ generation }, 'reload done: the new generation serves, the old one is gone');
    else l.info(`${reloading} done: every worker was started since it was asked, the old ones are gone`);
    endReload();
  };

  /** A reload refused (its config does not load): a Type=notify-reload unit
   * sent the SIGHUP and waits for RELOADING=1 then READY=1 (before, until
   * its timeout); under Type=notify it is a moment in "reloading". Not
   * while a reload runs: its own READY=1 ends it. */
  const refusedToSystemd = (code: string) => {
    if (reloading) return;
    emperor?.tell(FROM_VASSAL.reloadFailed);
    sdNotify(reloadingFields());
    sdNotify({ READY: 1, STATUS: `reload refused (${code}), the running generation is ${status()}` });
  };

  /** A new generation's worker died before accepting (the app no longer
   * loads): the reload goes on retrying, but systemd, which holds a unit
   * in "reloading" from RELOADING=1 to the next READY=1 (`systemctl reload`
   * waits, then fails at its timeout), hears now that the running
   * generation serves. Said once per image; a fix's reload re-execs. */
  let failingSaid = false;
  const reloadFailing = () => {
    if (reloading !== 'reload' || stopping || failingSaid) return;
    failingSaid = true;
    emperor?.tell(FROM_VASSAL.reloadFailed);
    sdNotify({ READY: 1, STATUS: `reload failing (the new generation's workers die before accepting), the running generation is ${status()}` });
  };

  /** A reload ended (done or stopped): spares go on, systemd hears, a reload asked meanwhile runs. */
  const endReload = () => {
    reloading = undefined;
    workers.resumeSpares();
    ready(!pendingReload);
    if (pendingReload) {
      pendingReload = false;
      push({ type: 'command', name: 'reload' });
    }
  };

  /** The reload under way, and one merged after it, are given up for one
   * that runs now. */
  const forgetReload = () => {
    reloading = undefined;
    pendingReload = false;
    walk = undefined;
  };

  /** The next generation: validate, hand over, re-exec (returns 'reload').
   * `brutal` (fifo R, uWSGI's reap_them_all): the running workers are
   * SIGKILLed before the exec instead of handed over to drain; the
   * listening sockets stay open, so new connections wait in the backlog
   * for the new generation. */
  const reload = async (brutal = false): Promise<MasterEnd | undefined> => {
    // a new generation that keeps failing to start (the app throws at load)
    // never ends its reload: the reload that brings the fix goes now
    if (reloading && workers.retrying()) {
      l.info('reload requested while the new generation fails to start: reloading now');
      forgetReload();
    }
    // (a brutal one never waits: it cuts the running reload short, below)
    if (reloading && !brutal) {
      pendingReload = true;
      l.info('reload requested while one runs: merged into one more reload after it');
      return undefined;
    }
    l.info(brutal ? 'brutal reload requested' : 'graceful reload requested');
    try {
      await run.validateReload();
    } catch (e) {
      // (a full descriptor table reads as an unreadable config: say which it is)
      const full = fdLimitHint(((e as Error).cause as NodeJS.ErrnoException | undefined)?.code);
      const code = (e as LiegeError).code ?? 'LIEGE_ERR_CONFIG_READ';
      let why = e instanceof LiegeError ? e.describe() : String(e);
      if (full) why += `; the master is out of file descriptors: ${full}`;
      l.error({ code }, `reload refused, the running generation keeps serving: ${why}`);
      refusedToSystemd(code);
      // (a workers or chain reload given up for this one held the spares)
      if (!reloading) workers.resumeSpares();
      return undefined;
    }
    if (reloading) {
      // (only now: a config refused leaves the running reload to finish)
      l.info('brutal reload requested while a reload runs: reloading now');
      forgetReload();
    }
    if (settings.exitOnReload) return stop(!brutal).then(() => 0);
    sdNotify(reloadingFields());
    clearInterval(tick);
    if (watchdog) clearInterval(watchdog);
    if (brutal) {
      // before the exec: the new image then starts on empty slots, and no
      // worker of the old generation can be left to a pid that was reused
      await workers.stopAll(false);
      l.info('brutal reload: every worker killed (requests in flight cut), re-executing');
    }
    await control?.handOver();
    await daemons?.stopAll();
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
      generation,
      workers: brutal ? [] : workers.handover(),
      shared: workers.handOverShared(),
      settings,
      spec: run.spec,
      brutal: brutal && count > 0 ? true : undefined,
      heard: heardSignals(),
    });
    flushRelayedOutput();
    handOverSockets(sockets);
    emperor?.keepAcrossExec(native.setCloexec);
    // from here to the new image's listeners, signals are carried over
    // (those queued meanwhile too: the loop ends with this reload)
    const queued = events.takeAll();
    carrySignalsToExec(listening.redirect, queued);
    carryCommands(queued.flatMap(carriedName));
    return 'reload';
  };

  /** The walk's next steps, on every worker event (reload-steps.ts):
   * replace each slot whose worker started before the request, a chain one
   * slot at a time; done when every slot serves with a newer worker. */
  const walkOn = () => {
    if (!walk || stopping) return;
    const w = walk;
    w.todo = w.todo.filter((id) => workers.reloadStep(id, w.mark) !== 'done');
    for (const id of w.todo) {
      if (workers.reloadStep(id, w.mark) === 'replace') workers.replace(id, reloading!);
      if (w.oneAtATime) break;
    }
    if (w.todo.length) return;
    walk = undefined;
    reloadDone();
  };

  /** A reload that keeps the master. Asked while another one runs, it
   * takes over from where that one is: every worker started before now is
   * replaced (those already replaced may have loaded the code before this
   * request), the others are not. Merged into a new generation coming up. */
  const walkReload = (what: string, how: string, status: string) => {
    if (reloading === 'reload') {
      l.info(`${what} requested while a reload runs: merged`);
      return undefined;
    }
    if (walk) l.info(`${what} requested while a ${reloading} runs: it goes on from slot ${walk.todo[0]}, replacing every worker started before now`);
    else {
      l.info(`${what} requested: ${how}`);
      workers.dropSpares(what, true); // until reloadDone
      sdNotify({ ...reloadingFields(), STATUS: status });
    }
    reloading = what;
    walk = { mark: workers.mark(), todo: fromSlot(workers.ids(), walk?.todo[0]), oneAtATime: what === 'chain reload' };
    walkOn();
    return undefined;
  };

  /** A workers or chain reload whose new code does not load (the app
   * throws at load): the walk stops there instead of retrying that slot
   * with the crash-loop backoff for good; the old workers keep serving,
   * those it already replaced serve on. */
  const stopWalk = (id: number, error: string) => {
    l.error({ code: 'LIEGE_ERR_RELOAD', worker: id, error }, `${reloading} stopped: the app does not load in the new worker ${id}; the old workers keep serving (fix the cause, then reload again)`);
    workers.abandonReplacements(`the ${reloading} stopped`);
    walk = undefined;
    endReload();
    return undefined;
  };

  const handlers: Record<string, (e: MasterEvent, arg?: string) => Promise<MasterEnd | undefined> | MasterEnd | undefined> = {
    reload: () => reload(),
    'chain-reload': () => walkReload('chain reload', 'one worker at a time', 'chain reloading'),
    'workers-reload': () => walkReload('workers reload', 'every worker replaced, the master stays', 'reloading workers'),
    stop: async () => {
      l.info('graceful shutdown');
      await stop(true);
      return 0;
    },
    quit: async () => {
      l.info('immediate shutdown');
      await stop(false);
      return 0;
    },
    'kill-worker': (_e, arg) => {
      const p = workers.proc(Number(arg));
      if (p) workers.kill(p, 'killed on request');
      return undefined;
    },
    'brutal-reload': () => reload(true),
    'brutal-workers-reload': () => {
      if (walk) l.info(`reloading the workers (brutal) while a ${reloading} runs: every worker is killed now, the ${reloading} is done once the new ones accept`);
      else l.info('reloading the workers (brutal)');
      // a walk holds the spares until it is done (reloadDone): W must not
      // let one boot beside its replacements
      workers.dropSpares('brutal workers reload', walk !== undefined);
      workers.recycleAll(true);
      return undefined;
    },
    'reopen-logs': () => {
      try {
        const loggers = reopenLoggers();
        if (reopenLog()) l.info({ workers: reopenWorkerLogs(workers.all()), loggers: loggers || undefined }, 'log file reopened');
        else if (loggers) l.info({ loggers }, 'log files of the loggers reopened');
        else l.info('log reopen asked: no log file (logto, daemonize, logger = file:) to reopen, the master logs to its stderr');
      } catch (e) {
        l.error({ code: (e as LiegeError).code }, (e as Error).message);
      }
      return undefined;
    },
    pidfiles: () => {
      if (!cfg) return undefined;
      try {
        for (const name of PIDFILES) writePidfile(cfg.setting(name), name.startsWith('safe'));
        if (!PIDFILES.some((n) => cfg.setting(n))) l.info('pidfiles asked: none configured (pidfile, pidfile2, safe-pidfile, safe-pidfile2)');
        else l.info('pidfiles written');
      } catch (e) {
        l.error({ code: (e as LiegeError).code }, (e as Error).message);
      }
      return undefined;
    },
    'stats-log': () => {
      l.info({ stats: statsDocument(source) }, 'stats');
      return undefined;
    },
    pause: () => {
      l.warn('pause (fifo p) does not apply to Node workers: ignored');
      return undefined;
    },
    'control-daemon-died': async (e) => {
      const daemonStatus = (e as { status: number }).status;
      l.info({ status: daemonStatus }, 'control daemon died, shutting down');
      await stop(true);
      // As PID 1 of a container, tini's rule: the container ends with the
      // status of the child that decided the end. Elsewhere uWSGI's: exit 0.
      if (process.pid === 1) return daemonStatus;
      return 0;
    },
    fatal: async (e) => {
      // a new generation's worker (it replaces a serving one) whose hook
      // fails: the reload failed, not the instance (it exits; its slot is
      // retried with the backoff, as when the app fails to load)
      const { id, detail, replacement } = e as { id: number; detail: string; replacement: boolean };
      if (reloading && replacement) {
        l.error({ code: 'LIEGE_ERR_RELOAD', worker: id, error: detail }, 'FATAL hook failed in a worker of the new generation: the running generation keeps serving (fix the cause, then reload again)');
        return undefined;
      }
      l.error({ code: 'LIEGE_ERR_HOOK_FAILED', worker: id, error: detail }, 'FATAL hook failed in a worker, destroying instance');
      await stop(false);
      throw new LiegeError('LIEGE_ERR_HOOK_FAILED', 'a worker hook failed', { exitCode: 1 });
    },
    accepting: (e) => {
      // a master that respawns or recycles all day (max-requests) would
      // otherwise keep their garbage in a V8 old space that only grows
      // until its first major GC (+9 MiB in 500 recyclings, bench/README.md)
      if (++started % SHRINK_EVERY === 0) shrinkHeapSoon();
      // daemonize: the command that started us ends with 0 once a worker
      // serves (an app that does not load makes it end with our status)
      tellDaemonReady();
      if (!readySent && workers.acceptingCount() === count) ready();
      statusChanged();
      walkOn();
      reloadDone();
      return undefined;
    },
    // need-app: an app that does not load while nothing serves (the first
    // start) ends the instance, as uWSGI; with workers serving (a reload or
    // a respawn into a broken app) they go on, the slot is retried
    'app-load-failed': async (e) => {
      // (a replacement, or a respawn since the request: it loaded the new code)
      const { id, pid, replacement, serial, error } = e as { id: number; pid: number; replacement: boolean; serial: number; error: string };
      if (walk && (replacement || serial > walk.mark)) return stopWalk(id, error);
      if (!settings.needApp || reloading || stopping || workers.acceptingCount() > 0) return undefined;
      l.error({ code: 'LIEGE_ERR_APP_LOAD', worker: id, pid }, `failed loading the app in worker ${id}: need-app, destroying the instance (exit ${FAILED_APP_CODE})`);
      await stop(false);
      return FAILED_APP_CODE;
    },
    'worker-exit': (e) => {
      statusChanged();
      const { failedReplacement } = e as { failedReplacement: boolean };
      if (failedReplacement) reloadFailing();
      // the new generation fails: a reload asked meanwhile (the fix) runs now
      if (failedReplacement && pendingReload) {
        forgetReload();
        push({ type: 'command', name: 'reload' });
      }
      walkOn();
      reloadDone();
      return undefined;
    },
    // a worker that reached max-requests says so at once: recycled now,
    // not at the next tick (a second of requests later)
    stats: (e) => {
      const { id, pid } = e as { id: number; pid: number };
      const p = workers.proc(id);
      if (p && p.pid === pid) apply(p, Date.now());
      return undefined;
    },
    tick: (e) => {
      const now = Date.now();
      const late = (e as { lateMs?: number }).lateMs ?? 0;
      if (late > 1000) l.warn({ late_ms: late }, 'the master did not run for a while (stopped or starved): the workers\' heartbeats are judged from now');
      creditStall(workers.all(), late, now);
      // (with harakiri a silent worker is killed instead: recycle.ts)
      if (settings.policy.harakiriMs === 0) watchSilence(workers.all(), now);
      workers.checkSpares(now, late);
      for (const p of workers.all()) apply(p, now);
      walkOn(); // (each worker event moves it; this only makes sure it never waits on a missed one)
      return undefined;
    },
    watchdog: () => {
      sdNotify({ WATCHDOG: 1 });
      return undefined;
    },
    // a worker signalled by someone else: the group's signal (ours too), or its own
    signalled: (e) => {
      judgeWorkerSignal(e as WorkerSignalled, (pid, sig) => !stopping && workers.passOn(pid, sig));
      return undefined;
    },
    ignore: () => undefined,
    'emperor-stop': async () => {
      if (plan && ctx) await runPhaseAsync(plan, 'emperor-stop', ctx);
      await stop(true);
      return 0;
    },
    'emperor-reload': async (e) => {
      if (plan && ctx) await runPhaseAsync(plan, 'emperor-reload', ctx);
      return reload();
    },
    'emperor-lost': async () => {
      l.error('lost the emperor, shutting down');
      if (plan && ctx) await runPhaseAsync(plan, 'emperor-lost', ctx);
      await stop(false);
      return 1;
    },
  };

  for (;;) {
    const e = await events.next();
    const [name, arg] = commandOf(e);
    const handler = handlers[name];
    if (!handler) {
      l.warn({ command: name }, 'unknown master command ignored');
      continue;
    }
    try {
      const end = await handler(e, arg);
      if (end !== undefined) {
        clearInterval(tick);
        if (watchdog) clearInterval(watchdog);
        return end;
      }
    } catch (err) {
      if (err instanceof LiegeError && err.code === 'LIEGE_ERR_HOOK_FAILED') throw err;
      survive(`command ${name} failed`)(err);
    }
  }
}

/** The commands that end the instance. */
const STOPS = ['stop', 'quit', 'emperor-stop', 'emperor-lost'];

/** A workers or chain reload under way: the slots it has still to see, in
 * order, and the start mark of its request (reload-steps.ts). */
interface Walk {
  mark: number;
  todo: number[];
  oneAtATime: boolean; // a chain
}

/** `ids` in order, from `first` on, then the ones before it. */
function fromSlot(ids: number[], first: number | undefined): number[] {
  const i = first === undefined ? -1 : ids.indexOf(first);
  if (i <= 0) return ids;
  return [...ids.slice(i), ...ids.slice(0, i)];
}

/** An event's handler name (and argument: `kill-worker:3`). */
function commandOf(e: MasterEvent): [string, string | undefined] {
  if (e.type === 'signal') return [SIGNAL_COMMANDS[e.signal] ?? 'ignore', undefined];
  if (e.type === 'emperor') return [EMPEROR_COMMANDS[e.byte] ?? 'ignore', undefined];
  if (e.type === 'command') {
    const colon = e.name.indexOf(':');
    return colon < 0 ? [e.name, undefined] : [e.name.slice(0, colon), e.name.slice(colon + 1)];
  }
  return [e.type, undefined];
}

/** A queued command the next image runs after a reload (fifo, touch,
 * emperor; signals are carried as signals). */
function carriedName(e: MasterEvent): string[] {
  if (e.type === 'command') return [e.name];
  if (e.type === 'emperor' && EMPEROR_COMMANDS[e.byte]) return [EMPEROR_COMMANDS[e.byte]!];
  return [];
}

const EMPEROR_COMMANDS: Record<number, string> = { [TO_VASSAL.stop]: 'emperor-stop', [TO_VASSAL.gracefulStop]: 'emperor-stop', [TO_VASSAL.reload]: 'emperor-reload' };

/** The loop's first line. A reload's image says its generation starts, not
 * that it started: the old one serves until `reload done` (and a new one
 * that never serves, its app failing to load or a stop coming first, was
 * never started). */
function startLine(fallback: boolean, reloaded: boolean): string {
  if (fallback) return 'master running the previous generation (the reload failed)';
  if (reloaded) return 'master re-executed: the new generation starts, the running one serves until it accepts';
  return 'master started';
}
