// uWSGI's request log line, written byte by byte into a Buffer:
//   [pid: P|worker: W|req: N] ADDR [DATE] METHOD URI => generated B bytes in M msecs (PROTO S)
// Building the line as a string cost more than the line's worth: a string
// per field and per concatenation, then the whole batch flattened and
// encoded again (bench/README.md, request log). Here ASCII goes in one char
// at a time and numbers digit by digit: no allocation per line; a string
// that is not ASCII (an app may rewrite req.url) goes through Buffer#write.
// What repeats from the line before is copied from it.

/** Room a line needs at most, given its variable strings. */
export function lineRoom(addr: string, method: string, uri: string): number {
  return 160 + 3 * (addr.length + method.length + uri.length);
}

/** Writes `s` at `o`; returns the offset after it. */
export function putStr(b: Buffer, o: number, s: string): number {
  const n = s.length;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c > 127) return o - k + b.write(s, o - k, 'utf8');
    b[o++] = c;
  }
  return o;
}

const digits = new Uint8Array(20);

/** Writes a non-negative integer at `o`; returns the offset after it. */
export function putUint(b: Buffer, o: number, v: number): number {
  if (!(v > 0)) v = 0;
  if (v < 10) {
    b[o] = 48 + v;
    return o + 1;
  }
  let n = 0;
  while (v >= 1) {
    const q = Math.floor(v / 10);
    digits[n++] = 48 + (v - q * 10);
    v = q;
  }
  while (n > 0) b[o++] = digits[--n]!;
  return o;
}

// Where the previous line of the same buffer has its repeated parts: the
// prefix, the middle (address, date, method: the same for a client's
// requests within a second) and the tail (size, time, protocol, status:
// often the same response again). A copy within the buffer costs a fraction
// of writing them again byte by byte.
const prev = { buf: null as Buffer | null, start: 0, prefixEnd: 0, prefix: '', midStart: 0, midEnd: 0, addr: '', date: '', method: '', tailStart: 0, end: 0, bytes: -1, msecs: -1, version: -1, status: -1 };

/** Copies `b[from, to)` to `o`; returns the offset after it. */
function copyPart(b: Buffer, o: number, from: number, to: number): number {
  b.copyWithin(o, from, to);
  return o + to - from;
}

/** One line at `o`; returns the offset after it. `prefix` is "[pid: P|worker: W|req: ". */
export function putLine(b: Buffer, o: number, prefix: string, req: number, addr: string, date: string, method: string, uri: string, bytes: number, msecs: number, major: number, minor: number, status: number): number {
  const p = prev;
  const same = p.buf === b;
  const start = o;
  if (same && p.prefix === prefix) o = copyPart(b, o, p.start, p.prefixEnd);
  else o = putStr(b, o, prefix);
  const prefixEnd = o;
  o = putUint(b, o, req);
  const midStart = o;
  if (same && p.addr === addr && p.date === date && p.method === method) o = copyPart(b, o, p.midStart, p.midEnd);
  else {
    o = putStr(b, o, '] ');
    o = putStr(b, o, addr);
    o = putStr(b, o, ' [');
    o = putStr(b, o, date);
    o = putStr(b, o, '] ');
    o = putStr(b, o, method);
    b[o++] = 32;
  }
  const midEnd = o;
  o = putStr(b, o, uri);
  const tailStart = o;
  const version = major * 1000 + minor;
  if (same && p.bytes === bytes && p.msecs === msecs && p.version === version && p.status === status) o = copyPart(b, o, p.tailStart, p.end);
  else {
    o = putStr(b, o, ' => generated ');
    o = putUint(b, o, bytes);
    o = putStr(b, o, ' bytes in ');
    o = putUint(b, o, msecs);
    o = putStr(b, o, ' msecs (HTTP/');
    o = putUint(b, o, major);
    b[o++] = 46; // .
    o = putUint(b, o, minor);
    b[o++] = 32;
    o = putUint(b, o, status);
    b[o++] = 41; // )
    b[o++] = 10; // \n
  }
  p.buf = b;
  p.start = start;
  p.prefixEnd = prefixEnd;
  p.prefix = prefix;
  p.midStart = midStart;
  p.midEnd = midEnd;
  p.addr = addr;
  p.date = date;
  p.method = method;
  p.tailStart = tailStart;
  p.end = o;
  p.bytes = bytes;
  p.msecs = msecs;
  p.version = version;
  p.status = status;
  return o;
}

/** Forgets the previous line: call before writing into a fresh (or reused) buffer. */
export function newBuffer(): void {
  prev.buf = null;
}
