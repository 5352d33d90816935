// The master loop (gunicorn arbiter style): spawn workers and daemons, run
// master-start, then drain a queue of events through a name → handler
// table. Signal listeners only enqueue. SIGHUP reloads gracefully;
// SIGTERM/SIGINT stop gracefully, SIGQUIT at once (DEPARTURES D2).
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import type { HookContext } from '../hooks/actions/types';
import { runPhase } from '../hooks/run';
import type { HookPlan } from '../hooks/spec';
import { log } from '../log';
import { Daemons } from './daemons';
import { WORKER_PHASES } from './messages';
import type { BoundSocket } from './sockets';
import { handOverSockets } from './sockets';
import { Workers, type WorkerEvent } from './workers';

/** How the master ended: an exit status, or a request to re-exec. */
export type MasterEnd = number | 'reload';

type MasterEvent = { type: 'signal'; signal: NodeJS.Signals } | { type: 'control-daemon-died' } | WorkerEvent;

const SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT'];

export async function runMaster(cfg: Config, plan: HookPlan, ctx: HookContext, sockets: BoundSocket[], validateReload: () => void): Promise<MasterEnd> {
  const queue: MasterEvent[] = [];
  let wake: (() => void) | undefined;
  const push = (e: MasterEvent) => { queue.push(e); wake?.(); };
  const onSignal = (signal: NodeJS.Signals) => push({ type: 'signal', signal });
  for (const s of SIGNALS) process.on(s, onSignal);

  const workerHooks = cfg.hookLines.filter((h) => WORKER_PHASES.includes(h.phase));
  const workers = new Workers(sockets.length ? cfg.int('processes', 1) : 0, { app: cfg.str('node-app'), sockets: sockets.length, hooks: workerHooks, ctx }, sockets, push);
  const daemons = new Daemons(cfg, () => push({ type: 'control-daemon-died' }));
  const l = log('master');

  const stop = async (graceful: boolean) => {
    await workers.stopAll(graceful);
    await daemons.stopAll();
    for (const s of SIGNALS) process.off(s, onSignal);
  };

  workers.spawnAll();
  daemons.startAll();
  l.info({ pid: process.pid, workers: cfg.int('processes', 1), sockets: sockets.map((s) => `${s.addr}${s.port ? ` (port ${s.port})` : ''}`) }, 'master started');
  try {
    runPhase(plan, 'master-start', ctx);
  } catch (e) {
    await stop(false);
    throw e;
  }

  const handlers: Record<string, (e: MasterEvent) => Promise<MasterEnd | undefined>> = {
    SIGHUP: async () => {
      l.info('graceful reload requested');
      try {
        validateReload();
      } catch (e) {
        l.error({ code: (e as LiegeError).code }, `reload refused, the running generation keeps serving: ${e instanceof LiegeError ? e.describe() : String(e)}`);
        return undefined;
      }
      await stop(true);
      if (cfg.bool('exit-on-reload')) return 0;
      handOverSockets(sockets);
      return 'reload';
    },
    SIGTERM: async () => (l.info('graceful shutdown (SIGTERM)'), await stop(true), 0),
    SIGINT: async () => (l.info('graceful shutdown (SIGINT)'), await stop(true), 0),
    SIGQUIT: async () => (l.info('shutdown (SIGQUIT)'), await stop(false), 0),
    'control-daemon-died': async () => (l.info('control daemon died, shutting down'), await stop(true), 0),
    fatal: async (e) => {
      l.error({ worker: (e as { id: number }).id, error: (e as { detail: string }).detail }, 'FATAL hook failed in a worker, destroying instance');
      await stop(false);
      throw new LiegeError('LIEGE_ERR_HOOK_FAILED', 'a worker hook failed', { exitCode: 1 });
    },
    accepting: async () => undefined,
  };

  for (;;) {
    while (!queue.length) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    const e = queue.shift()!;
    const end = await handlers[e.type === 'signal' ? e.signal : e.type]!(e);
    if (end !== undefined) return end;
  }
}
