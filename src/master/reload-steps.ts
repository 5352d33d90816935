// A workers reload (fifo w, touch-workers-reload) and a chain reload (fifo c,
// SIGUSR2, touch-chain-reload) walk the slots until each one serves with a
// worker started since the reload was asked: all at once, or one slot at a
// time for a chain. What the walk does with one slot, from what it holds:
//
// | the slot holds                                               | step    |
// |--------------------------------------------------------------|---------|
// | a worker or a replacement starting, or a retry waiting       | wait    |
// | an accepting worker started since the request                | done    |
// | an accepting worker started before it, or nothing at all     | replace |
//
// A slot respawned in the middle of a reload (its worker SIGKILLed, crashed,
// harakiri) already runs the new code: the walk waits for that worker to
// accept and counts the slot as done, instead of replacing it a second time.
// A replacement that dies before accepting is retried by the slot's backoff
// and the walk waits for the retry; a recycling begun before the request
// (max-requests) is waited for, then its worker replaced: it may have loaded
// the old code. "Started since" compares start serials, not clocks.
// A brutal workers reload (fifo W) during a walk kills every worker: each
// slot is respawned (done once it accepts), and the spares the walk holds
// stay held until the walk is done, as for the walk itself.
import type { ProcStatus } from './worker-process';

export type ReloadStep = 'wait' | 'done' | 'replace';

/** What a slot holds, as the walk sees it. */
export interface SlotHolds {
  current?: { serial?: number; status: ProcStatus };
  next?: object;
  pending: boolean; // a respawn or a retry waits for its backoff
}

/** The step for a slot in a walk asked when `mark` workers had been started
 * (a worker whose serial is above it started since). */
export function reloadStep(slot: SlotHolds, mark: number): ReloadStep {
  if (slot.pending || slot.next || slot.current?.status === 'starting') return 'wait';
  if (slot.current && (slot.current.serial ?? 0) > mark) return 'done';
  return 'replace';
}
