// An app written for node:cluster (`if (cluster.isPrimary) { fork… } else
// { serve }`) takes its primary branch in a liege worker, which no cluster
// forked: cluster.fork() would start liege's worker entry again, without a
// job, and the worker would wait for a listen() that never comes. liege
// runs `processes` workers itself, so the fork fails at once (the app's
// load error: message, file and line) with what to change. Only the
// CommonJS require() is seen at once; an ESM import (node:cluster is not
// loaded before, to keep it off every worker's start) is seen once the app
// loaded (forkedByApp), and a fork after that fails as under require();
// a forked process says the same and exits (worker/main.ts). What the app
// may read instead: its worker's id in the environment.
import { LiegeError } from '../errors';
import { nodeModule } from '../os/node-module';

export const CLUSTER_FORK_HELP = 'cluster.fork() in a liege worker: liege starts `processes` workers itself and each one runs the app, where cluster.isPrimary is true. Give node-app the code a node:cluster worker runs (the cluster.isWorker branch), or take that branch when process.env.LIEGE_WORKER_ID is set';

/** Makes node:cluster's fork() fail with CLUSTER_FORK_HELP, once the app requires it. */
export function guardClusterFork(): void {
  const Module = nodeModule() as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    const mod = load.call(this, request, ...rest);
    if (request === 'cluster' || request === 'node:cluster') refuseFork(mod as Cluster);
    return mod;
  };
}

type Cluster = { fork: () => never; workers?: Record<string, { process: { kill(sig: string): void } } | undefined> };

function refuseFork(cluster: Cluster): void {
  cluster.fork = function fork(): never {
    const e = new LiegeError('LIEGE_ERR_APP_LOAD', CLUSTER_FORK_HELP);
    Error.captureStackTrace(e, fork); // the app's line first, not ours
    throw e;
  };
}

/** Once the app loaded: whether it forked through an ESM import of
 * node:cluster (its forked processes are then killed). Later forks fail. */
export function forkedByApp(): boolean {
  const loaded = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList;
  if (!loaded?.includes('NativeModule internal/cluster/primary')) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cluster = require('node:cluster') as Cluster;
  refuseFork(cluster);
  nodeModule().syncBuiltinESMExports(); // `import { fork }` too
  const forked = Object.values(cluster.workers ?? {});
  for (const w of forked) w?.process.kill('SIGKILL');
  return forked.length > 0;
}

/** The worker's id for the app: LIEGE_WORKER_ID (1…processes, 0 = a spare),
 * and PM2's NODE_APP_INSTANCE (0-based: apps that run a job on instance 0 only). */
export function announceWorkerId(id: number): void {
  process.env.LIEGE_WORKER_ID = String(id);
  if (id > 0) process.env.NODE_APP_INSTANCE = String(id - 1);
}
