// What stats, metrics and top see of the worker table: a read-only view of
// each slot and of each worker that drains, and the counters a slot sums
// over its workers.
import type { WorkerCounters } from '../ipc/worker';
import type { Proc } from './worker-process';

export type WorkerStatus = 'starting' | 'idle' | 'busy' | 'draining' | 'down';

/** A worker that drains: why, since when (epoch ms), its requests in
 * flight at its last heartbeat and the oldest one's line. */
export interface DrainingView {
  id: number;
  pid: number;
  reason: string;
  since: number;
  busy: number;
  request: string | undefined;
}

/** A read-only view of one worker slot (stats, metrics, top). */
export interface WorkerView {
  id: number;
  pid: number | undefined;
  status: WorkerStatus;
  respawns: number;
  harakiri: number;
  lastSpawn: number | undefined;
  lastSeen: number | undefined; // its last message (heartbeat every second)
  counters: WorkerCounters; // the current worker's
  total: WorkerCounters; // the slot's, every worker so far
}

/** What a slot of the worker table (workers.ts) shows of its workers. */
export interface SlotRecord {
  id: number;
  current?: Proc;
  next?: Proc;
  respawns: number;
  harakiri: number; // workers of the slot harakiri killed
  lastSpawn: number;
  done: WorkerCounters; // totals of the slot's previous workers
}

export const ZERO: WorkerCounters = { requests: 0, exceptions: 0, busy: 0, rtSumUs: 0, tx: 0, lastRequestMs: 0 };
// the counters that add up over a slot's workers (the others are the current one's)
const SUMMED = ['requests', 'exceptions', 'rtSumUs', 'tx'] as const;

/** A slot as stats sees it: its worker serving, else its replacement starting. */
export function slotView(s: SlotRecord): WorkerView {
  const p = s.current ?? s.next;
  const c = p?.counters ?? ZERO;
  return { id: s.id, pid: p?.pid, status: statusOf(p), respawns: s.respawns, harakiri: s.harakiri, lastSpawn: s.lastSpawn || undefined, lastSeen: p?.lastSeen, counters: { ...c }, total: plus(c, s.done) };
}

/** A draining worker as stats sees it. */
export function drainingView(p: Proc): DrainingView {
  return { id: p.id, pid: p.pid, reason: p.reason ?? '', since: p.drainingSince ?? p.spawnedAt, busy: busyOf(p), request: p.stats.busy?.request };
}

/** `a` with the summed counters of `b` added. */
export function plus(a: WorkerCounters, b: WorkerCounters): WorkerCounters {
  const out = { ...a };
  for (const k of SUMMED) out[k] += b[k];
  return out;
}

// requests in flight: its counters change only then (an adopted worker has
// sent none yet), the heartbeat says whether one is
function busyOf(p: Proc): number {
  if (p.counters) return p.counters.busy;
  return p.stats.busy ? 1 : 0;
}

function statusOf(p: Proc | undefined): WorkerStatus {
  if (!p) return 'down';
  if (p.status === 'starting' || p.status === 'draining') return p.status;
  return p.stats.busy || (p.counters?.busy ?? 0) > 0 ? 'busy' : 'idle';
}
