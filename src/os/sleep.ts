// A blocking sleep for the synchronous hook runner (wait_for_*, spinningfifo).
// It keeps systemd's watchdog fed while it blocks (watchdog.ts): a wait-for-*
// of 60 s outlasts a WatchdogSec= of 30 s.
import { pingIfDue, whileBlocked } from './watchdog';

const cell = new Int32Array(new SharedArrayBuffer(4));

export function sleepMs(ms: number): void {
  const until = Date.now() + ms;
  for (let left = ms; left > 0; left = until - Date.now()) {
    Atomics.wait(cell, 0, 0, Math.min(left, whileBlocked()?.everyMs ?? left));
    pingIfDue();
  }
}
