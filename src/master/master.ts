// The master loop (gunicorn arbiter style): spawn workers and daemons, run
// master-start, then drain a queue of events through a name → handler
// table. Signal listeners only enqueue. SIGHUP reloads gracefully;
// SIGTERM/SIGINT stop gracefully, SIGQUIT at once (DEPARTURES D2).
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import type { HookContext } from '../hooks/actions/types';
import { extrasOf } from '../hooks/registry/plan';
import { runPhase } from '../hooks/run';
import type { HookPlan } from '../hooks/spec';
import { log } from '../log';
import { FROM_VASSAL, linkToEmperor, TO_VASSAL } from '../ipc/vassal';
import { EventQueue } from '../event-queue';
import { native } from '../os/native';
import { sdNotify as sdNotifyRaw } from '../os/notify';
import { Daemons } from './daemons';
import { WORKER_PHASES } from '../ipc/worker';
import type { BoundSocket } from './sockets';
import { handOverSockets } from './sockets';
import { masterTitle, servingSpec } from './serving';
import { startControl, type Control } from './control/index';
import { reopenLog } from './logfile';
import { writePidfile } from './pidfile';
import { socketInfos } from './sockets';
import { Workers, type WorkerEvent } from './workers';

const sdNotify = (fields: Record<string, string | number>) => {
  const err = sdNotifyRaw(fields);
  if (err) log('master').warn({ error: err.message }, 'unable to notify systemd');
};

/** How the master ended: an exit status, or a request to re-exec. */
export type MasterEnd = number | 'reload';

type MasterEvent = { type: 'signal'; signal: NodeJS.Signals } | { type: 'command'; name: string } | { type: 'control-daemon-died' } | { type: 'emperor'; byte: number } | { type: 'emperor-lost' } | WorkerEvent;

const SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR2'];

// master commands (fifo, touch files, `liege --reload PIDFILE` …) → handlers;
// SIGUSR2 (`liege --chain-reload PIDFILE`) is a chain reload
const COMMANDS: Record<string, string> = {
  reload: 'SIGHUP',
  'brutal-reload': 'SIGHUP',
  stop: 'SIGTERM',
  quit: 'SIGQUIT',
  SIGUSR2: 'workers-reload',
  'chain-reload': 'workers-reload', // one at a time once chain reload lands (master.ts, issue 7)
  'workers-reload': 'workers-reload',
  'brutal-workers-reload': 'brutal-workers-reload',
  'reopen-logs': 'reopen-logs',
  pidfiles: 'pidfiles',
  'stats-log': 'stats-log',
  pause: 'pause',
};

export async function runMaster(cfg: Config, plan: HookPlan, ctx: HookContext, sockets: BoundSocket[], validateReload: () => void): Promise<MasterEnd> {
  const events = new EventQueue<MasterEvent>();
  const push = events.push;
  const onSignal = (signal: NodeJS.Signals) => push({ type: 'signal', signal });
  for (const s of SIGNALS) process.on(s, onSignal);

  const workerHooks = cfg.hookLines.filter((h) => WORKER_PHASES.includes(h.phase));
  const count = sockets.length ? cfg.int('processes') : 0; // no socket, no workers (uWSGI too)
  const workers = new Workers(count, { ...servingSpec(cfg, sockets), hooks: workerHooks, ctx, extraHooks: extrasOf(plan, WORKER_PHASES) }, sockets, push);
  const daemons = new Daemons(cfg, () => push({ type: 'control-daemon-died' }));
  const l = log('master');

  const stop = async (graceful: boolean, reloading = false) => {
    sdNotify(reloading ? { RELOADING: 1 } : { STOPPING: 1 });
    control?.stop();
    await workers.stopAll(graceful);
    await daemons.stopAll();
    for (const s of SIGNALS) process.off(s, onSignal);
  };

  const title = masterTitle(cfg);
  if (title) process.title = title;
  let control: Control | undefined;
  workers.spawnAll();
  daemons.startAll();
  try {
    control = await startControl(cfg, { workers: () => workers.snapshot(), sockets: socketInfos(sockets), version: '0.1.0' }, (name) => push({ type: 'command', name }), ctx.binsh);
  } catch (e) {
    await stop(false);
    throw e;
  }
  l.info({ pid: process.pid, workers: count, sockets: sockets.map((s) => `${s.addr}${s.port ? ` (port ${s.port})` : ''}`) }, 'master started');
  try {
    runPhase(plan, 'master-start', ctx);
  } catch (e) {
    await stop(false);
    throw e;
  }
  // systemd Type=notify: ready once every worker accepts (at once without workers)
  const accepting = new Set<number>();
  // a vassal reads its emperor's commands on UWSGI_EMPEROR_FD and tells it when it accepts
  const emperor = linkToEmperor((byte) => push({ type: 'emperor', byte }), () => push({ type: 'emperor-lost' }), native.setCloexec);
  emperor?.tell(FROM_VASSAL.ready);
  if (emperor && cfg.has('heartbeat')) emperor.heartbeat(cfg.int('heartbeat'));
  const ready = () => {
    emperor?.tell(FROM_VASSAL.accepting);
    sdNotify({ READY: 1, STATUS: `serving with ${count} workers${sockets.length ? ` on ${sockets.map((s) => s.addr).join(', ')}` : ''}` });
  };
  if (count === 0) ready();

  const handlers: Record<string, (e: MasterEvent) => Promise<MasterEnd | undefined>> = {
    SIGHUP: async () => {
      l.info('graceful reload requested');
      try {
        validateReload();
      } catch (e) {
        l.error({ code: (e as LiegeError).code }, `reload refused, the running generation keeps serving: ${e instanceof LiegeError ? e.describe() : String(e)}`);
        return undefined;
      }
      if (cfg.bool('exit-on-reload')) return stop(true).then(() => 0);
      await stop(true, true);
      handOverSockets(sockets);
      emperor?.keepAcrossExec(native.setCloexec);
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
    accepting: async (e) => {
      if (accepting.size < count && !accepting.has((e as { id: number }).id)) {
        accepting.add((e as { id: number }).id);
        if (accepting.size === count) ready();
      }
      return undefined;
    },
    ignore: async () => undefined,
    'workers-reload': async () => (l.info('reloading the workers'), workers.recycleAll(false), undefined),
    'brutal-workers-reload': async () => (l.info('reloading the workers (brutal)'), workers.recycleAll(true), undefined),
    'reopen-logs': async () => {
      if (reopenLog()) l.info('log file reopened');
      return undefined;
    },
    pidfiles: async () => {
      writePidfile(cfg.str('pidfile'));
      writePidfile(cfg.str('pidfile2'));
      writePidfile(cfg.str('safe-pidfile'), true);
      writePidfile(cfg.str('safe-pidfile2'), true);
      return undefined;
    },
    'stats-log': async () => (l.info({ stats: JSON.parse(control!.statsText()) as object }, 'stats'), undefined),
    pause: async () => (l.warn('pause (fifo p) does not apply to Node workers: ignored'), undefined),
    'emperor-stop': async () => {
      runPhase(plan, 'emperor-stop', ctx);
      await stop(true);
      return 0;
    },
    'emperor-reload': async (e) => {
      runPhase(plan, 'emperor-reload', ctx);
      return handlers.SIGHUP!(e);
    },
    'emperor-lost': async () => {
      l.error('lost the emperor, shutting down');
      runPhase(plan, 'emperor-lost', ctx);
      await stop(false);
      return 1;
    },
  };

  for (;;) {
    const e = await events.next();
    const name = e.type === 'signal' ? COMMANDS[e.signal] ?? e.signal : e.type === 'command' ? COMMANDS[e.name] ?? 'ignore' : e.type === 'emperor' ? EMPEROR_COMMANDS[e.byte] ?? 'ignore' : e.type;
    const end = await handlers[name]!(e);
    if (end !== undefined) return end;
  }
}

const EMPEROR_COMMANDS: Record<number, string> = { [TO_VASSAL.stop]: 'emperor-stop', [TO_VASSAL.gracefulStop]: 'emperor-stop', [TO_VASSAL.reload]: 'emperor-reload' };

