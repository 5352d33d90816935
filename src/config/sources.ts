// Reading a config source or an @(...) value by scheme: a plain path,
// `exec://cmd` (its stdout), `fd://N`, `-` (stdin), `data://TEXT`. Every
// read is bounded: /dev/zero, a FIFO or a chatty command stops at `limit`.
import * as fs from 'node:fs';

/** Thrown (as is) when a source is larger than the bytes it may use. */
export class TooLarge extends Error {
  constructor(readonly limit: number) {
    super(`larger than ${limit} bytes`);
  }
}

/** The text behind `spec`, at most `limit` bytes; throws the fs/child error as is. */
export function readSource(spec: string, limit: number): string {
  if (spec.startsWith('exec://')) return readCommand(spec.slice(7), limit);
  if (spec.startsWith('data://')) return fits(spec.slice(7), limit);
  if (spec.startsWith('fd://')) return readFd(Number(spec.slice(5)), limit);
  if (spec === '-') return readFd(0, limit);
  const file = spec.startsWith('file://') ? spec.slice(7) : spec;
  const fd = fs.openSync(file, 'r');
  try {
    return readFd(fd, limit);
  } finally {
    fs.closeSync(fd);
  }
}

function fits(text: string, limit: number): string {
  if (Buffer.byteLength(text) > limit) throw new TooLarge(limit);
  return text;
}

function readCommand(cmd: string, limit: number): string {
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  try {
    return execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: limit });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOBUFS') throw new TooLarge(limit);
    throw e;
  }
}

// read(2) until EOF or one byte past the limit (works for /dev/zero and pipes)
function readFd(fd: number, limit: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    total += n;
    if (total > limit) throw new TooLarge(limit);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** Whether `spec` names a file on disk (magic variables like %d apply). */
export function isPlainPath(spec: string): boolean {
  return !/^[a-z]+:\/\//.test(spec) && spec !== '-';
}
