// What master and worker say to each other (IPC), and how a worker learns
// its job (LIEGE_WORKER env, JSON). Shared by master/ and worker/ only.
// Master → worker is signals only (SIGTERM drain, SIGQUIT/SIGKILL now), so a
// worker adopted across the master's re-exec is driven the same way.
import type { HookLine } from '../config/config';
import type { HookContext } from '../hooks/actions/types';
import type { ExtraHook } from '../hooks/registry/plan';

export interface WorkerSpec {
  id: number; // 1-based slot
  once: boolean; // first start of this slot (accepting-once hooks)
  app?: string; // node-app module path
  sockets: number; // listening fds at 4, 5, ...
  hooks: HookLine[]; // post-fork and accepting* lines
  ctx: HookContext;
  masterPid: number; // the worker dies with it (native watcher thread)
  deathGraceMs: number; // after the master died: time to drain, then SIGKILL
  mercyMs: number; // drain cap (worker-reload-mercy)
  maxRequests?: number; // report at once when reached
  /** Registry and hook-dir hooks of those phases, request hook modules. */
  extraHooks?: ExtraHook[];
}

/** The oldest request in flight, for harakiri and its log line. */
export interface BusyInfo {
  since: number; // Date.now() when it started
  request: string; // "GET /path"
}

export interface WorkerStats {
  requests: number;
  exceptions: number;
  avgRtMs: number;
  busy: BusyInfo | null;
  rss?: number;
  draining?: boolean;
}

export type WorkerMessage =
  | { type: 'accepting' }
  | { type: 'fatal'; detail: string }
  | { type: 'app-error'; when: 'load' | 'serving'; message: string; stack?: string; file?: string }
  | { type: 'stats'; stats: WorkerStats };

export const WORKER_ENV = 'LIEGE_WORKER';
export const FIRST_SOCKET_FD = 4; // 0-2 stdio, 3 the IPC channel
export const WORKER_PHASES = ['post-fork', 'accepting', 'accepting-once', 'accepting1', 'accepting1-once'];
