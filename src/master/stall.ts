// The master's own stalls. harakiri takes a worker that sent no heartbeat
// for the whole deadline for a worker whose event loop is stuck; but the
// heartbeats are read by the master's loop, so when the master itself did
// not run (SIGSTOP, a debugger, CPU starvation, a paused VM) every
// worker's last heartbeat looks old on resume, the messages still unread in
// the pipes. Without this, a master stopped for longer than `harakiri`
// SIGKILLed every healthy worker the moment it was continued.
import type { Proc } from './worker-process';

/** Measures how late each tick of an interval timer fires. */
export class StallClock {
  private last = Date.now();

  constructor(private readonly intervalMs: number) {}

  /** The ms the timer fired late since the previous call (0 when on time). */
  lateBy(now: number): number {
    const late = now - this.last - this.intervalMs;
    this.last = now;
    return Math.max(0, late);
  }
}

/** Credits each worker's heartbeat with the time the master did not run. */
export function creditStall(procs: Iterable<Proc>, lateMs: number, now: number): void {
  if (lateMs <= 0) return;
  for (const p of procs) p.lastSeen = Math.min(now, p.lastSeen + lateMs);
}
