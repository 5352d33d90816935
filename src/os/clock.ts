// A monotonic clock in milliseconds with sub-millisecond precision, on an
// epoch base: what `performance.timeOrigin + performance.now()` gives,
// without loading node:perf_hooks (its ten internal modules cost every
// worker start ~1.2 ms of CPU; process.hrtime() is part of Node's boot and
// costs ~10 ns more a call than performance.now()).

function hrMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

const BASE_EPOCH = Date.now();
const BASE_HR = hrMs();

/** Monotonic ms since this module loaded. */
export function monoMs(): number {
  return hrMs() - BASE_HR;
}

/** Epoch ms (sub-ms precision) that moves with the monotonic clock, not with clock steps. */
export function epochMs(): number {
  return BASE_EPOCH + monoMs();
}
