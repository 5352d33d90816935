// A single-process instance (uWSGI without `master`, one worker): the
// process that ran the startup phases serves the app itself, so the common
// vassal costs one Node process, not two. Worker phases run in-process
// (post-fork, accepting, accepting-once and accepting1[-once] on the first
// start). SIGTERM/SIGINT (or the emperor's stop) drain and end; SIGQUIT
// ends at once; SIGHUP (or the emperor's reload) lets in-flight requests
// finish, then re-execs in place with the listening sockets kept open (no
// connection is refused; idle keep-alive connections are closed). An invalid
// config on disk refuses the reload and keeps serving.
import type * as http from 'node:http';
import { EventQueue } from '../event-queue';
import type { HookContext } from '../hooks/actions/types';
import { runPhaseAsync, runStartupPhase } from '../hooks/run';
import type { HookPlan } from '../hooks/spec';
import { emperorAsParent, FROM_VASSAL, linkToEmperor, TO_VASSAL } from '../ipc/vassal';
import { listenSignals } from '../os/signal-route';
import { tellDaemonReady } from '../ipc/daemon';
import { encodeAppOutput } from './app-output';
import { guardStdio, log } from '../log';
import { carrySignalsToExec } from '../os/early-signals';
import { keepInspectorShut } from '../os/inspector-signal';
import { native } from '../os/native';
import { sdNotify } from '../os/notify';
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
import { endChildren } from './own-children';
import { Connections, drain, idle, stopAccepting, type Inflight } from './single-drain';

export interface SingleSpec {
  /** What a worker would be told (app, sockets, request log …). */
  serving: Omit<WorkerSpec, 'id' | 'once' | 'hooks' | 'ctx'>;
  fds: number[];
  plan: HookPlan;
  ctx: HookContext;
  reloads: number;
  heartbeat?: number; // seconds between heartbeats to the emperor
  mercyMs: number;
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
  const { servers } = await serveApp({ ...spec.serving, id: 1, once: first, hooks: [], ctx: spec.ctx }, observe, observer.appError, spec.fds);
  await phase('accepting');
  if (first) await phase('accepting-once');
  await phase('accepting1');
  if (first) await phase('accepting1-once');
  l.info({ pid: process.pid, sockets: spec.fds.length }, 'serving in a single process');
  link?.tell(FROM_VASSAL.ready);
  link?.tell(FROM_VASSAL.accepting);
  if (link && spec.heartbeat) link.heartbeat(spec.heartbeat);
  sdNotify({ READY: 1, STATUS: 'serving in a single process' });
  tellDaemonReady();
  shrinkHeapSoon();

  const end = async (status: number, hooks?: string) => {
    if (hooks) await loopPhase(hooks);
    sdNotify({ STOPPING: 1 });
    await drain(servers, conns, inflight, observer, spec.mercyMs);
    endChildren(); // the app's children end with it, as a worker's
    listening.off();
    return status;
  };
  const reload = async (hooks?: string) => {
    try {
      await spec.validateReload();
    } catch (e) {
      l.error(`reload refused, the running generation keeps serving: ${spec.describeError(e)}`);
      return undefined;
    }
    if (hooks) await loopPhase(hooks);
    sdNotify({ RELOADING: 1 });
    // what comes from now on waits in the backlog for the next image
    stopAccepting(servers, spec.moveSocket);
    await idle(conns, inflight, observer, spec.mercyMs);
    // the app's children too: the next image's app starts its own (they
    // would pile up, one set a reload, as a drained worker's did)
    endChildren();
    link?.keepAcrossExec(native.setCloexec);
    // from here to the exec, signals are carried to the next image
    carrySignalsToExec(listening.redirect, events.takeAll());
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
      out = await end(1, 'emperor-lost');
    } else if (e.type === 'emperor') {
      if (e.byte === TO_VASSAL.reload) out = await reload('emperor-reload');
      else if (e.byte === TO_VASSAL.stop || e.byte === TO_VASSAL.gracefulStop) out = await end(0, 'emperor-stop');
    } else if (e.signal === 'SIGHUP') out = await reload();
    else if (e.signal === 'SIGQUIT') out = 0;
    else out = await end(0);
    if (out !== undefined) return out;
  }
}
