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

/** Full GCs that age bytecode before the low-memory one: one more than
 * V8's --bytecode-old-age (5), so that the code the startup ran once is
 * dropped (native/src/heap.cc). ~6 ms each on a master's ~5 MiB heap, once
 * per start or reload; what the master runs later is compiled again from
 * the source (the bundle's, held anyway) when first called. */
const AGING_GCS = 6;

let timer: NodeJS.Timeout | undefined;
let aging = 0;

/** A low-memory GC in SETTLE_MS (once, however often asked meanwhile);
 * `dropStartupCode`: the startup is over, its code may go too (a master's
 * or an emperor's ready point, not its periodic GCs: its respawn path would
 * be compiled again every time). */
export function shrinkHeapSoon(dropStartupCode = false): void {
  if (dropStartupCode) aging = AGING_GCS;
  if (timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    native.lowMemory(aging);
    aging = 0;
  }, SETTLE_MS);
  timer.unref();
}
