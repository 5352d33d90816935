// A worker process: post-fork hooks, load the app on the inherited
// sockets, accepting hooks (accepting, -once, accepting1, accepting1-once),
// then serve. A fatal hook failure is reported to the master, which ends the
// instance (DEPARTURES D6); an app that fails to load is the app's error
// (LIEGE_ERR_APP_LOAD), reported to the master (which respawns with backoff
// and logs it), and the worker exits 1. SIGTERM/SIGINT (and SIGHUP) drain (drain.ts:
// the worker, not the app, owns the drain); SIGQUIT is immediate. Every second
// the worker sends the master its stats (the heartbeat harakiri watches);
// the start of the request in flight is in memory shared with the master
// (ipc/busy-slot.ts), so harakiri sees it even when the loop is blocked.
import type * as http from 'node:http';
import type * as net from 'node:net';
import { LiegeError } from '../errors';
import { HookFailure, runStartupPhase } from '../hooks/run';
import { extendPlan, REQUEST_KEY } from '../hooks/registry/plan';
import { planFromLines } from '../hooks/spec';
import { slotViews, SLOT_BYTES, type BusySlot } from '../ipc/busy-slot';
import { FIRST_SOCKET_FD, marked, WORKER_ENV, type MasterMessage, type WorkerMessage, type WorkerSpec } from '../ipc/worker';
import { appInCwd } from './app-in-cwd';
import { encodeAppOutput } from './app-output';
import { guardStdio, log, setLogDate, setLogFormat, setWorkerLogFields } from '../log';
import { native } from '../os/native';
import { Drain } from './drain';
import { announceWorkerId, CLUSTER_FORK_HELP, guardClusterFork } from './cluster-guard';
import { provideLiegeModule } from './liege-module';
import { RequestObserver } from './observe';
import { loadRequestHookModules } from './request-hook-modules';
import { attachRequestHooks } from './request-hooks';
import { serveApp } from './serve';
import { listenGate } from './listen-router';
import { afterRequestLog, reportLogState } from './request-log';
import { followLogReopens } from './log-reopen';
import { endChildren } from './own-children';
import { announceFirstConnection, followAcceptHolds } from './accept-hold';
import { guardOpenFiles } from './fd-guard';
import { whenMasterGone } from './master-gone';
import { keepInspectorShut } from '../os/inspector-signal';
import { routeSignals } from '../os/signal-route';

const send = (m: WorkerMessage, then?: () => void) => {
  if (!process.connected || !process.send) return then?.();
  try {
    process.send(marked(m), undefined, {}, () => then?.());
  } catch {
    then?.();
  }
};

/** A warm spare: everything as a worker, but the listen() calls are held
 * until the master sends `activate` with the slot it takes (then the log
 * fields, the title and the accepting hooks are the slot's). Tells the
 * master once every liege socket waits in the gate (the app is loaded). */
function holdAsSpare(spec: WorkerSpec): () => void {
  let ready = false;
  let beat: NodeJS.Timeout | undefined;
  listenGate.close((fds) => {
    if (ready || fds < spec.sockets.length) return;
    ready = true;
    send({ type: 'spare-ready' });
    // the master promotes only a spare it heard from lately, and replaces a
    // promoted one that goes silent before it accepts
    beat = setInterval(() => send({ type: 'spare-alive' }), 1000);
    beat.unref();
  });
  const onMessage = (m: MasterMessage) => {
    if (!m || m.type !== 'activate') return;
    process.off('message', onMessage);
    spec.id = m.id;
    spec.once = m.once;
    spec.spare = false;
    announceWorkerId(m.id);
    setWorkerLogFields(spec.id);
    if (spec.procname) process.title = spec.procname.replace(/%w/g, String(spec.id));
    listenGate.open();
  };
  process.on('message', onMessage);
  return () => clearInterval(beat); // accepting: the stats heartbeat follows
}

function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), 1000).unref();
}

async function main(): Promise<void> {
  keepInspectorShut(); // the loader ignored SIGUSR1 already; this keeps it so
  const job = process.env[WORKER_ENV];
  if (job === undefined) return notStartedByMaster();
  const spec = JSON.parse(job) as WorkerSpec;
  delete process.env[WORKER_ENV];
  spec.app = appInCwd(spec.app, spec.cwd);
  announceWorkerId(spec.id);
  // die with the master even when this event loop is stuck (a native thread)
  if (!native.watchParent(spec.deathGraceMs ?? 3000, spec.masterPid ?? process.ppid)) process.exit(1);
  process.on('exit', endChildren);
  // the app's children must not keep the listening sockets (or our channel)
  for (let fd = 3; fd < FIRST_SOCKET_FD + spec.sockets.length; fd++) native.setCloexec(fd, true);
  if (spec.reqLogFd !== undefined) native.setCloexec(spec.reqLogFd, true);
  setLogFormat(spec.logFormat ?? 'text');
  setLogDate(spec.logDate);
  setWorkerLogFields(spec.id);
  // the app's console.log into a failing log costs output, not the worker; in JSON it is JSON lines
  guardStdio(reportLogState, encodeAppOutput);
  followLogReopens(() => spec.id);
  if (spec.procname) process.title = spec.procname.replace(/%w/g, spec.spare ? 'spare' : String(spec.id));
  const spareAccepts = spec.spare ? holdAsSpare(spec) : undefined;
  const plan = extendPlan(planFromLines(spec.hooks), spec.extraHooks ?? []);
  const phase = (name: string) => runStartupPhase(plan, name, spec.ctx);
  const drain = new Drain();
  const observer = new RequestObserver(spec, send, { slot: busySlot(spec), slotLine: spec.harakiri, drain });
  // the last counters before the exit: the slot's totals in the stats keep
  // this worker's last second (and an uncaught exception's count)
  const exitAfterLog = (code: number) => () => {
    observer.heartbeat();
    afterRequestLog(() => process.exit(code));
  };
  // (a stop, not a reload: idle keep-alive connections are closed too, and
  // its own mercy bounds it: the smaller of the two, ipc/worker.ts stopMercy)
  // (the app's SIGINT listeners run on a stop, its SIGTERM ones otherwise)
  const stop = (reason: string, closeIdle = false) => {
    let mercy: { mercyMs?: number; mercyName?: string } = { mercyMs: spec.mercyMs, mercyName: MERCY };
    if (closeIdle && spec.stopMercyMs !== undefined) mercy = { mercyMs: spec.stopMercyMs, mercyName: spec.stopMercyName };
    drain.start(reason, { ...mercy, exit: exitAfterLog(0), closeIdle });
  };
  // why the master's next drain signal comes (its log lines say it, not the signal's name)
  let told: string | undefined;
  process.on('message', (m: MasterMessage & { liege?: number }) => {
    if (m?.type !== 'drain' || m.liege !== 1) return;
    told = m.reason;
    drain.because(m.reason);
  });
  // the master's signals (and, with no master to tell, anyone's): SIGTERM
  // drains (a reload, a recycling), SIGINT too and closes idle connections
  // (a stop), SIGHUP drains as uWSGI's gracefully_kill (an app with a SIGHUP
  // listener of its own keeps its way), SIGQUIT ends it now; before it
  // serves, each ends it at once (as Node's default did). Anyone else's go
  // to the master, which got them too when they were the group's
  // (os/signal-route.ts)
  let serving = false;
  const appHup = () => process.listenerCount('SIGHUP') > 1;
  const obey = (s: NodeJS.Signals) => {
    if (s === 'SIGQUIT' || !serving) process.exit(0);
    else if (s === 'SIGTERM') stop(told ?? 'SIGTERM');
    else if (s === 'SIGINT') stop(told ?? 'SIGINT', true);
    else if (!appHup()) stop('SIGHUP');
  };
  const outside = (s: NodeJS.Signals, from: number) => {
    // (the app's SIGHUP listener ran already: passed on, it would run twice)
    if (s === 'SIGHUP' && serving && appHup()) return;
    if (process.connected) send({ type: 'signalled', signal: s, from, at: Date.now() });
    else obey(s);
  };
  // TERM and INT through the drain's own listeners (the app's are held back)
  const listen = (s: NodeJS.Signals, fn: () => void) => {
    if (s === 'SIGTERM' || s === 'SIGINT') drain.onSignal(s, fn);
    else process.on(s, fn);
  };
  routeSignals(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'], spec.masterPid ?? process.ppid, { obey, outside }, listen);
  // SIGUSR2 (the master's chain reload, sent to the group) means nothing to
  // a worker: Node's default ended it mid-request (uWSGI's worker logs what
  // it does); an app's own listener is still called
  process.on('SIGUSR2', () => undefined);
  let servers: net.Server[];
  try {
    await phase('post-fork');
    provideLiegeModule([spec.app ?? '', ...(plan.get(REQUEST_KEY) ?? []).map((h) => h.args)]);
    guardClusterFork();
    await loadRequestHookModules(plan.get(REQUEST_KEY));
    drain.interceptApp();
    process.on('uncaughtException', (e) => {
      observer.countException();
      log('worker').error({ code: 'LIEGE_ERR_APP', worker: spec.id }, `uncaught exception in the app: ${e.stack ?? e}`);
      // the worker ends (its state is unknown), but as a drain: the other
      // requests in flight finish, keep-alive clients move on. One that
      // served a while gets its replacement now; an early one (within a
      // second of accepting: maybe a crash loop) is respawned by the master
      // when it exits, with the backoff (before: it exited at once, and a
      // just-started worker dropped every request it held). Before it
      // serves there is nothing to drain: it exits at once.
      process.exitCode = 1;
      observer.heartbeat();
      send({ type: 'app-error', when: 'serving', message: String(e.message ?? e), stack: e.stack }, () => {
        if (!serving) process.exit(1);
      });
      if (!serving) return exitSoon(1);
      drain.start('uncaught exception in the app', { mercyMs: spec.mercyMs, mercyName: MERCY, exit: exitAfterLog(1) });
    });
    const observe = (server: http.Server) => {
      attachRequestHooks(server);
      observer.observe(server);
      drain.track([server]);
    };
    // an app's server on a shared port (a metrics port) drains with the worker
    ({ servers } = await serveApp(spec, observe, observer.appError, undefined, (s) => drain.trackShared(s)));
  } catch (e) {
    if (e instanceof LiegeError && (e.code === 'LIEGE_ERR_APP_LOAD' || e.code === 'LIEGE_ERR_APP_LISTEN')) {
      // the master says it (once, with the worker); a worker without it, itself
      if (!process.connected) log('worker').error({ code: e.code, worker: spec.id, app: spec.app }, e.message);
      send({ type: 'app-error', when: 'load', code: e.code, message: e.message, file: spec.app }, () => process.exit(1));
      return exitSoon(1);
    }
    return fatal(e);
  }
  for (const s of servers) if (!drain.tracks(s)) drain.track([s]);
  followAcceptHolds(servers);
  const accepted = announceFirstConnection(servers, send);
  serving = true;
  // the channel closes when the master dies (master-gone.ts)
  process.on('disconnect', () => whenMasterGone(spec.masterPid, () => stop('the master is gone', true)));
  try {
    await phase('accepting');
    if (spec.once) await phase('accepting-once');
    if (spec.id === 1) await phase('accepting1');
    if (spec.id === 1 && spec.once) await phase('accepting1-once');
  } catch (e) {
    return fatal(e);
  }
  send({ type: 'accepting' });
  accepted();
  spareAccepts?.();
  guardOpenFiles(servers, spec.id);
  setInterval(() => observer.heartbeat(), 1000).unref();
}

// the option that sets a worker's drain cap (spec.mercyMs)
const MERCY = 'worker-reload-mercy';

/** The busy slot the master shares with this worker (harakiri), if any. */
function busySlot(spec: WorkerSpec): BusySlot | undefined {
  if (spec.slotFd === undefined) return undefined;
  try {
    return slotViews(native.shmMap(spec.slotFd, SLOT_BYTES));
  } catch (e) {
    // harakiri still sees a blocked loop by the missing heartbeat
    log('worker').warn({ code: (e as NodeJS.ErrnoException).code, worker: spec.id }, `unable to map the busy slot: ${(e as Error).message}`);
    return undefined;
  } finally {
    native.closeFd(spec.slotFd);
  }
}

// started by hand, or by an app's cluster.fork() (an ESM app: the CommonJS
// guard did not see it): one line saying why, no stack
function notStartedByMaster(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const forked = (require('node:cluster') as { isWorker: boolean }).isWorker;
  const why = forked ? CLUSTER_FORK_HELP : 'dist/worker/main.js is started by a liege master, not by hand';
  process.stderr.write(`liege worker: LIEGE_ERR_APP_LOAD ${why}\n`);
  process.exitCode = 1;
}

function fatal(e: unknown): void {
  send({ type: 'fatal', detail: e instanceof HookFailure ? e.describe() : String((e as Error).stack ?? e) }, () => process.exit(1));
}

void main();
