import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { heardFrom, SILENT_MS, watchSilence } from '../../../src/master/silence';
import type { Proc } from '../../../src/master/worker-process';

const now = 1_000_000;
const proc = (over: Partial<Proc>): Proc => ({ id: 1, pid: 10, status: 'accepting', spawnedAt: 0, lastSeen: now - SILENT_MS, stats: { requests: 0, exceptions: 0, avgRtMs: 0, busy: null }, channel: {} as net.Socket, ...over });

describe('a silent worker (no harakiri)', () => {
  it('is marked once it missed SILENT_MS of heartbeats: serving or draining, not starting, not one the master cannot hear', () => {
    const procs = [proc({}), proc({ status: 'draining' }), proc({ lastSeen: now - SILENT_MS + 1 }), proc({ status: 'starting' }), proc({ channel: undefined }), proc({ channelLostAt: 1 })];
    watchSilence(procs, now);
    expect(procs.map((p) => p.silentSince)).toEqual([now - SILENT_MS, now - SILENT_MS, undefined, undefined, undefined, undefined]);
  });

  it('is warned about once, and unmarked when heard from', () => {
    const p = proc({});
    watchSilence([p], now);
    p.lastSeen = now - SILENT_MS - 5; // (a credited stall does not unmark it)
    watchSilence([p], now + 1000);
    expect(p.silentSince).toBe(now - SILENT_MS);
    heardFrom(p, now + 2000);
    expect(p.silentSince).toBeUndefined();
  });
});
