// The stop of the instance: the commands that end it (a stop is never
// merged with anything: it ends the instance), and the stop itself.
import { runPhaseAsync } from '../../hooks/run';
import { stopMercy } from '../../ipc/worker';
import { log } from '../../log';
import { killDescendants } from '../../os/reaper';
import { relayDrained } from '../log-relay';
import { refuseConnections } from '../sockets';
import type { Handlers, Master } from './context';
import { SIGNAL_COMMANDS } from './events';
import { sdNotify } from './readiness';
import { escalateOnQuit, ignoreSignalsUntilExit } from './stop-signals';
import { harakiri } from './verdicts';

/** How long a stop waits for the workers' last lines (log-master). */
const RELAY_DRAIN_MS = 1000;

export const STOP_HANDLERS: Handlers = {
  stop: async (m) => {
    log('master').info('graceful shutdown');
    await stop(m, true);
    return 0;
  },
  quit: async (m) => {
    log('master').info('immediate shutdown');
    await stop(m, false);
    return 0;
  },
  'control-daemon-died': async (m, e) => {
    const daemonStatus = (e as { status: number }).status;
    log('master').info({ status: daemonStatus }, 'control daemon died, shutting down');
    await stop(m, true);
    // As PID 1 of a container, tini's rule: the container ends with the
    // status of the child that decided the end. Elsewhere uWSGI's: exit 0.
    if (process.pid === 1) return daemonStatus;
    return 0;
  },
  'emperor-stop': async (m) => {
    await runEmperorHooks(m, 'emperor-stop');
    await stop(m, true);
    return 0;
  },
  'emperor-lost': async (m) => {
    log('master').error('lost the emperor, shutting down');
    await runEmperorHooks(m, 'emperor-lost');
    await stop(m, false);
    return 1;
  },
};

/** The hooks of an emperor phase (none in the fallback). */
export async function runEmperorHooks(m: Master, phase: string): Promise<void> {
  const { plan, ctx } = m.run;
  if (plan && ctx) await runPhaseAsync(plan, phase, ctx);
}

/** Stop the workers (drain, or SIGKILL), then the daemons and whatever
 * they all left behind. */
export async function stop(m: Master, graceful: boolean): Promise<void> {
  const { workers, settings } = m;
  m.stopping = true;
  m.daemons?.holdRespawns(); // (stopped after the workers; one that ends meanwhile stays so)
  // before the workers hear of it: not one connection more is queued
  // (a worker still accepting wakes up for nothing until it stops)
  refuseConnections(m.run.sockets);
  sdNotify({ STOPPING: 1 });
  m.control?.stop();
  // the loop waits for the stop: harakiri keeps its deadline meanwhile (a
  // worker stuck in a request cannot drain; without this the stop would
  // wait the whole reload-mercy)
  const deadlines = graceful && settings.policy.harakiriMs > 0 ? setInterval(() => harakiri(m, Date.now()), 1000) : undefined;
  const unwatch = graceful ? escalateOnQuit(m.events, () => void workers.stopAll(false)) : undefined;
  await workers.stopAll(graceful, stopMercy(settings.mercyMs, settings.stopMercyMs));
  unwatch?.();
  clearInterval(deadlines);
  ignoreSignalsUntilExit(Object.keys(SIGNAL_COMMANDS), m.listening.off);
  await m.daemons?.stopAll();
  const left = killDescendants();
  if (left) log('master').warn({ processes: left }, 'killed what the workers, daemons and hooks left behind');
  await relayDrained(RELAY_DRAIN_MS);
}
