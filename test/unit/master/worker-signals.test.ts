import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hearSignal, heardSignals, judgeWorkerSignal, rememberHeard } from '../../../src/master/worker-signals';

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

const report = (signal: NodeJS.Signals, pid = 10) => ({ id: 1, pid, signal, from: 4242, at: Date.now() });

describe("a worker's report of a signal from someone else", () => {
  it('is the group\'s when the master heard the same signal just before: nothing is passed on', () => {
    const passOn = vi.fn(() => true);
    hearSignal('SIGHUP');
    vi.advanceTimersByTime(500);
    judgeWorkerSignal(report('SIGHUP'), passOn);
    vi.advanceTimersByTime(5000);
    expect(passOn).not.toHaveBeenCalled();
  });

  it('is the group\'s when the master hears it within a second after (the report read first)', () => {
    const passOn = vi.fn(() => true);
    judgeWorkerSignal(report('SIGINT'), passOn);
    vi.advanceTimersByTime(300);
    hearSignal('SIGINT');
    vi.advanceTimersByTime(5000);
    expect(passOn).not.toHaveBeenCalled();
  });

  it('is the worker\'s alone otherwise (another signal heard, or the same one long before): passed on once, a second after the report', () => {
    const passOn = vi.fn(() => true);
    hearSignal('SIGQUIT');
    vi.advanceTimersByTime(10_000);
    hearSignal('SIGTERM');
    judgeWorkerSignal(report('SIGQUIT', 11), passOn);
    vi.advanceTimersByTime(999);
    expect(passOn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    vi.advanceTimersToNextTimer(); // the decision's poll phase (setImmediate)
    expect(passOn).toHaveBeenCalledWith(11, 'SIGQUIT');
    vi.advanceTimersByTime(5000);
    expect(passOn).toHaveBeenCalledTimes(1);
  });

  it('counts what the previous image heard (a report read by the new image after a reload\'s re-exec)', () => {
    hearSignal('SIGUSR2');
    const before = heardSignals();
    expect(before.SIGUSR2).toContain(Date.now());
    rememberHeard(before);
    const passOn = vi.fn(() => true);
    judgeWorkerSignal(report('SIGUSR2'), passOn);
    vi.advanceTimersByTime(5000);
    expect(passOn).not.toHaveBeenCalled();
  });
});
