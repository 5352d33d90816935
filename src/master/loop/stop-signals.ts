// Signals while the instance stops. A graceful stop waits for its workers to
// drain (up to reload-mercy) and the master loop is blocked in it, so the
// stop watches the queue itself: a quit (SIGQUIT, fifo `q`) or a SIGINT
// (Ctrl-C twice, as docker compose) makes it immediate; a TERM is merged.
// Once the workers are gone, until the process exits (daemons stopping,
// the atexit hooks, vacuum), a signal is logged and ignored: with no
// listener Node would take the default action and kill the master there,
// cutting its atexit hooks and leaving its pidfile and socket files.
import { isQuitSignal, type EventQueue } from '../../event-queue';
import { log } from '../../log';
import type { MasterEvent } from './events';

/** Whether e asks to stop now. */
function isQuit(e: MasterEvent): boolean {
  return isQuitSignal(e) || (e.type === 'command' && e.name === 'quit');
}

/** Calls `now` (once) when a quit comes before the returned unwatch is called. */
export function escalateOnQuit(events: EventQueue<MasterEvent>, now: () => void): () => void {
  return events.once(isQuit, () => {
    log('master').info('stop asked again: immediate, the workers still draining are killed');
    now();
  });
}

/** Swaps the loop's signal listener for one that only logs, until exit. */
export function ignoreSignalsUntilExit(signals: string[], unlisten: () => void): void {
  const ignored = (s: NodeJS.Signals) => log('master').info({ signal: s }, 'signal ignored: the instance is already stopping');
  // (the new listeners first: a signal never finds none, Node's default)
  for (const s of signals) process.on(s, ignored);
  unlisten();
}
