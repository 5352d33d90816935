// The operator's side of the master: stats server, Prometheus metrics,
// master fifos and touch files. Everything here only reads the worker table
// (workers.snapshot()) and pushes `{ type: 'command', name }` events into
// the master's queue; master.ts owns what each command does.
import type { Config } from '../../config/config';
import { LiegeError } from '../../errors';
import { log } from '../../log';
import { MasterFifos } from './fifo';
import { closeUnclaimed, keepAcrossExec, takeInherited, type ControlServer } from './handover';
import { startMetricsServer } from './metrics';
import { closeListener, startStatsServer, statsText, type StatsSource } from './stats';
import { TouchWatcher, type TouchSpec } from './touch';

export interface Control {
  stop(): void;
  /** A reload: stop, the stats and metrics sockets kept for the next image
   * (resolves once the answers in progress ended). */
  handOver(): Promise<void>;
  /** The stats document as text (fifo `s`, log). */
  statsText(): string;
}

/** A control server started, or an error naming the option's file:line and address. */
async function listening<T>(cfg: Config, name: 'stats' | 'metrics', start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    const s = cfg.setting(name);
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to listen on ${s?.value} for ${name}: ${code}`, { origin: s?.origin, text: s?.value, expected: `a free address for the ${name} server`, cause: e });
  }
}

/** No control servers in this image (a failed reload's fallback): the
 * sockets the previous image kept are closed, refusing rather than hanging. */
export { closeUnclaimed as closeInheritedControl } from './handover';

export async function startControl(cfg: Config, src: StatsSource, command: (name: string) => void, binsh: string): Promise<Control> {
  const servers: ControlServer[] = [];
  const stats = cfg.str('stats');
  if (stats) {
    const fd = takeInherited('stats', stats);
    servers.push({ name: 'stats', addr: stats, server: await listening(cfg, 'stats', () => startStatsServer(stats, src, cfg.bool('stats-http'), cfg.bool('stats-minified'), fd)) });
    log('master').info({ stats }, 'stats server listening');
  }
  const metrics = cfg.str('metrics');
  if (metrics) {
    const fd = takeInherited('metrics', metrics);
    servers.push({ name: 'metrics', addr: metrics, server: await listening(cfg, 'metrics', () => startMetricsServer(metrics, src, fd)) });
    log('master').info({ metrics }, 'metrics endpoint listening at /metrics');
  }
  closeUnclaimed();
  const fifoSettings = cfg.list('master-fifo');
  const fifos = new MasterFifos(fifoSettings.map((s) => s.value), command, fifoSettings.map((s) => s.origin));
  fifos.start();
  const touch: TouchSpec[] = [
    ...cfg.list('touch-reload').map((s) => ({ file: s.value, command: 'reload' })),
    ...cfg.list('touch-workers-reload').map((s) => ({ file: s.value, command: 'workers-reload' })),
    ...cfg.list('touch-chain-reload').map((s) => ({ file: s.value, command: 'chain-reload' })),
    ...cfg.list('touch-logreopen').map((s) => ({ file: s.value, command: 'reopen-logs' })),
    ...cfg.list('touch-exec').map((s) => {
      const [file, ...cmd] = s.value.split(' ');
      return { file: file!, exec: cmd.join(' ') };
    }),
  ];
  const watcher = new TouchWatcher(touch, command, binsh);
  watcher.start();
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
      stopCommands();
      await keepAcrossExec(servers);
    },
    statsText: () => statsText(src, false, true),
  };
}
