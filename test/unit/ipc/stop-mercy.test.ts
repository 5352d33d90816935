// What bounds a worker's drain at a stop: the smaller of worker-reload-mercy
// and reload-mercy, named by the option that sets it (the worker's log says it).
import { describe, expect, it } from 'vitest';
import { stopMercy } from '../../../src/ipc/worker';

describe('stopMercy', () => {
  it('is reload-mercy when it is the smaller (the defaults: 60 s and 30 s)', () => {
    expect(stopMercy(60_000, 30_000)).toEqual({ ms: 30_000, name: 'reload-mercy' });
  });
  it('is worker-reload-mercy when it is the smaller, or both are equal', () => {
    expect(stopMercy(10_000, 30_000)).toEqual({ ms: 10_000, name: 'worker-reload-mercy' });
    expect(stopMercy(30_000, 30_000)).toEqual({ ms: 30_000, name: 'worker-reload-mercy' });
  });
  it('a reload-mercy of 0 (allowed) means no drain at a stop', () => {
    expect(stopMercy(60_000, 0)).toEqual({ ms: 0, name: 'reload-mercy' });
  });
});
