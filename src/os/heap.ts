// A long-lived supervisor (master, emperor) allocates most of what it ever
// will while it starts: config, hooks, sockets, the first workers. V8 keeps
// the young generation as large as that burst made it and the garbage of the
// startup code until a GC it has no reason to run. Once the startup settled,
// one low-memory GC (V8's LowMemoryNotification, through the addon) and a
// malloc_trim give ~2 MiB of the master's ~9 MiB of private memory back
// (bench/README.md).
import { native } from './native';

/** How long after the startup (or a reload) settled: the last workers'
 * messages and the first stats are in. */
const SETTLE_MS = 1000;

let timer: NodeJS.Timeout | undefined;

/** A low-memory GC in SETTLE_MS (once, however often asked meanwhile). */
export function shrinkHeapSoon(): void {
  if (timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    native.lowMemory();
  }, SETTLE_MS);
  timer.unref();
}
