// What master and worker say to each other (IPC), and how a worker learns
// its job (LIEGE_WORKER env, JSON). Shared by master/ and worker/ only.
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
  /** Registry and hook-dir hooks of those phases, request hook modules. */
  extraHooks?: ExtraHook[];
}

export type WorkerMessage = { type: 'accepting' } | { type: 'fatal'; detail: string };

export const WORKER_ENV = 'LIEGE_WORKER';
export const FIRST_SOCKET_FD = 4; // 0-2 stdio, 3 the IPC channel
export const WORKER_PHASES = ['post-fork', 'accepting', 'accepting-once', 'accepting1', 'accepting1-once'];
