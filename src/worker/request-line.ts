// uWSGI's request log line, written byte by byte into a Buffer:
//   [pid: P|worker: W|req: N] ADDR [DATE] METHOD URI => generated B bytes in M msecs (PROTO S)
// Building the line as a string cost more than the line's worth: a string
// per field and per concatenation, then the whole batch flattened and
// encoded again (bench/README.md, request log). Here ASCII goes in one char
// at a time and numbers digit by digit: no allocation per line; a string
// that is not ASCII (an app may rewrite req.url) goes through Buffer#write.

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

/** One line at `o`; returns the offset after it. `prefix` is "[pid: P|worker: W|req: ". */
export function putLine(b: Buffer, o: number, prefix: string, req: number, addr: string, date: string, method: string, uri: string, bytes: number, msecs: number, major: number, minor: number, status: number): number {
  o = putStr(b, o, prefix);
  o = putUint(b, o, req);
  o = putStr(b, o, '] ');
  o = putStr(b, o, addr);
  o = putStr(b, o, ' [');
  o = putStr(b, o, date);
  o = putStr(b, o, '] ');
  o = putStr(b, o, method);
  b[o++] = 32;
  o = putStr(b, o, uri);
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
  return o;
}
