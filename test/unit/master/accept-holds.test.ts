import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

  it('a newcomer that exits (or is killed) before it took a connection releases the others at once; nothing more is said after', () => {
    const holds = new AcceptHolds();
    const [a, b, n] = [proc(1), proc(2), proc(3)];
    holds.start(n, [a, b]);
    holds.left(n);
    expect([a.told, b.told]).toEqual([['hold-accept', 'release-accept'], ['hold-accept', 'release-accept']]);
    holds.took(n); // its last message, after its exit
    holds.left(n);
    expect([a.told, b.told]).toEqual([['hold-accept', 'release-accept'], ['hold-accept', 'release-accept']]);
  });

  it('a held worker that leaves (dies, drains) is no longer held: the release goes to the others only', () => {
    const holds = new AcceptHolds();
    const [a, b, n] = [proc(1), proc(2), proc(3)];
    holds.start(n, [a, b]);
    holds.left(a);
    expect(a.told).toEqual(['hold-accept']);
    holds.took(n);
    expect([a.told, b.told]).toEqual([['hold-accept'], ['hold-accept', 'release-accept']]);
  });

  it('a stop or a reload\'s handover releases every held worker; the newcomer\'s connection after it says nothing', () => {
    const holds = new AcceptHolds();
    const [a, b, n] = [proc(1), proc(2), proc(3)];
    holds.start(n, [a, b]);
    holds.releaseAll();
    holds.took(n);
    holds.left(n);
    expect([a.told, b.told, n.told]).toEqual([['hold-accept', 'release-accept'], ['hold-accept', 'release-accept'], []]);
  });

  it('a later newcomer beside other workers: one held for the earlier newcomer and not for this one is released now', () => {
    const holds = new AcceptHolds();
    const [a, b, n1, n2, n3] = [proc(1), proc(2), proc(3), proc(4), proc(5)];
    holds.start(n1, [a, b]);
    holds.start(n2, [a, n1]); // b no longer accepts (say, it began to drain unseen)
    expect([a.told, b.told, n1.told]).toEqual([['hold-accept', 'hold-accept'], ['hold-accept', 'release-accept'], ['hold-accept']]);
    holds.start(n3, []); // a newcomer alone: the earlier hold ends
    expect([a.told.at(-1), n1.told.at(-1)]).toEqual(['release-accept', 'release-accept']);
  });

  describe('the record of a hold', () => {
    afterEach(() => { vi.useRealTimers(); });
    it('is forgotten once the workers\' own timers ended the hold: a connection or an exit of the newcomer later says nothing', () => {
      vi.useFakeTimers();
      const holds = new AcceptHolds();
      const [a, n] = [proc(1), proc(2)];
      holds.start(n, [a]);
      vi.advanceTimersByTime(1000);
      holds.took(n);
      holds.left(n);
      expect(a.told).toEqual(['hold-accept']);
    });
  });
});
