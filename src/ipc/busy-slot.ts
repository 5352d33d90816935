// The busy slot: a few bytes of memory shared by one worker and its master
// (native shmCreate/shmMap). The worker stores the start of its oldest
// request in flight there with a plain memory write, so the master knows it
// even when the handler blocks the event loop at once (harakiri); nothing
// is sent per request. Layout (little endian, the host's):
//   f64 [0]  epoch ms the oldest request in flight started, 0 = idle
//   f64 [1]  length of the request line below
//   u8  [16…] "METHOD /uri" (latin1, cut at LINE_MAX), for harakiri-verbose
import type { BusyInfo } from './worker';

export const SLOT_BYTES = 512;
const LINE_AT = 16;
const LINE_MAX = SLOT_BYTES - LINE_AT;

export interface BusySlot {
  f64: Float64Array;
  bytes: Buffer;
}

/** Views over the shared region. */
export function slotViews(buf: ArrayBuffer): BusySlot {
  return { f64: new Float64Array(buf, 0, 2), bytes: Buffer.from(buf, LINE_AT, LINE_MAX) };
}

/** Worker: the oldest request in flight is now `line`, started at `since`
 * (0 = none). The line is written before the time the master acts on. */
export function markBusy(s: BusySlot, since: number, line?: string): void {
  if (line !== undefined) s.f64[1] = s.bytes.write(line, 0, LINE_MAX, 'latin1');
  s.f64[0] = since;
}

/** Master: what the worker is busy with, or null. */
export function readBusy(s: BusySlot): BusyInfo | null {
  const since = s.f64[0]!;
  if (!since) return null;
  const n = Math.min(s.f64[1]!, LINE_MAX);
  return { since, request: n > 0 ? s.bytes.toString('latin1', 0, n) : '?' };
}
