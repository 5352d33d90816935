// A blocking sleep for the synchronous hook runner (wait_for_*, spinningfifo).
const cell = new Int32Array(new SharedArrayBuffer(4));

export function sleepMs(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
