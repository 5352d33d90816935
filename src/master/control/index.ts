// The operator's side of the master: stats server, Prometheus metrics,
// master fifos and touch files. Everything here only reads the worker table
// (workers.snapshot()) and pushes `{ type: 'command', name }` events into
// the master's queue; the loop's handlers (../loop/) own what each command
// does. What to start is a plain ControlSpec, carried across a reload: the
// fallback after a failed reload keeps the stats, the fifo and the touch
// files of the generation it runs (the fix is deployed by touching the file
// again).
import type * as net from 'node:net';
import type { Config } from '../../config/config';
import { LiegeError, type Origin } from '../../errors';
import { log } from '../../log';
import { afterDrop, othersSocket } from './after-drop';
import { MasterFifos } from './fifo';
import { closeUnclaimed, keepAcrossExec, takeInherited, touchedBeforeExec, type ControlServer } from './handover';
import { startMetricsServer } from './metrics';
import { closeListener, startStatsServer, type StatsSource } from './stats';
import { TouchWatcher, type TouchSpec } from './touch';
import { vacuumFifos } from '../vacuum';

export interface Control {
  stop(): void;
  /** A reload: stop, the stats and metrics sockets kept for the next image
   * (resolves once the answers in progress ended). */
  handOver(): Promise<void>;
}

/** An address option as configured, with where it was set. */
interface Address {
  addr: string;
  origin?: Origin;
}

/** What the control side runs: the config's options, as plain data. */
export interface ControlSpec {
  stats?: Address & { http: boolean; minified: boolean };
  metrics?: Address;
  fifos: Array<{ path: string; origin?: Origin }>;
  vacuum?: boolean; // a fifo a reload no longer reads is removed (absent in a handover from an older image)
  touch: TouchSpec[];
  binsh: string;
}

export function controlSpec(cfg: Config, binsh: string): ControlSpec {
  const address = (name: 'stats' | 'metrics'): Address | undefined => {
    const s = cfg.setting(name);
    return s?.value ? { addr: s.value, origin: s.origin } : undefined;
  };
  const stats = address('stats');
  return {
    stats: stats && { ...stats, http: cfg.bool('stats-http'), minified: cfg.bool('stats-minified') },
    metrics: address('metrics'),
    fifos: cfg.list('master-fifo').map((s) => ({ path: s.value, origin: s.origin })),
    vacuum: cfg.bool('vacuum'),
    touch: [
      ...cfg.list('touch-reload').map((s) => ({ file: s.value, command: 'reload' })),
      ...cfg.list('touch-workers-reload').map((s) => ({ file: s.value, command: 'workers-reload' })),
      ...cfg.list('touch-chain-reload').map((s) => ({ file: s.value, command: 'chain-reload' })),
      ...cfg.list('touch-logreopen').map((s) => ({ file: s.value, command: 'reopen-logs' })),
      ...cfg.list('touch-exec').map((s) => {
        const [file, ...cmd] = s.value.split(' ');
        return { file: file!, exec: cmd.join(' ') };
      }),
    ],
    binsh,
  };
}

/** A control server started, or an error naming the option's file:line and address. */
async function listening<T>(name: 'stats' | 'metrics', a: Address, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to listen on ${a.addr} for ${name}: ${code}${afterDrop(code, a.addr)}${othersSocket(code, a.addr)}`, { origin: a.origin, text: a.addr, expected: `a free address for the ${name} server`, cause: e });
  }
}

/** No control servers in this image: the sockets the previous image kept
 * are closed, refusing rather than hanging. */
export function closeInheritedControl(): void {
  closeUnclaimed();
}
export { carryCommands, takeCarriedCommands } from './handover';

/** Start the control side; `lenient` (the fallback after a failed reload,
 * which must keep what it can: a touch file may bring the fix): a part that
 * fails is logged and left off instead of failing the whole. */
export async function startControl(spec: ControlSpec, src: StatsSource, command: (name: string) => void, lenient = false): Promise<Control> {
  const servers: ControlServer[] = [];
  try {
    return await start(spec, src, command, servers, lenient);
  } catch (e) {
    // nothing half-started: a reload that fails here falls back to the
    // running generation's own control spec
    for (const s of servers) closeListener(s.server, s.addr);
    throw e;
  }
}

async function start(spec: ControlSpec, src: StatsSource, command: (name: string) => void, servers: ControlServer[], lenient: boolean): Promise<Control> {
  const server = async (name: 'stats' | 'metrics', a: Address, open: (fd: number | undefined) => Promise<net.Server>, said: () => void) => {
    try {
      servers.push({ name, addr: a.addr, server: await listening(name, a, () => open(takeInherited(name, a.addr))) });
      said();
    } catch (e) {
      if (!lenient || !(e instanceof LiegeError)) throw e;
      log('master').error({ code: e.code }, `${e.describe()}: the ${name} server is left off`);
    }
  };
  const stats = spec.stats;
  if (stats) await server('stats', stats, (fd) => startStatsServer(stats.addr, src, stats.http, stats.minified, fd), () => log('master').info({ stats: stats.addr }, 'stats server listening'));
  const metrics = spec.metrics;
  if (metrics) await server('metrics', metrics, (fd) => startMetricsServer(metrics.addr, src, fd), () => log('master').info({ metrics: metrics.addr }, 'metrics endpoint listening at /metrics'));
  const fifos = new MasterFifos(spec.fifos.map((f) => f.path), command, spec.fifos.map((f) => f.origin), lenient);
  fifos.start();
  const dropped = closeUnclaimed();
  if (spec.vacuum) vacuumFifos(dropped);
  const watcher = new TouchWatcher(spec.touch, command, spec.binsh);
  watcher.start(touchedBeforeExec());
  const stopCommands = () => {
    fifos.stop();
    watcher.stop();
  };
  return {
    stop: () => {
      for (const s of servers) closeListener(s.server, s.addr);
      stopCommands();
    },
    handOver: async () => {
      watcher.stop();
      await keepAcrossExec(servers, watcher.seen(), fifos.handOver());
    },
  };
}
