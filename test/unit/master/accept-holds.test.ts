import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AcceptHolds } from '../../../src/master/accept-holds';
import type { Proc } from '../../../src/master/worker-process';

/** A worker whose channel records what the master told it. */
function proc(id: number, connected = true): Proc & { told: string[] } {
  const told: string[] = [];
  const child = { connected, send: (m: { type: string }) => told.push(m.type) } as unknown as ChildProcess;
  return { id, pid: 100 + id, child, status: 'accepting', spawnedAt: 0, lastSeen: 0, stats: { requests: 0, exceptions: 0, avgRtMs: 0, busy: null }, told };
}

describe('accept holds (master)', () => {
  it('holds the others when a worker starts accepting, releases them when it took a connection', () => {
    const holds = new AcceptHolds();
    const [a, b, n] = [proc(1), proc(2), proc(3)];
    holds.start(n, [a, b]);
    expect([a.told, b.told, n.told]).toEqual([['hold-accept'], ['hold-accept'], []]);
    holds.took(a); // not the newcomer: nothing
    expect(a.told).toEqual(['hold-accept']);
    holds.took(n);
    holds.took(n); // once
    expect([a.told, b.told]).toEqual([['hold-accept', 'release-accept'], ['hold-accept', 'release-accept']]);
  });

  it('a later newcomer takes over the hold; one without a channel is not held; alone, nothing is said', () => {
    const holds = new AcceptHolds();
    const [a, gone, n1, n2] = [proc(1), proc(2, false), proc(3), proc(4)];
    holds.start(n1, []);
    expect(n1.told).toEqual([]);
    holds.start(n1, [a, gone]);
    holds.start(n2, [a, gone, n1]);
    holds.took(n1); // the hold is n2's now
    expect(a.told).toEqual(['hold-accept', 'hold-accept']);
    holds.took(n2);
    expect([a.told, n1.told, gone.told]).toEqual([['hold-accept', 'hold-accept', 'release-accept'], ['hold-accept', 'release-accept'], []]);
  });
});
