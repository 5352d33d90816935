// What the master loop takes from its queue, and the handler name each
// event is drained through. Signal listeners, timers, workers, the emperor
// and control/ (fifo, touch files) only push events; commands are
// `{ type: 'command', name }` and signals map onto the same names: HUP →
// reload (graceful), TERM/INT → stop (graceful), QUIT → quit (DEPARTURES D2).
import { TO_VASSAL } from '../../ipc/vassal';
import type { WorkerEvent } from '../workers';

/** How the master ended: an exit status, or a request to re-exec. */
export type MasterEnd = number | 'reload';

export type MasterEvent =
  | { type: 'signal'; signal: NodeJS.Signals }
  | { type: 'command'; name: string }
  | { type: 'tick'; lateMs?: number } // lateMs: how late the timer fired (the master stalled)
  | { type: 'watchdog' }
  | { type: 'control-daemon-died'; status: number }
  | { type: 'emperor'; byte: number }
  | { type: 'emperor-lost' }
  | WorkerEvent;

/** Signals and the commands they mean. */
// (SIGUSR1: the stats to the log, as uWSGI's master)
export const SIGNAL_COMMANDS: Record<string, string> = { SIGHUP: 'reload', SIGTERM: 'stop', SIGINT: 'stop', SIGQUIT: 'quit', SIGUSR1: 'stats-log', SIGUSR2: 'chain-reload' };

/** The emperor's command bytes and the commands they mean. */
const EMPEROR_COMMANDS: Record<number, string> = { [TO_VASSAL.stop]: 'emperor-stop', [TO_VASSAL.gracefulStop]: 'emperor-stop', [TO_VASSAL.reload]: 'emperor-reload' };

/** The commands that end the instance. */
export const STOPS = ['stop', 'quit', 'emperor-stop', 'emperor-lost'];

/** An event's handler name (and argument: `kill-worker:3`). */
export function commandOf(e: MasterEvent): [string, string | undefined] {
  if (e.type === 'signal') return [SIGNAL_COMMANDS[e.signal] ?? 'ignore', undefined];
  if (e.type === 'emperor') return [EMPEROR_COMMANDS[e.byte] ?? 'ignore', undefined];
  if (e.type === 'command') {
    const colon = e.name.indexOf(':');
    return colon < 0 ? [e.name, undefined] : [e.name.slice(0, colon), e.name.slice(colon + 1)];
  }
  return [e.type, undefined];
}

/** A queued command the next image runs after a reload (fifo, touch,
 * emperor; signals are carried as signals). */
export function carriedName(e: MasterEvent): string[] {
  if (e.type === 'command') return [e.name];
  if (e.type === 'emperor' && EMPEROR_COMMANDS[e.byte]) return [EMPEROR_COMMANDS[e.byte]!];
  return [];
}
