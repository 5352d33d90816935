// The busy slot over real shared memory (native memfd + two mappings, as
// master and worker have) and the harakiri verdict read from it.
import { describe, expect, it } from 'vitest';
import { markBusy, readBusy, SLOT_BYTES, slotViews } from '../../../src/ipc/busy-slot';
import { judge, type RecyclePolicy } from '../../../src/master/recycle';
import type { Proc } from '../../../src/master/worker-process';
import { native } from '../../../src/os/native';

const POLICY: RecyclePolicy = { harakiriMs: 2000, maxRequests: 0, maxRequestsDelta: 0, reloadOnRssBytes: 0, evilReloadOnRssBytes: 0, maxLifetimeMs: 0, maxLifetimeDeltaMs: 0, minLifetimeMs: 0 };

function pair() {
  const [fd, buf] = native.shmCreate(SLOT_BYTES);
  const worker = slotViews(native.shmMap(fd, SLOT_BYTES));
  native.closeFd(fd);
  return { master: slotViews(buf), worker };
}

describe('busy slot', () => {
  it('what the worker writes, the master reads, through the other mapping', () => {
    const { master, worker } = pair();
    expect(readBusy(master)).toBeNull();
    markBusy(worker, 1234.5, 'GET /a?b=c');
    expect(readBusy(master)).toEqual({ since: 1234.5, request: 'GET /a?b=c' });
    markBusy(worker, 0);
    expect(readBusy(master)).toBeNull();
    // a long request line is cut to the slot
    markBusy(worker, 99, 'X '.repeat(400));
    expect(readBusy(master)?.request.length).toBe(SLOT_BYTES - 16);
  });

  it('harakiri judges by the slot while the heartbeat says idle', () => {
    const { master, worker } = pair();
    const now = Date.now();
    const p: Proc = { id: 1, pid: 42, status: 'accepting', spawnedAt: now - 60_000, lastSeen: now, stats: { requests: 0, exceptions: 0, avgRtMs: 0, busy: null }, slot: master };
    expect(judge(p, () => 0, now, POLICY, true)).toBeUndefined();
    markBusy(worker, now - 2500, 'GET /spin');
    expect(judge(p, () => 0, now, POLICY, true)).toMatchObject({ action: 'kill', request: 'GET /spin', reason: 'harakiri: a request ran 3 s' });
    markBusy(worker, now - 1500, 'GET /spin');
    expect(judge(p, () => 0, now, POLICY, true)).toBeUndefined();
  });
});
