// The life of one liege instance, top to bottom, one line per phase — the
// order the conformance suite checks (../shared/spec/uwsgi-reference.md §0).
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import { log } from '../log';
import { ExitRequest, type HookContext } from '../hooks/actions/types';
import { HookFailure, RELOAD_FAILS, runStartupPhase } from '../hooks/run';
import type { HookPlan } from '../hooks/spec';
import { enterNamespaceJail, parseNamespace, type NamespaceSpec } from '../os/jail';
import { asNonRoot, asRoot } from './as-root';
import { applyChdir, applyEnvironment, applyMaxFd } from './environment';
import type { MasterEnd } from './loop/events';
import { restorePidfiles, writePidfile } from './pidfile';
import { canFallBack, takeHandover, type Handover } from './generations';
import { adoptInheritedControl } from './control/handover';
import { logAfterDrop, logBeforeDrop } from './logfile';
import { daemonize } from './daemonize';
import { openLoggers } from './loggers/open';
import { bindSockets, closeRemovedSockets, handOverSockets, inheritedSockets, releaseSockets, type BoundSocket } from './sockets';
import { vacuum } from './vacuum';
import { releaseEarlySignals } from '../os/early-signals';
import { endGuard, killDescendants, startReaper } from '../os/reaper';
import { openNotify } from '../os/notify';
import { bridgeWatchdog } from '../os/watchdog';

// Loaded on demand: a no-server start (hooks only) should cost little more
// than a bare `node` start (bench/README.md), so the master, emperor and
// namespace code is only read by the instances that use it.
/* eslint-disable @typescript-eslint/no-require-imports */
const master = () => require('./master') as typeof import('./master');
const namespace = () => require('./namespace') as typeof import('./namespace');
const reload = () => require('./reload') as typeof import('./reload');

export interface StartState {
  reloads: number; // UWSGI_RELOADS: 0 on the first start
  nsChild: boolean; // this process is the jailed child of `namespace`
  startCwd: string;
  validateReload: () => Promise<void>; // rejects when the config on disk is invalid now
  /** What serves once the phases ran, when not the master: cli/ picks the
   * emperor or a single-process instance (master never imports them). */
  serve?: (sockets: BoundSocket[]) => Promise<MasterEnd>;
  /** `serve` is a single-process instance: the app runs in this process. */
  single?: boolean;
}

/** Runs the instance; resolves to its exit status. atexit always runs. */
export async function runInstance(cfg: Config, plan: HookPlan, ctx: HookContext, st: StartState): Promise<number> {
  // a reload hands over the running workers; if this image cannot start,
  // they keep serving under a fallback loop (generations.ts)
  const handover = takeHandover();
  const phaseCtx = handover && canFallBack(handover) ? { ...ctx, fatalOutcome: RELOAD_FAILS } : ctx;
  const phase = (name: string) => runStartupPhase(plan, name, phaseCtx);
  adoptInheritedControl();
  openNotify(); // while still root: the READY=1 after the drop goes through it
  if (st.reloads > 0) bridgeWatchdog(); // (systemd's watchdog runs on through a reload's phases)
  const oldSockets = handover ? inheritedSockets() : [];
  let inMaster = false;
  let stopped = false; // a master loop ended (stop, or a failure it cleaned up after)
  let startedDaemon = false; // this process only started the daemon: no atexit here
  let status: MasterEnd;
  let bound: BoundSocket[] = [];
  try {
    status = await lifecycle();
  } catch (e) {
    status = endStatus(e);
    if (handover && !inMaster && canFallBack(handover)) {
      const how = handover.brutal ? 'the previous generation (its workers killed by the brutal reload) starts again' : 'the running generation keeps serving';
      log('master').error({ code: 'LIEGE_ERR_RELOAD' }, `the new generation could not start: ${how} (fix the cause, then reload again)`);
      releaseSockets(bound, oldSockets);
      bound = oldSockets; // the running generation's: vacuumed at exit
      status = await master().runFallback(handover, oldSockets, st.validateReload);
      stopped = true;
    } else if (status !== 0) {
      // a failed start leaves the pidfiles as it found them: a second copy
      // started by mistake (its sockets taken) must not take the running
      // instance's pidfile away (`liege --stop PIDFILE` would then fail);
      // with vacuum, a dead instance's is not put back
      restorePidfiles(cfg.bool('vacuum'));
    }
  }
  // (before: the daemon's atexit hooks ran here too, at its start)
  if (startedDaemon) return status as number;
  try {
    await phase('as-user-atexit'); // non-fatal: failures are logged only
  } catch (e) {
    if (e instanceof ExitRequest) status = e.status;
  }
  if (status !== 'reload' && (inMaster || stopped)) endLeftovers();
  if (status !== 'reload' && cfg.bool('vacuum')) vacuum(cfg, bound);
  // the death watch ends last, after the atexit hooks (a SIGKILL during one
  // leaves nothing); a start that failed keeps it: 3 s after our exit it
  // ends what the startup hooks left running
  if (status !== 'reload' && (inMaster || stopped)) endGuard();
  if (status !== 'reload') return status;
  // a signal that came while the atexit hooks ran (libuv has it, JS not
  // yet) is carried to the next image (reload.ts): two immediates make sure
  // the loop polls once between (the first may run in this very turn)
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  return reload().reexec(st.reloads, st.startCwd);

  async function lifecycle(): Promise<MasterEnd> {
    if (!st.nsChild && st.reloads === 0 && process.getuid!() !== 0) asNonRoot(cfg, plan);
    if (!st.nsChild && st.reloads === 0) {
      const daemonStatus = await daemonize(cfg);
      if (daemonStatus !== undefined) {
        startedDaemon = true;
        return daemonStatus;
      }
    }
    if (!st.nsChild) logBeforeDrop(cfg, st.reloads);
    await openLoggers(cfg, st.reloads); // before the drop, as logto (a namespace's child too: it is the master)
    applyEnvironment(cfg, st.reloads);
    // the death watch and the subreaper from the first hook on, not from the
    // workers: a hook's shell dies with us (PDEATHSIG), what it runs (a
    // `sleep`) would not; what a hook backgrounds (`setsid x &`) lands on us,
    // not on init, and a stop ends it as it ends everything else
    // (a single process too: it is its app's worker and master at once, so
    // what the app double-forks lands on it and ends at its stop, as under
    // a master; not the emperor: each vassal reaps its own)
    const guarded = !cfg.bool('no-server') && !cfg.has('namespace') && process.pid !== 1;
    if (guarded && (!st.serve || st.single)) startReaper();
    if (!st.nsChild) await phase('asap');
    applyMaxFd(cfg);
    if (!st.nsChild && st.reloads === 0) writePidfile(cfg.setting('pidfile'));
    if (!st.nsChild && st.reloads === 0) writePidfile(cfg.setting('safe-pidfile'), true);
    if (!st.nsChild && st.reloads === 0) await phase('pre-jail');
    if (cfg.has('namespace') && !st.nsChild) return namespace().runNamespaceParent(cfg, () => phase('post-jail'));
    if (st.nsChild) enterNamespaceJail(namespaceJail(cfg));
    await phase('in-jail');
    const sockets = cfg.bool('no-server') ? [] : await bindSockets(cfg);
    bound = sockets;
    if (process.getuid!() === 0) await asRoot(cfg, phase); // unshare, post-jail, chroot, as-root, drop, as-user
    logAfterDrop(cfg, st.reloads);
    writePidfile(cfg.setting('pidfile2'));
    writePidfile(cfg.setting('safe-pidfile2'), true);
    applyChdir(cfg);
    await phase('pre-app');
    await phase('post-app');
    if (cfg.bool('no-server')) {
      releaseEarlySignals();
      return 0;
    }
    closeRemovedSockets(cfg, sockets); // from here the new image serves: no fallback
    if (st.serve) {
      // PID 1 of a container: every orphan of the namespace lands on us (the
      // master reaps as a subreaper anyway; the emperor does it here)
      if (process.pid === 1) startReaper();
      const serving = st.serve(sockets);
      releaseEarlySignals(); // the emperor / single process listens now
      const end = await serving;
      stopped = st.single === true; // its guard ends as a master's
      return served(end, sockets);
    }
    inMaster = true;
    return master().runMaster(cfg, plan, ctx, sockets, st.validateReload, handover as Handover | undefined);
  }
}

/** What the atexit hooks left running (a backgrounded job) ends with the
 * instance, as what the workers and startup hooks left does at the stop. */
function endLeftovers(): void {
  const left = killDescendants();
  if (left) log('master').warn({ processes: left }, 'killed what the atexit hooks left running');
}

/** The jail a `namespace` child enters: the option's rootfs and hostname,
 * and the mounts namespace-keep-mount keeps. */
function namespaceJail(cfg: Config): NamespaceSpec {
  const keepMounts = cfg.list('namespace-keep-mount').map((s) => s.value);
  return { ...parseNamespace(cfg.str('namespace')!), keepMounts };
}

/** A single-process instance reloads by re-exec in place: hand the sockets over. */
function served(end: MasterEnd, sockets: BoundSocket[]): MasterEnd {
  if (end === 'reload') handOverSockets(sockets);
  return end;
}

/** How an instance ends on an error: fatal hook 1, exit action its status. */
function endStatus(e: unknown): number {
  if (e instanceof ExitRequest) return e.status;
  if (e instanceof HookFailure) return 1;
  if (e instanceof LiegeError) {
    log('master').error({ code: e.code }, e.describe());
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  log('master').error({ code: err.code, syscall: err.syscall, path: err.path }, `unable to start: ${err.message}`);
  return 1;
}
