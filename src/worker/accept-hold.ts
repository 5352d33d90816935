// A worker that starts accepting beside others (a respawn, a spare taking a
// slot, a chain-reload step, the boot gate's later workers) takes the next
// connection. On a shared listening socket the kernel wakes every idle
// worker for a connection, and the scheduler tends to run first those that
// slept while the newcomer used its CPU to boot: the newcomer lost that race
// for up to ~140 ms (bench/README.md, "respawn race"). So the master asks the
// others to hold off accepting (`hold-accept`) until the newcomer took one
// (`took-connection`, then `release-accept`), at most `ms`: connections wait
// in the kernel's backlog meanwhile, for the newcomer.
// The pause is libuv's own: a read stop on a listening handle stops the
// POLLIN watch that drives its accept loop, a read start restarts it (it
// needs a handle opened on an fd, as liege's sockets are: readable).
import type * as net from 'node:net';
import type { MasterMessage, WorkerMessage } from '../ipc/worker';

interface ListenHandle {
  readStart(): number;
  readStop(): number;
}

// libuv's error for a read start on a handle already marked reading (Linux)
const UV_EALREADY = -114;

function handleOf(s: net.Server): ListenHandle | undefined {
  return (s as unknown as { _handle?: ListenHandle | null })._handle ?? undefined;
}

/** Stops `h`'s accept loop; false when the handle cannot be paused. */
function pause(h: ListenHandle): boolean {
  // a read stop acts only on a handle marked reading: mark it first
  const started = h.readStart();
  if (started !== 0 && started !== UV_EALREADY) return false;
  return h.readStop() === 0;
}

/** Follows the master's holds on the accept loops of `servers`. */
export function followAcceptHolds(servers: net.Server[]): void {
  let held: Array<[net.Server, ListenHandle]> = [];
  let timer: NodeJS.Timeout | undefined;
  const release = () => {
    clearTimeout(timer);
    timer = undefined;
    // (a server the drain or the app closed meanwhile stays closed)
    for (const [s, h] of held) if (handleOf(s) === h && s.listening) h.readStart();
    held = [];
  };
  process.on('message', (m: MasterMessage & { liege?: number }) => {
    if (m?.liege !== 1) return;
    if (m.type === 'release-accept') return release();
    if (m.type !== 'hold-accept') return;
    if (!timer) {
      for (const s of servers) {
        const h = handleOf(s);
        if (h && s.listening && pause(h)) held.push([s, h]);
      }
    }
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
