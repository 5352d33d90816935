import { describe, expect, it } from 'vitest';
import { creditStall, StallClock } from '../../../src/master/stall';
import type { Proc } from '../../../src/master/worker-process';

describe('the master\'s stall clock', () => {
  it('says how late an interval timer fired, 0 when on time or early', () => {
    const c = new StallClock(1000);
    const t0 = Date.now();
    expect(c.lateBy(t0 + 900)).toBe(0);
    expect(c.lateBy(t0 + 1900)).toBe(0);
    expect(c.lateBy(t0 + 8900)).toBe(6000);
  });

  it('credits each heartbeat with the stall, never past now', () => {
    const now = 100_000;
    const procs = [{ lastSeen: now - 7000 }, { lastSeen: now - 500 }] as Proc[];
    creditStall(procs, 6000, now);
    expect(procs.map((p) => p.lastSeen)).toEqual([now - 1000, now]);
  });
});
