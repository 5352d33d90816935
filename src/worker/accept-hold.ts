// A worker that starts accepting beside others (a respawn, a spare taking a
// slot, a chain-reload step, the boot gate's later workers) takes the next
// connection. On a shared listening socket the kernel wakes every idle
// worker for a connection, and the scheduler tends to run first those that
// slept while the newcomer used its CPU to boot: the newcomer lost that race
// for up to ~140 ms (bench/README.md, "respawn race"). So the master asks the
// others to hold off accepting (`hold-accept`) until the newcomer took one
// (`took-connection`, then `release-accept`), at most `ms`: connections wait
// in the kernel's backlog meanwhile, for the newcomer.
// The pause is the accept gate's (accept-gate.ts), which an open file limit
// may hold too.
import type * as net from 'node:net';
import type { MasterMessage, WorkerMessage } from '../ipc/worker';
import { pauseAccepting, resumeAccepting } from './accept-gate';

/** Follows the master's holds on the accept loops of `servers`. */
export function followAcceptHolds(servers: net.Server[]): void {
  let timer: NodeJS.Timeout | undefined;
  const release = () => {
    clearTimeout(timer);
    timer = undefined;
    resumeAccepting('hold');
  };
  process.on('message', (m: MasterMessage & { liege?: number }) => {
    if (m?.liege !== 1) return;
    if (m.type === 'release-accept') return release();
    if (m.type !== 'hold-accept') return;
    if (!timer) pauseAccepting(servers, 'hold');
    clearTimeout(timer);
    timer = setTimeout(release, m.ms);
  });
}

/** Tells the master once, after `accepting`, that this worker took a connection. */
export function announceFirstConnection(servers: net.Server[], send: (m: WorkerMessage) => void): () => void {
  let took = false;
  let accepting = false;
  const tell = () => {
    if (took && accepting) send({ type: 'took-connection' });
  };
  const onConnection = () => {
    for (const s of servers) s.off('connection', onConnection);
    took = true;
    tell();
  };
  for (const s of servers) s.prependListener('connection', onConnection);
  return () => {
    accepting = true;
    tell();
  };
}
