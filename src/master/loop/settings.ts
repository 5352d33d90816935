// What one master image runs, as plain data read from the config once: the
// loop's settings and every worker's spec. Both are handed over across a
// reload, for the fallback (a new image that cannot start).
import type { Config } from '../../config/config';
import type { HookContext } from '../../hooks/actions/types';
import { extrasOf } from '../../hooks/registry/plan';
import { WORKER_FAILS } from '../../hooks/run';
import type { HookPlan } from '../../hooks/spec';
import { stopMercy, WORKER_PHASES, type WorkerSpec } from '../../ipc/worker';
import { controlSpec, type ControlSpec } from '../control/index';
import type { Handover } from '../generations';
import { logMasterSpec, type LogMasterSpec } from '../log-relay';
import type { RecyclePolicy } from '../recycle';
import { servingSpec } from '../serving';
import type { BoundSocket } from '../sockets';

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
