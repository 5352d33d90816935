// A single-process instance (uWSGI without `master`, one worker): the
// process that ran the startup phases serves the app itself, so the common
// vassal costs one Node process, not two. Worker phases run in-process
// (post-fork, accepting, accepting-once and accepting1[-once] on the first
// start). SIGTERM/SIGINT (or the emperor's stop) drain and end; SIGQUIT
// ends at once; SIGHUP (or the emperor's reload) lets in-flight requests
// finish, then re-execs in place with the listening sockets kept open (no
// connection is refused; idle keep-alive connections are closed). An invalid
// config on disk refuses the reload and keeps serving. As a worker, the
// instance owns the drain: the app's SIGTERM/SIGINT listeners are held
// back and run once its requests are done; what the app started (children,
// double-forked jobs: the instance is a subreaper, lifecycle.ts) ends with
// it at the stop and before a reload's exec.
import type * as http from 'node:http';
import { EventQueue, isQuitSignal } from '../event-queue';
import type { HookContext } from '../hooks/actions/types';
import { runPhaseAsync, runStartupPhase } from '../hooks/run';
import type { HookPlan } from '../hooks/spec';
import { emperorAsParent, FROM_VASSAL, linkToEmperor, reloadQueued, TO_VASSAL } from '../ipc/vassal';
import { listenSignals } from '../os/signal-route';
import { tellDaemonReady } from '../ipc/daemon';
import { encodeAppOutput } from './app-output';
import { guardStdio, log } from '../log';
import { carrySignalsToExec } from '../os/early-signals';
import { keepInspectorShut } from '../os/inspector-signal';
import { native } from '../os/native';
import { reloading, sdNotify } from '../os/notify';
import { startWatchdog } from '../os/watchdog';
import { reportLogState } from './request-log';
import { shrinkHeapSoon } from '../os/heap';
import type { WorkerSpec } from '../ipc/worker';
import { RequestObserver } from './observe';
import { REQUEST_KEY } from '../hooks/registry/plan';
import { announceWorkerId, guardClusterFork } from './cluster-guard';
import { provideLiegeModule } from './liege-module';
import { loadRequestHookModules } from './request-hook-modules';
import { attachRequestHooks } from './request-hooks';
import { serveApp } from './serve';
import { killDescendants } from '../os/reaper';
import { HeldSignals } from './held-signals';
import { appShutdown, Connections, drain, idle, stopAccepting, type Inflight, type Mercy } from './single-drain';

export interface SingleSpec {
  /** What a worker would be told (app, sockets, request log …). */
  serving: Omit<WorkerSpec, 'id' | 'once' | 'hooks' | 'ctx'>;
  fds: number[];
  plan: HookPlan;
  ctx: HookContext;
  reloads: number;
  heartbeat?: number; // seconds between heartbeats to the emperor
  /** A reload's drain cap (worker-reload-mercy, as a worker's at a reload). */
  mercy: Mercy;
  /** A stop's (ipc/worker.ts stopMercy()). */
  stopMercy: Mercy;
  validateReload: () => Promise<void>;
  describeError: (e: unknown) => string;
  /** A reload stopped accepting: the listening socket at fd `from` is at `to` now (the one to hand over). */
  moveSocket: (from: number, to: number) => void;
}

type Ev = { type: 'signal'; signal: NodeJS.Signals } | { type: 'emperor'; byte: number } | { type: 'emperor-lost' };

const SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT'];

/** Serves until stopped: the exit status, or 'reload' to re-exec in place. */
export async function serveSingle(spec: SingleSpec): Promise<number | 'reload'> {
  const l = log('instance');
  keepInspectorShut(); // the app runs in this process: bin/liege's listener may be removed by it
  // worker phases before serving: the startup path; emperor-* hooks run
  // while serving: awaited, the loop keeps going
  const phase = (name: string) => runStartupPhase(spec.plan, name, spec.ctx);
  const loopPhase = (name: string) => runPhaseAsync(spec.plan, name, spec.ctx);
  const events = new EventQueue<Ev>();
  const onSignal = (signal: NodeJS.Signals) => events.push({ type: 'signal', signal });
  const held = new HeldSignals();
  const link = linkToEmperor((byte) => events.push({ type: 'emperor', byte }), () => events.push({ type: 'emperor-lost' }), native.setCloexec, (m) => l.warn(m));
  // a vassal obeys its emperor's signals only (ipc/vassal.ts)
  const listening = listenSignals(SIGNALS, onSignal, emperorAsParent(link));
  const first = spec.reloads === 0;
  // the app's console.log into a failing log costs output, not the instance; in JSON it is JSON lines
  guardStdio(reportLogState, encodeAppOutput);
  await phase('post-fork');
  provideLiegeModule([spec.serving.app ?? '', ...(spec.plan.get(REQUEST_KEY) ?? []).map((h) => h.args)]);
  guardClusterFork();
  announceWorkerId(1);
  await loadRequestHookModules(spec.plan.get(REQUEST_KEY)); // request-hooks = FILE, registry Request entries
  const inflight: Inflight = { isDraining: false };
  const observer = new RequestObserver({ ...spec.serving, id: 1, once: first, hooks: [], ctx: spec.ctx }, () => undefined, { drain: inflight });
  const conns = new Connections();
  const observe = (server: http.Server) => {
    attachRequestHooks(server);
    observer.observe(server);
    conns.watch(server);
  };
  // what the app adds from now on is held back (as in a worker: drain.ts
  // interceptApp; what liege added before is kept from the app's resets)
  held.install();
  const { servers } = await serveApp({ ...spec.serving, id: 1, once: first, hooks: [], ctx: spec.ctx }, observe, observer.appError, spec.fds);
  await phase('accepting');
  if (first) await phase('accepting-once');
  await phase('accepting1');
  if (first) await phase('accepting1-once');
  l.info({ pid: process.pid, sockets: spec.fds.length }, 'serving in a single process');
  link?.tell(FROM_VASSAL.ready);
  // (one poll of the loop first: a reload the emperor sent while the app
  // loaded is read, and answered, not this start: reloadQueued)
  if (link) await new Promise((resolve) => setImmediate(resolve));
  if (!reloadQueued(events)) link?.tell(FROM_VASSAL.accepting);
  if (link && spec.heartbeat) link.heartbeat(spec.heartbeat);
  sdNotify({ READY: 1, STATUS: 'serving in a single process' });
  // systemd's WatchdogSec=: pinged from the app's event loop, the one a
  // wedged app blocks (the master's loop pings for a master)
  const warn = first ? (m: string) => l.warn(m) : undefined;
  const watchdog = startWatchdog(() => sdNotify({ WATCHDOG: 1 }), warn);
  watchdog?.unref();
  tellDaemonReady();
  shrinkHeapSoon();

  const end = async (status: number, reason: string, hooks?: string) => {
    if (hooks) await loopPhase(hooks);
    sdNotify({ STOPPING: 1 });
    // a quit meanwhile (SIGQUIT, a second SIGINT: Ctrl-C twice, as docker
    // compose) makes it immediate, as a master's stop (master/loop/stop-signals.ts)
    let quit!: () => void;
    const quitAsked = new Promise<'quit'>((resolve) => (quit = () => resolve('quit')));
    const unwatch = events.once(isQuitSignal, quit);
    const how = await Promise.race([drain(servers, conns, inflight, observer, spec.stopMercy, reason).then(() => 'drained' as const), quitAsked]);
    unwatch();
    if (how === 'drained') await appShutdown(held, 'SIGINT'); // a stop's, as a worker's
    else l.info('stop asked again: immediate, the requests in flight are cut');
    // the app's children end with it, as a worker's, and (a subreaper) what
    // they double-forked: before the atexit hooks, as a master's stop
    killDescendants();
    listening.off();
    return status;
  };
  const reload = async (reason: string, hooks?: string) => {
    try {
      await spec.validateReload();
    } catch (e) {
      l.error(`reload refused, the running generation keeps serving: ${spec.describeError(e)}`);
      link?.tell(FROM_VASSAL.reloadFailed); // (the emperor's reload is done with this vassal)
      // (a Type=notify-reload unit waits for both after its SIGHUP: master/loop/readiness.ts)
      sdNotify(reloading());
      sdNotify({ READY: 1, STATUS: 'reload refused, serving in a single process' });
      return undefined;
    }
    if (hooks) await loopPhase(hooks);
    sdNotify(reloading());
    // what comes from now on waits in the backlog for the next image
    stopAccepting(servers, spec.moveSocket);
    await idle(conns, inflight, observer, spec.mercy, reason);
    await appShutdown(held, 'SIGTERM'); // a reload's, as a drained worker's
    // the app's children too: the next image's app starts its own (they
    // would pile up, one set a reload, as a drained worker's did)
    killDescendants();
    link?.keepAcrossExec(native.setCloexec);
    // from here to the exec, signals are carried to the next image
    held.asOwn(() => carrySignalsToExec(listening.redirect, events.takeAll()));
    return 'reload' as const;
  };

  // the loop hears the emperor pipe close from now on (the worker phases
  // above block: until here a dead emperor's thread ended us, cli/main.ts)
  if (link) native.emperorWatchOff();
  for (;;) {
    const e = await events.next();
    let out: number | 'reload' | undefined;
    if (e.type === 'emperor-lost') {
      l.error('lost the emperor, shutting down');
      out = await end(1, 'the emperor is gone', 'emperor-lost');
    } else if (e.type === 'emperor') {
      if (e.byte === TO_VASSAL.reload) out = await reload('the emperor\'s reload', 'emperor-reload');
      else if (e.byte === TO_VASSAL.stop || e.byte === TO_VASSAL.gracefulStop) out = await end(0, 'the emperor\'s stop', 'emperor-stop');
    } else if (e.signal === 'SIGHUP') out = await reload('reload');
    else if (e.signal === 'SIGQUIT') out = 0;
    else out = await end(0, `stop (${e.signal})`);
    if (out !== undefined) {
      clearInterval(watchdog);
      return out;
    }
  }
}
