// The worker table's side of a reload's handover (generations.ts): a worker
// as the next image adopts it, and back into a Proc in that image.
import { readBusy } from '../ipc/busy-slot';
import { isWorkerMessage, type WorkerMessage } from '../ipc/worker';
import type { AdoptedWorker } from './generations';
import type { Proc } from './worker-process';

/** A worker as the next image adopts it. */
export function handedOver(p: Proc): AdoptedWorker {
  const fd = channelFd(p);
  return {
    id: p.id,
    pid: p.pid,
    fd: fd !== undefined && fd >= 0 ? fd : undefined,
    out: p.output?.handOver(),
    spawnedAt: p.spawnedAt,
    requests: p.stats.requests,
    busy: p.slot ? readBusy(p.slot) : p.stats.busy,
    draining: p.status === 'draining' ? { reason: p.reason ?? 'draining', since: p.drainingSince ?? Date.now() } : undefined,
  };
}

/** A worker handed over by the previous image, serving as it was (its
 * channel and output are opened by the caller). */
export function adoptedProc(a: AdoptedWorker): Proc {
  return { id: a.id, pid: a.pid, status: 'accepting', spawnedAt: a.spawnedAt, acceptingAt: a.spawnedAt, lastSeen: Date.now(), stats: { requests: a.requests, exceptions: 0, avgRtMs: 0, busy: a.busy ?? null } };
}

// A worker of an older liege (the reload after an upgrade) does not mark
// its messages: they are taken until it is seen to mark them, so its
// heartbeats keep harakiri from taking it for stuck while it drains
export function adoptedMessages(onMessage: (m: WorkerMessage) => void): (m: unknown) => void {
  let legacy = true;
  return (m) => {
    if (isWorkerMessage(m)) legacy = false;
    else if (!legacy || typeof m !== 'object' || m === null) return;
    onMessage(m as WorkerMessage);
  };
}

/** The fd of `p`'s channel: a child's, or an adopted worker's (opened on
 * the fd the previous image handed over). */
function channelFd(p: Proc): number | undefined {
  const ofChild = (p.child?.channel as unknown as { fd?: number } | undefined)?.fd;
  const ofAdopted = (p.channel as unknown as { _handle?: { fd?: number } } | undefined)?._handle?.fd;
  return ofChild ?? ofAdopted;
}
