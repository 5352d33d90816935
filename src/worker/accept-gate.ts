// The worker's accept loops, paused for one or more reasons at once (the
// master's hold for a newcomer, the open file limit): a loop runs again only
// once no reason is left, so the end of one does not undo the other.
// The pause is libuv's own: a read stop on a listening handle stops the
// POLLIN watch that drives its accept loop, a read start restarts it (it
// needs a handle opened on an fd, as liege's sockets are: readable).
import type * as net from 'node:net';

interface ListenHandle {
  readStart(): number;
  readStop(): number;
}

// libuv's error for a read start on a handle already marked reading (Linux)
const UV_EALREADY = -114;

function handleOf(s: net.Server): ListenHandle | undefined {
  return (s as unknown as { _handle?: ListenHandle | null })._handle ?? undefined;
}

const reasons = new Set<string>();
let paused: Array<[net.Server, ListenHandle]> = [];

/** Stops the accept loops of `servers` for `reason`. Stopped again even when
 * paused already: libuv's accept restarts the watch after each connection
 * it takes in a batch. */
export function pauseAccepting(servers: net.Server[], reason: string): void {
  reasons.add(reason);
  for (const s of servers) {
    const h = handleOf(s);
    if (!h || !s.listening) continue;
    // a read stop acts only on a handle marked reading: mark it first
    const started = h.readStart();
    if ((started !== 0 && started !== UV_EALREADY) || h.readStop() !== 0) continue;
    if (!paused.some(([ps, ph]) => ps === s && ph === h)) paused.push([s, h]);
  }
}

/** Ends the pause for `reason`; the loops run again once no reason is left
 * (a server the drain or the app closed meanwhile stays closed). */
export function resumeAccepting(reason: string): void {
  if (!reasons.delete(reason) || reasons.size > 0) return;
  for (const [s, h] of paused) if (handleOf(s) === h && s.listening) h.readStart();
  paused = [];
}

/** Whether the accept loops are paused for `reason`. */
export const pausedFor = (reason: string): boolean => reasons.has(reason);
