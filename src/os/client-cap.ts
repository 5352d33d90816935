// A bound on the clients a control server (stats, metrics, emperor stats)
// holds at once. Each client is a file descriptor of the supervisor itself:
// one that opens thousands of connections (and sends nothing, or reads
// nothing) would take the fds the master needs to spawn a worker, open a log
// or answer a reload (EMFILE). The clients these servers serve (liege top,
// uwsgitop, a Prometheus scrape, a monitoring poll) take one connection for
// a few milliseconds each: 64 at once is far more than any of them needs,
// and a small part of even a 1024-fd limit.
import type * as net from 'node:net';

export const CONTROL_CLIENTS_MAX = 64;
/** A burst of cut clients ends after this long without a new cut. */
const BURST_QUIET_MS = 5000;

/** How a cap speaks: the caller's logger (os/ has none). */
export type Say = (level: 'warn' | 'info', fields: object, msg: string) => void;

/** At most `max` clients of `server` (the `what` server on `addr`) at
 * once. A client beyond it takes the place of the oldest open one, which is
 * cut off at once: a flood of clients that send nothing holds `max` fds and
 * no more, and a client that sends its request and reads the answer at once
 * (every real one) is still answered during the flood (refusing the newest
 * would refuse it until the flood's clients time out). The first cut of a
 * burst is said (a warning), and its end with the count: not every cut. */
export function capClients(server: net.Server, what: string, addr: string, say: Say, max = CONTROL_CLIENTS_MAX): void {
  const open = new Set<net.Socket>(); // insertion order: the oldest first
  let cut = 0;
  let lastCut = 0;
  const endOfBurst = (): void => {
    const wait = lastCut + BURST_QUIET_MS - Date.now();
    if (wait > 0) {
      setTimeout(endOfBurst, wait).unref();
      return;
    }
    say('info', { [what]: addr, cut }, `${what} clients: the burst is over, ${cut} cut off`);
    cut = 0;
  };
  server.prependListener('connection', (c: net.Socket) => {
    if (open.size >= max) {
      const oldest = open.values().next().value as net.Socket;
      open.delete(oldest);
      oldest.destroy();
      lastCut = Date.now();
      if (cut++ === 0) {
        say('warn', { [what]: addr, max }, `more than ${max} ${what} clients at once: the oldest are cut off (said once per burst)`);
        setTimeout(endOfBurst, BURST_QUIET_MS).unref();
      }
    }
    open.add(c);
    c.once('close', () => open.delete(c));
  });
}
